"""Round trips through the ABI model on generated types and values: store → load,
lower_flat → lift_flat and lower_flat_values → lift_flat_values, in every string encoding,
with a bump realloc; and the realloc log's invariants."""
from __future__ import annotations

import random

import pytest

from itfuzz.abi import BumpRealloc, Context
from itfuzz.abi.flat import lift_flat, lift_flat_values, lower_flat, lower_flat_values
from itfuzz.abi.layout import alignment, elem_size, flatten_types
from itfuzz.abi.load import load
from itfuzz.abi.store import store
from itfuzz.generators.typegen import TypeGen
from itfuzz.generators.unstructured import Unstructured
from itfuzz.generators.valuegen import ValueGen
from itfuzz.model.values import diff

ENCODINGS = ("utf8", "utf16", "latin1+utf16")
BASE = 64


def cases(n: int, seed: int):
    rng = random.Random(seed)
    for _ in range(n):
        t = TypeGen(Unstructured(rng.randbytes(rng.choice((16, 64, 256)))), fuel=200).gen()
        v = ValueGen(Unstructured(rng.randbytes(rng.choice((64, 512, 2048)))), fuel=1500).gen(t)
        yield t, v, ENCODINGS[rng.randrange(3)]


def fresh(encoding: str) -> Context:
    mem = bytearray(65536)
    return Context(mem, encoding, BumpRealloc(mem, BASE))


def check_log(cx: Context) -> None:
    for c in cx.realloc_log:
        assert c.result % c.align == 0 and c.result + c.new_size <= len(cx.memory)


def same(t, expected, actual) -> None:
    d = diff(t, expected, actual)
    assert d is None, str(d)


@pytest.mark.parametrize("seed", range(4))
def test_store_then_load(seed):
    for t, v, enc in cases(800, seed):
        cx = fresh(enc)
        ptr = -(-BASE // alignment(t)) * alignment(t)
        cx.realloc.top = ptr + elem_size(t)  # type: ignore[union-attr]
        store(cx, v, t, ptr)
        check_log(cx)
        same(t, v, load(cx, ptr, t))


@pytest.mark.parametrize("seed", range(4, 8))
def test_lower_flat_then_lift_flat(seed):
    for t, v, enc in cases(800, seed):
        cx = fresh(enc)
        flat = lower_flat(cx, v, t)
        assert len(flat) == len(flatten_types([t]))
        for x, ft in zip(flat, flatten_types([t])):
            assert 0 <= x < (1 << (32 if ft in ("i32", "f32") else 64)), (x, ft)
        check_log(cx)
        it = iter(flat)
        same(t, v, lift_flat(cx, it, t))
        assert next(it, None) is None


@pytest.mark.parametrize("seed", range(8, 10))
def test_flat_values_spilled_and_out_param(seed):
    rng = random.Random(seed)
    batch = list(cases(900, seed))
    for i in range(0, len(batch) - 3, 3):
        group = batch[i:i + rng.randint(1, 3)]
        ts = [t for t, _, _ in group]
        vs = [v for _, v, _ in group]
        enc = group[0][2]
        for max_flat in (16, 1, 0):
            cx = fresh(enc)
            flat = lower_flat_values(cx, max_flat, vs, ts)
            spilled = len(flatten_types(ts)) > max_flat
            assert len(flat) == (1 if spilled else len(flatten_types(ts)))
            got = lift_flat_values(cx, max_flat, flat, ts)
            for t, v, g in zip(ts, vs, got):
                same(t, v, g)
        # results through a retptr (canon lower with a result over MAX_FLAT_RESULTS)
        t, v = ts[0], vs[0]
        if len(flatten_types([t])) > 1:
            cx = fresh(enc)
            retptr = -(-BASE // alignment(t)) * alignment(t)
            cx.realloc.top = retptr + elem_size(t)  # type: ignore[union-attr]
            assert lower_flat_values(cx, 1, [v], [t], out_param=retptr) == []
            same(t, v, lift_flat_values(cx, 1, [retptr], [t])[0])


def test_transcoded_strings_between_contexts():
    """A value lifted with hints from one encoding and lowered into another arrives intact."""
    for t, v, enc in cases(600, 11):
        a = fresh(enc)
        flat = lower_flat(a, v, t)
        a.keep_string_hints = True
        hinted = lift_flat(a, iter(flat), t)
        for dst in ENCODINGS:
            b = fresh(dst)
            flat_b = lower_flat(b, hinted, t)
            check_log(b)
            same(t, v, lift_flat(b, iter(flat_b), t))
