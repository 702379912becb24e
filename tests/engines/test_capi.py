"""The C-API lane's pieces: its value encoding read back exactly, its layout check."""
from __future__ import annotations

import hashlib

import pytest

from itfuzz.engines.capi import encoding, lane, layout
from itfuzz.generators.signatures import decode_roundtrip
from itfuzz.model.types import PRIMS, Enum, Flags, List, Record, Variant
from itfuzz.model.values import diff


def test_the_lane_runs_here():
    lib, note = lane.load()
    assert lib is not None, note


@pytest.mark.parametrize("seed", range(200))
def test_dumps_read_back_exactly(seed):
    """The dump format is the encoding: decode(encode(v)) is v under strict equality."""
    data = hashlib.sha256(str(seed).encode()).digest() * 8
    tc = decode_roundtrip(data)
    for call in tc.calls:
        for (_, t), v in zip(tc.sig.params, call.args):
            if not _plain(t):
                continue
            (back,) = encoding.decode([t], encoding.encode(t, v))
            assert diff(t, v, back) is None


def _plain(t) -> bool:
    from itfuzz.model.types import walk
    return all(n.kind in encoding.KIND for n in walk(t))


def test_foreign_shapes_read_as_odd():
    rec = Record((("a", PRIMS["u8"]),))
    other = Record((("b", PRIMS["u8"]),))
    (v,) = encoding.decode([rec], encoding.encode(other, (1,)))
    assert isinstance(v, encoding.Odd) and diff(rec, (1,), v) is not None
    (v,) = encoding.decode([PRIMS["u32"]], encoding.encode(PRIMS["s32"], 1))
    assert isinstance(v, encoding.Odd)
    with pytest.raises(ValueError):
        encoding.decode([PRIMS["string"]], encoding.encode(PRIMS["string"], "abc")[:-1])


def test_encoding_is_compact_and_names_cases():
    t = Variant((("a", None), ("b", List(PRIMS["u8"]))))
    assert encoding.encode(t, ("b", [7])) == bytes([16, 1, 0, 0, 0]) + b"b" + bytes(
        [1, 13, 1, 0, 0, 0, 2, 7])
    assert encoding.encode(Enum(("x", "y")), "y") == bytes([17, 1, 0, 0, 0]) + b"y"
    flags = Flags(("p", "q", "r"))
    assert encoding.encode(flags, frozenset({"r", "p"})) == (
        bytes([20, 2, 0, 0, 0, 1, 0, 0, 0]) + b"p" + bytes([1, 0, 0, 0]) + b"r")


def test_layout_mismatch_is_refused():
    from itfuzz.engines.capi._capi_lane import ffi, lib
    planted = dict(layout.python_layout(), **{"val.size": 40})
    got, note = lane.open_library(ffi, lib, planted)
    assert got is None
    assert "val.size: lane 32 vs wasmtime-py 40" in note and "C-API lane off" in note
    assert lane.open_library(ffi, lib)[0] is not None
