"""The wasmtime-py adapter (engines/wasmtime_values.py): Python classes and tagging, ambiguity
classes, conversions both ways, shape errors, leaves kept for the strict comparison."""
from __future__ import annotations

import random

import pytest
from wasmtime.component import Record as WRecord
from wasmtime.component import Variant as WVariant

from itfuzz.engines.wasmtime_values import (
    ShapeError,
    ambiguities,
    ambiguity,
    from_wasmtime,
    is_tagged,
    py_classes,
    to_wasmtime,
)
from itfuzz.generators.typegen import TypeGen
from itfuzz.generators.unstructured import Unstructured
from itfuzz.generators.valuegen import ValueGen
from itfuzz.model.types import PRIMS, Enum, Flags, List, Option, Record, Result, Tuple, Variant, walk
from itfuzz.model.values import equal

P = PRIMS
u8, u32, s8, s64, f64 = (P[n] for n in ("u8", "u32", "s8", "s64", "f64"))
bool_, string = P["bool"], P["string"]


def rec(**fields):
    return Record(tuple(fields.items()))


# -- the wasmtime-py adapter ------------------------------------------------------------------

def test_py_classes_and_tagging():
    assert py_classes(List(u8)) == {bytes} and py_classes(List(s8)) == {list}
    assert py_classes(rec(a=u8)) == {WRecord}
    assert py_classes(Flags(("a",))) == {set} and py_classes(Enum(("a",))) == {str}
    assert not is_tagged(Option(u32))
    assert is_tagged(Option(Option(u32)))           # none vs some(none): both `object`
    assert is_tagged(Variant((("a", u32), ("b", s64))))
    assert not is_tagged(Result(u32, string))
    assert is_tagged(Result(None, None))
    assert py_classes(Option(u32)) == {object, int}


def test_ambiguity_classes():
    assert ambiguity(Result(u32, bool_)) == "bool-int"
    assert ambiguity(Result(bool_, u32)) == ""
    assert ambiguity(Result(Option(u8), string)) == "object"
    assert ambiguity(Option(u8)) == "" and ambiguity(Enum(("a", "b"))) == ""
    assert ambiguities([List(Result(u32, bool_)), rec(a=Result(Option(u8), string))]) == {
        "bool-int", "object"}


def _unambiguous_random_types(n, seed):
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        t = TypeGen(Unstructured(rng.randbytes(rng.choice((4, 16, 64)))), fuel=60).gen()
        if not ambiguities([t]):
            out.append(t)
    return out


def test_adapter_round_trip_without_wasmtime():
    """from_wasmtime(to_wasmtime(v)) == v for every unambiguous type."""
    rng = random.Random(0xAD)
    kinds = set()
    for t in _unambiguous_random_types(800, 0xAD):
        kinds |= {n.kind for n in walk(t)}
        v = ValueGen(Unstructured(rng.randbytes(rng.choice((0, 50, 500))))).gen(t)
        w = to_wasmtime(t)(v)
        back = from_wasmtime(t)(w)
        assert equal(t, v, back), (t, v, w, back)
    assert {"record", "variant", "option", "result", "flags", "list", "tuple", "enum"} <= kinds


def test_adapter_conventions():
    assert to_wasmtime(List(u8))([1, 255]) == b"\x01\xff"
    assert from_wasmtime(List(u8))(b"\x01\xff") == [1, 255]
    r = to_wasmtime(rec(a=u8, **{"b-c": string}))((1, "x"))
    assert isinstance(r, WRecord) and vars(r) == {"a": 1, "b-c": "x"}
    assert to_wasmtime(Flags(("a", "b")))(frozenset({"a"})) == {"a"}
    assert to_wasmtime(Option(u8))(("none", None)) is None
    assert to_wasmtime(Option(u8))(("some", 3)) == 3
    w = to_wasmtime(Option(Option(u8)))(("some", ("none", None)))
    assert isinstance(w, WVariant) and w.tag == "some" and w.payload is None
    assert from_wasmtime(Option(Option(u8)))(WVariant("some", 4)) == ("some", ("some", 4))
    assert from_wasmtime(Result(u32, string))("e") == ("err", "e")


def test_record_field_sets_compared_both_ways():
    t = rec(a=u8, b=string)
    conv = from_wasmtime(t)
    ok = WRecord()
    ok.a, ok.b = 1, "x"
    assert conv(ok) == (1, "x")
    extra = WRecord()
    extra.a, extra.b, extra.c = 1, "x", 2
    with pytest.raises(ShapeError, match="record fields"):
        conv(extra)
    missing = WRecord()
    missing.a = 1
    with pytest.raises(ShapeError, match="record fields"):
        conv(missing)


@pytest.mark.parametrize("t,bad", [
    (List(u8), [1, 2]), (List(u32), (1, 2)), (List(u32), b"\x01"), (Tuple((u8, u8)), [1, 2]),
    (Tuple((u8, u8)), (1, 2, 3)), (Flags(("a",)), frozenset({"a"})), (rec(a=u8), (1,)),
    (Option(Option(u8)), 3), (Option(Option(u8)), WVariant("maybe", None)),
    (Result(None, None), WVariant("ok", 1)), (Result(u32, string), 1.5),
])
def test_adapter_rejects_wrong_shapes(t, bad):
    with pytest.raises(ShapeError):
        from_wasmtime(t)(bad)


def test_adapter_keeps_leaves_for_strict_comparison():
    # the adapter converts structure only: a bool where an int was expected stays a bool
    assert from_wasmtime(u32)(True) is True
    assert not equal(u32, 1, from_wasmtime(u32)(True))
    assert from_wasmtime(Tuple((f64,)))((1,)) == (1,)
    assert not equal(Tuple((f64,)), (1.0,), from_wasmtime(Tuple((f64,)))((1,)))
