"""The value model: generation and the one strict equality (the wasmtime-py adapter is in
tests/engines/test_wasmtime_values.py)."""
from __future__ import annotations

import math
import random
import struct

import pytest

from itfuzz.generators.typegen import TypeGen
from itfuzz.generators.unstructured import Unstructured
from itfuzz.generators.valuegen import CHAR_EDGES, F32_EDGE_BITS, ValueGen, scalar
from itfuzz.model.types import PRIMS, Enum, Flags, List, Option, Record, Result, Tuple, Variant
from itfuzz.model.values import diff, equal, f32_bits_to_float, f64_bits_to_float

P = PRIMS
u8, u32, s8, s64, f32, f64 = (P[n] for n in ("u8", "u32", "s8", "s64", "f32", "f64"))
bool_, char, string = P["bool"], P["char"], P["string"]
NAN = float("nan")
OTHER_NAN = f64_bits_to_float(0xFFF8000000000001)  # negative, non-canonical payload


def rec(**fields):
    return Record(tuple(fields.items()))


# -- strict equality ----------------------------------------------------------------------------

@pytest.mark.parametrize("t,a,b", [
    (bool_, True, 1), (bool_, False, 0), (u32, 1, True), (u32, 0, False),
    (f64, -0.0, 0.0), (f64, 0.0, -0.0), (f32, -0.0, 0.0), (f64, 1.0, 1), (f32, 1.0, 1),
    (f64, NAN, 0.0), (f64, 1.0, NAN), (string, "a", b"a"), (char, "a", "b"),
    (List(u8), [1, 2], (1, 2)), (List(u8), [1, 2], [1, 2, 3]), (List(u8), [1], b"\x01"),
    (Tuple((u8, u8)), (1, 2), [1, 2]), (Tuple((u8, u8)), (1, 2), (1,)),
    (rec(a=u8, b=bool_), (1, True), (1, 1)),
    (Flags(("a", "b")), frozenset({"a"}), {"a"}), (Flags(("a", "b")), frozenset({"a"}),
                                                  frozenset({"a", "b"})),
    (Option(u8), ("some", 0), ("none", None)), (Option(u8), ("none", None), ("some", None)),
    (Option(u8), ("some", 1), ["some", 1]), (Option(u8), ("some", 1), ("some", True)),
    (Result(None, None), ("ok", None), ("err", None)),
    (Result(None, None), ("ok", None), ("ok", 0)),
    (Enum(("a", "b")), "a", "b"), (Enum(("a", "b")), "a", ("a", None)),
    (List(f64), [-0.0], [0.0]), (s64, -1, -1.0),
])
def test_strict_inequality(t, a, b):
    # `a` is the expected (model) value; `b` is what came back
    assert not equal(t, a, b)
    assert diff(t, a, b) is not None


@pytest.mark.parametrize("t,a,b", [
    (f64, NAN, NAN), (f64, NAN, OTHER_NAN), (f64, NAN, -NAN), (f32, NAN, NAN),
    (f64, -0.0, -0.0), (f64, float("inf"), float("inf")), (bool_, True, True),
    (u32, 7, 7), (List(f64), [NAN, -0.0], [OTHER_NAN, -0.0]), (Option(f32), ("some", NAN),
                                                                 ("some", -NAN)),
    (rec(a=u8, b=Flags(("x", "y"))), (1, frozenset({"x"})), (1, frozenset({"x"}))),
    (Result(None, string), ("ok", None), ("ok", None)), (Enum(("a",)), "a", "a"),
    (List(u8), [], []),
])
def test_strict_equality(t, a, b):
    assert equal(t, a, b)
    assert diff(t, a, b) is None


def test_mismatch_reports_path_and_value_free_detail():
    t = rec(a=u8, b=List(Variant((("x", u32), ("y", string)))))
    m = diff(t, (1, [("x", 1), ("y", "s")]), (1, [("x", 1), ("x", 2)]))
    assert m.path == "value.b[1]"
    assert m.detail == "variant:case:tuple->tuple:str->int"
    assert "'s'" not in m.detail
    assert "expected ('y', 's'), got ('x', 2)" in str(m)
    m = diff(t, (1, []), (1, [("x", 1)]))
    assert m.detail == "list:length:list->list" and m.path == "value.b"
    m = diff(Option(f64), ("some", 0.0), ("some", -0.0))
    assert m.path == "value<some>" and m.detail == "f64:value:float->float"
    assert diff(bool_, True, 1).detail == "bool:value:bool->int"


# -- generation -----------------------------------------------------------------------------

def test_generated_values_conform(conforms):
    rng = random.Random(0x7A1)
    checked = 0
    for _ in range(1200):
        t = TypeGen(Unstructured(rng.randbytes(rng.choice((4, 16, 64)))), fuel=60).gen()
        vg = ValueGen(Unstructured(rng.randbytes(rng.choice((0, 3, 50, 500, 3000)))))
        v = vg.gen(t)
        assert conforms(t, v), (t, v)
        assert equal(t, v, v)
        checked += 1
    assert checked == 1200


def test_generated_f32_are_exactly_representable():
    rng = random.Random(5)
    for _ in range(3000):
        v = ValueGen(Unstructured(rng.randbytes(5))).gen(f32)
        if not math.isnan(v):
            assert struct.unpack("<f", struct.pack("<f", v))[0] == v


def test_generation_reaches_edges():
    rng = random.Random(6)
    ints, floats, chars, strings = set(), set(), set(), set()
    for _ in range(3000):
        ints.add(ValueGen(Unstructured(rng.randbytes(3))).gen(s8))
        floats.add(struct.pack("<f", ValueGen(Unstructured(rng.randbytes(5))).gen(f32)))
        chars.add(ValueGen(Unstructured(rng.randbytes(5))).gen(char))
        strings.add(ValueGen(Unstructured(rng.randbytes(40))).gen(string))
    assert {-128, 127, 0, 1, -1, -127, 126} <= ints
    assert struct.pack("<f", -0.0) in floats and struct.pack("<f", float("inf")) in floats
    assert any(math.isnan(struct.unpack("<f", b)[0]) for b in floats)
    assert set(CHAR_EDGES) <= chars
    assert "" in strings
    assert any(len(s) >= 300 for s in strings)  # the "long" class
    assert any(any(ord(c) > 0xFFFF for c in s) for s in strings)


def test_scalar_avoids_surrogates():
    for cp in (0xD800, 0xDABC, 0xDFFF, 0x110000 + 0xD800, 0xFFFFFFFF):
        c = scalar(cp)
        assert not 0xD800 <= ord(c) <= 0xDFFF and ord(c) < 0x110000
    assert scalar(0x41) == "A"


def test_float_bit_helpers():
    for bits in F32_EDGE_BITS:
        v = f32_bits_to_float(bits)
        if not math.isnan(v):
            assert struct.unpack("<I", struct.pack("<f", v))[0] == bits
    assert math.copysign(1.0, f64_bits_to_float(0x8000000000000000)) == -1.0


def test_value_gen_empty_input_is_total():
    t = rec(a=List(string), b=Variant((("x", None), ("y", f64))), c=Flags(("p",)), d=char)
    v = ValueGen(Unstructured(b"")).gen(t)
    assert v == ([], ("x", None), frozenset(), "a")
