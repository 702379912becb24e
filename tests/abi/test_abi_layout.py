"""Layout and flattening of the ABI model: vectors worked out by hand from CanonicalABI.md
§Alignment, §Element Size and §Flattening, and agreement with the type model on generated types."""
from __future__ import annotations

import random

import pytest

from itfuzz.abi import layout
from itfuzz.abi.layout import alignment, discriminant_type, elem_size, flatten_functype, flatten_type, join
from itfuzz.generators.typegen import TypeGen
from itfuzz.generators.unstructured import Unstructured
from itfuzz.model.types import PRIMS, Enum, Flags, List, Option, Record, Result, Tuple, Variant, walk

u8, u16, u32, u64 = PRIMS["u8"], PRIMS["u16"], PRIMS["u32"], PRIMS["u64"]
f32, f64, string = PRIMS["f32"], PRIMS["f64"], PRIMS["string"]


def rec(*types):
    return Record(tuple((f"f{i}", t) for i, t in enumerate(types)))


# (type, size, align, flat): each derived by applying the spec's rules by hand.
VECTORS = [
    # u8 at 0, u32 at align_to(1,4)=4, u8 at 8 → 9, rounded to 4 → 12
    (rec(u8, u32, PRIMS["u8"]), 12, 4, ["i32", "i32", "i32"]),
    # u8 at 0, u64 at 8 → 16
    (rec(u8, u64), 16, 8, ["i32", "i64"]),
    # disc u8 (1), payload align 1 → offset 1, + 1 → 2
    (Option(u8), 2, 1, ["i32", "i32"]),
    # disc 1, payload offset align_to(1, 8) = 8, + 8 → 16
    (Option(f64), 16, 8, ["i32", "f64"]),
    (Result(None, None), 1, 1, ["i32"]),
    # payloads u32/f32: offset 4, +4 → 8; slot join(i32, f32) = i32
    (Result(u32, f32), 8, 4, ["i32", "i32"]),
    # payload f32/f64: offset 8, +8 → 16; join(f32, f64) = i64
    (Result(f32, f64), 16, 8, ["i32", "i64"]),
    # a: tuple<u32,u32> (8, align 4, [i32,i32]); b: f64 → offset 8, max 8 → 16;
    # slots: join(i32, f64) = i64, then i32
    (Variant((("a", Tuple((u32, u32))), ("b", f64))), 16, 8, ["i32", "i64", "i32"]),
    # option<u8> is (2, 1); outer: offset 1, + 2 → 3
    (Option(Option(u8)), 3, 1, ["i32", "i32", "i32"]),
    (List(u64), 8, 4, ["i32", "i32"]),
    (string, 8, 4, ["i32", "i32"]),
    (Flags(tuple(f"l{i}" for i in range(8))), 1, 1, ["i32"]),
    (Flags(tuple(f"l{i}" for i in range(9))), 2, 2, ["i32"]),
    (Flags(tuple(f"l{i}" for i in range(17))), 4, 4, ["i32"]),
    (Flags(tuple(f"l{i}" for i in range(32))), 4, 4, ["i32"]),
    # 257 cases: u16 discriminant, no payload
    (Enum(tuple(f"c{i}" for i in range(257))), 2, 2, ["i32"]),
    # 256 cases, payload u8: disc u8, offset 1, +1 → 2
    (Variant(tuple((f"c{i}", u8 if i == 255 else None) for i in range(256))), 2, 1, ["i32", "i32"]),
    # 257 cases, payload u8: disc u16, offset 2, +1 → 3, aligned to 2 → 4
    (Variant(tuple((f"c{i}", u8 if i == 0 else None) for i in range(257))), 4, 2, ["i32", "i32"]),
    # tuple<u16, string>: u16 at 0, string at 4 → 12
    (Tuple((u16, string)), 12, 4, ["i32", "i32", "i32"]),
    # variant{a(u64), b(f32), c(tuple<f32,f32>)}: slots join(i64,f32,f32)=i64, then f32
    (Variant((("a", u64), ("b", f32), ("c", Tuple((f32, f32))))), 16, 8, ["i32", "i64", "f32"]),
]


@pytest.mark.parametrize("t,size,align,flat", VECTORS)
def test_layout_vectors(t, size, align, flat):
    assert elem_size(t) == size
    assert alignment(t) == align
    assert flatten_type(t) == flat


@pytest.mark.parametrize("n,disc", [(1, "u8"), (2, "u8"), (255, "u8"), (256, "u8"), (257, "u16"),
                                    (65535, "u16"), (65536, "u16"), (65537, "u32"),
                                    ((1 << 24) + 1, "u32"), ((1 << 32) - 1, "u32")])
def test_discriminant_type(n, disc):
    assert discriminant_type(n) == disc


@pytest.mark.parametrize("a,b,joined", [
    ("i32", "i32", "i32"), ("f32", "f32", "f32"), ("i64", "i64", "i64"), ("f64", "f64", "f64"),
    ("i32", "f32", "i32"), ("f32", "i32", "i32"), ("i32", "i64", "i64"), ("i32", "f64", "i64"),
    ("f32", "f64", "i64"), ("f32", "i64", "i64"), ("i64", "f64", "i64"), ("f64", "i32", "i64")])
def test_join(a, b, joined):
    assert join(a, b) == joined


def test_flatten_functype():
    sixteen = [u32] * 16
    assert flatten_functype(sixteen, None, "lift") == (["i32"] * 16, [])
    assert flatten_functype(sixteen + [u8], u32, "lift") == (["i32"], ["i32"])
    assert flatten_functype([u64], string, "lift") == (["i64"], ["i32"])
    assert flatten_functype([u64], string, "lower") == (["i64", "i32"], [])
    assert flatten_functype(sixteen + [u8], string, "lower") == (["i32", "i32"], [])
    assert flatten_functype([], f64, "lower") == ([], ["f64"])
    assert flatten_functype([], [f64], "lift") == ([], ["f64"])


def generated_types(n: int, seed: int):
    rng = random.Random(seed)
    for _ in range(n):
        data = rng.randbytes(rng.choice((8, 32, 128, 512)))
        yield TypeGen(Unstructured(data), fuel=200).gen()


def test_layout_agrees_with_type_model():
    checked = 0
    for root in generated_types(1500, 1):
        for t in walk(root):
            assert alignment(t) == t.align, t
            assert elem_size(t) == t.size, t
            assert tuple(flatten_type(t)) == t.flat, t
            if isinstance(t, Record):
                assert layout.field_offsets(t) == t.offsets
            if hasattr(t, "payload_offset"):
                assert layout.payload_offset(t) == t.payload_offset
            checked += 1
    assert checked > 5000
