"""The type model: canonical-ABI size / alignment / flattening, component text and WIT."""
from __future__ import annotations

import functools
import random

import pytest

from itfuzz.generators.typegen import TypeGen
from itfuzz.generators.unstructured import Unstructured
from itfuzz.model.case import Signature
from itfuzz.model.types import (
    PRIMS,
    Enum,
    Flags,
    List,
    Names,
    Option,
    Record,
    Result,
    Tuple,
    Variant,
    discriminant_size,
    join,
    kind_path,
    walk,
    wit_name,
)

u8, u16, u32, u64, s8, f32, f64, string, bool_, char = (
    PRIMS[n] for n in ("u8", "u16", "u32", "u64", "s8", "f32", "f64", "string", "bool", "char"))


def rec(**fields):
    return Record(tuple(fields.items()))


def var(**cases):
    return Variant(tuple(cases.items()))


# Sizes, alignments and flattenings worked out from CanonicalABI.md (WebAssembly/component-model,
# design/mvp/): §Alignment, §Element Size, §Flattening
CHECKED = [
    ("record{a:u8,b:u32,c:u8}", rec(a=u8, b=u32, c=u8), 12, 4, ("i32",) * 3),
    ("record{a:u8,b:u64}", rec(a=u8, b=u64), 16, 8, ("i32", "i64")),
    ("option<u8>", Option(u8), 2, 1, ("i32", "i32")),
    ("option<f64>", Option(f64), 16, 8, ("i32", "f64")),
    ("result", Result(None, None), 1, 1, ("i32",)),
    ("result<u32,f32>", Result(u32, f32), 8, 4, ("i32", "i32")),
    ("result<f32,f64>", Result(f32, f64), 16, 8, ("i32", "i64")),
    ("variant{a(tuple<u32,u32>),b(f64)}", var(a=Tuple((u32, u32)), b=f64), 16, 8,
     ("i32", "i64", "i32")),
    ("option<option<u8>>", Option(Option(u8)), 3, 1, ("i32",) * 3),
]


@pytest.mark.parametrize("name,t,size,align,flat", CHECKED, ids=[c[0] for c in CHECKED])
def test_checked_examples(name, t, size, align, flat):
    assert (t.size, t.align, t.flat) == (size, align, flat)


@pytest.mark.parametrize("name,size,align,flat", [
    ("bool", 1, 1, ("i32",)), ("s8", 1, 1, ("i32",)), ("u8", 1, 1, ("i32",)),
    ("s16", 2, 2, ("i32",)), ("u16", 2, 2, ("i32",)), ("s32", 4, 4, ("i32",)),
    ("u32", 4, 4, ("i32",)), ("char", 4, 4, ("i32",)), ("s64", 8, 8, ("i64",)),
    ("u64", 8, 8, ("i64",)), ("f32", 4, 4, ("f32",)), ("f64", 8, 8, ("f64",)),
    ("string", 8, 4, ("i32", "i32")),
])
def test_primitive_layout(name, size, align, flat):
    t = PRIMS[name]
    assert (t.size, t.align, t.flat, t.kind) == (size, align, flat, name)


def test_list_layout_ignores_element():
    for elem in (u8, f64, rec(a=u64, b=string), List(List(u8))):
        assert (List(elem).size, List(elem).align, List(elem).flat) == (8, 4, ("i32", "i32"))


@pytest.mark.parametrize("n,disc", [(1, 1), (2, 1), (255, 1), (256, 1), (257, 2),
                                    (65536, 2), (65537, 4)])
def test_discriminant_widths(n, disc):
    assert discriminant_size(n) == disc
    if n <= 257:
        e = Enum(tuple(f"c{i}" for i in range(n)))
        assert (e.size, e.align, e.flat) == (disc, disc, ("i32",))
        v = Variant(tuple((f"c{i}", None) for i in range(n - 1)) + (("last", u8),))
        assert v.payload_offset == disc
        assert v.size == disc + 1 if disc == 1 else v.size == 4
        assert v.align == disc
        assert v.flat == ("i32", "i32")


def test_variant_257_cases_with_u64_payload():
    v = Variant(tuple((f"c{i}", None) for i in range(256)) + (("big", u64),))
    assert (v.size, v.align, v.payload_offset, v.flat) == (16, 8, 8, ("i32", "i64"))


@pytest.mark.parametrize("n,size", [(1, 1), (8, 1), (9, 2), (16, 2), (17, 4), (32, 4)])
def test_flags_sizes(n, size):
    f = Flags(tuple(f"f{i}" for i in range(n)))
    assert (f.size, f.align, f.flat) == (size, size, ("i32",))


def test_join():
    assert join("i32", "i32") == "i32"
    assert join("f32", "i32") == join("i32", "f32") == "i32"
    for a, b in (("i32", "i64"), ("i32", "f64"), ("f32", "f64"), ("f32", "i64"),
                 ("i64", "f64")):
        assert join(a, b) == join(b, a) == "i64"
    assert join("f64", "f64") == "f64" and join("f32", "f32") == "f32"


def test_record_offsets_and_mixed_alignment():
    r = rec(a=u8, b=u16, c=u64, d=u8, e=f32)
    assert r.offsets == (0, 2, 8, 16, 20)
    assert (r.size, r.align) == (24, 8)
    assert r.flat == ("i32", "i32", "i64", "i32", "f32")
    t = Tuple((u8, string, u8))
    assert (t.size, t.align, t.flat) == (16, 4, ("i32",) * 4)


def test_variant_join_flattening():
    v = var(a=f32, b=u32, c=Tuple((f64, f32)), d=None)
    assert v.flat == ("i32", "i64", "f32")
    assert var(a=None).flat == ("i32",) and var(a=None).size == 1


# -- an independent port of the spec's reference definitions (design/mvp/canonical-abi/
# definitions.py in WebAssembly/component-model): despecialize / alignment / elem_size / flatten

def _despecialize(t):
    if isinstance(t, Tuple):
        return ("record", list(t.elems))
    if isinstance(t, Record):
        return ("record", [ft for _, ft in t.fields])
    if isinstance(t, Enum):
        return ("variant", [None] * len(t.names_))
    if isinstance(t, Option):
        return ("variant", [None, t.elem])
    if isinstance(t, Result):
        return ("variant", [t.ok, t.err])
    if isinstance(t, Variant):
        return ("variant", [p for _, p in t.variant_cases])
    if isinstance(t, Flags):
        return ("flags", len(t.labels))
    if isinstance(t, List):
        return ("list", t.elem)
    return (t.kind, None)


_PRIM = {"bool": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "s32": 4, "u32": 4, "char": 4,
         "s64": 8, "u64": 8, "f32": 4, "f64": 8}


def _disc(n):
    import math
    return {0: 1, 1: 1, 2: 2, 3: 4}[max(0, math.ceil(math.log2(n) / 8) if n > 1 else 0)]


@functools.cache
def ref_align(t):
    k, x = _despecialize(t)
    if k in _PRIM:
        return _PRIM[k]
    if k in ("string", "list"):
        return 4
    if k == "record":
        return max(ref_align(f) for f in x)
    if k == "variant":
        return max([_disc(len(x))] + [ref_align(p) for p in x if p is not None])
    if k == "flags":
        return 1 if x <= 8 else 2 if x <= 16 else 4
    raise AssertionError(k)


def _up(n, a):
    return -(-n // a) * a


@functools.cache
def ref_size(t):
    k, x = _despecialize(t)
    if k in _PRIM:
        return _PRIM[k]
    if k in ("string", "list"):
        return 8
    if k == "record":
        s = 0
        for f in x:
            s = _up(s, ref_align(f)) + ref_size(f)
        return _up(s, ref_align(t))
    if k == "variant":
        s = _disc(len(x))
        s = _up(s, max([1] + [ref_align(p) for p in x if p is not None]))
        s += max([0] + [ref_size(p) for p in x if p is not None])
        return _up(s, ref_align(t))
    if k == "flags":
        return ref_align(t)
    raise AssertionError(k)


@functools.cache
def ref_flat(t):
    k, x = _despecialize(t)
    if k in _PRIM:
        return ("i64" if k in ("s64", "u64") else k if k in ("f32", "f64") else "i32",)
    if k in ("string", "list"):
        return ("i32", "i32")
    if k == "record":
        return tuple(f for ft in x for f in ref_flat(ft))
    if k == "variant":
        flat = []
        for p in x:
            if p is None:
                continue
            for i, ft in enumerate(ref_flat(p)):
                if i < len(flat):
                    a = flat[i]
                    flat[i] = a if a == ft else "i32" if {a, ft} == {"i32", "f32"} else "i64"
                else:
                    flat.append(ft)
        return ("i32",) + tuple(flat)
    if k == "flags":
        return ("i32",)
    raise AssertionError(k)


def test_abi_matches_reference_on_random_types():
    rng = random.Random(0xAB1)
    kinds = set()
    for _ in range(1500):
        t = TypeGen(Unstructured(rng.randbytes(rng.choice((8, 32, 128, 512)))), fuel=200).gen()
        for node in walk(t):
            kinds.add(node.kind)
            assert node.align == ref_align(node), node
            assert node.size == ref_size(node), node
            assert node.flat == ref_flat(node), node
            assert node.size % node.align == 0
    assert {"record", "tuple", "variant", "enum", "option", "result", "flags", "list"} <= kinds


@pytest.mark.parametrize("t", [c[1] for c in CHECKED], ids=[c[0] for c in CHECKED])
def test_reference_agrees_with_checked_table(t):
    # guards the reference port itself against the table of checked examples
    row = next(c for c in CHECKED if c[1] == t)
    assert (ref_size(t), ref_align(t), ref_flat(t)) == row[2:]


# -- structure, names, text --------------------------------------------------------------------

def test_types_are_hashable_values():
    a = rec(x=Option(u8), y=List(string))
    b = rec(x=Option(u8), y=List(string))
    assert a == b and hash(a) == hash(b)
    assert a != rec(x=Option(u8), y=List(char))
    assert Enum(("a", "b")) != Flags(("a", "b"))
    assert {a: 1}[b] == 1


def test_depth_and_has_pointer():
    assert u8.depth == 1 and List(u8).depth == 2 and Option(List(u8)).depth == 3
    assert rec(a=u8, b=Option(Option(u8))).depth == 4
    assert string.has_pointer and List(u8).has_pointer
    assert not rec(a=u8, b=Option(f64)).has_pointer
    assert var(a=None, b=rec(c=string)).has_pointer
    assert not Flags(("a",)).has_pointer and not Enum(("a",)).has_pointer


def test_names_inner_first_and_shared():
    inner = rec(a=u8)
    outer = var(x=inner, y=Flags(("p", "q")))
    names = Names([Option(outer), inner])
    assert [names.ref(t) for t in names.order] == ["t0", "t1", "t2"]
    assert names.order[0] == inner and names.order[2] == outer
    decls = names.component_decls()
    assert decls.index('(type $T0 (record (field "a" u8)))') < decls.index("(type $T2 (variant")
    assert '(import "t2" (type $t2 (eq $T2)))' in decls
    assert '(case "x" $t0)' in decls
    assert Option(outer).comp(names) == "(option $t2)"


def test_component_text_of_anonymous_kinds():
    names = Names([])
    assert Result(None, None).comp(names) == "(result)"
    assert Result(u8, None).comp(names) == "(result u8)"
    assert Result(None, string).comp(names) == "(result (error string))"
    assert Result(u8, f32).comp(names) == "(result u8 (error f32))"
    assert Tuple((u8, List(char))).comp(names) == "(tuple u8 (list char))"


def test_wit_rendering():
    names = Names([])
    assert Result(None, None).wit(names) == "result"
    assert Result(u8, None).wit(names) == "result<u8>"
    assert Result(None, u8).wit(names) == "result<_, u8>"
    assert Result(u8, string).wit(names) == "result<u8, string>"
    assert Option(List(Tuple((u8, char)))).wit(names) == "option<list<tuple<u8, char>>>"
    assert wit_name("record") == "%record" and wit_name("a-b") == "a-b"
    sig = Signature((("x", var(**{"a-0": u8, "b-1": None})),), None, "utf16")
    wit = sig.wit()
    assert "string-encoding=utf16" in wit
    assert "variant t0 {\n  a-0(u8),\n  b-1,\n}" in wit
    assert wit.endswith("f: func(x: t0);")
    kw = Signature((("x", Enum(("enum", "flags"))),), Enum(("enum", "flags")), echo=True)
    assert "  %enum,\n  %flags,\n" in kw.wit()
    assert kw.wit().endswith("f: func(x: t0) -> t0;")


def test_signature_flat_counts():
    sig = Signature(tuple((f"p{i}", u32) for i in range(16)), None)
    assert len(sig.flat_params) == 16 and not sig.spills_params and not sig.uses_retptr
    sig = Signature(tuple((f"p{i}", u32) for i in range(17)), string)
    assert sig.spills_params and sig.uses_retptr
    assert Signature((), u8).flat_results == ("i32",)
    assert not Signature((), u8).uses_retptr
    assert Signature((), None).flat_results == ()
    assert sig.param_tuple == Tuple((u32,) * 17)


def test_kind_path():
    assert kind_path(List(Option(var(a=string)))) == "list>option>variant>string"
    assert kind_path(List(List(List(List(List(u8)))))) == "list>list>list>list"


def test_node_types_and_contains_match_a_walk():
    # the cached `node_types` (and `resources.contains` over it) say what walking the tree says
    from itfuzz.model.resources import AnyHandle, GuestHandle, Handle, contains, has_guest
    from itfuzz.model.types import Map, Prim
    rng = random.Random(0x40DE)
    seen = set()
    for _ in range(600):
        u = Unstructured(rng.randbytes(rng.choice((8, 32, 128))))
        t = TypeGen(u, fuel=60, maps=rng.random() < 0.3, resources=rng.choice((0, 2)),
                    guest=rng.random() < 0.5).gen()
        assert t.node_types == {type(n) for n in walk(t)}
        assert t.node_types is t.node_types  # read once
        for cls in (Handle, GuestHandle, AnyHandle, List, Map, Prim, Variant):
            want = any(isinstance(n, cls) for n in walk(t))
            assert contains(t, cls) == want, (t, cls)
            seen.add((cls.__name__, want))
        assert has_guest(t) == contains(t, GuestHandle)
    assert {("GuestHandle", True), ("Handle", True), ("AnyHandle", False)} <= seen
