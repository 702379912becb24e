"""Hand-derived vectors from CanonicalABI.md for each type kind (load, store, lift_flat,
lower_flat), and one or more cases for every trap reason."""
from __future__ import annotations

import math
import struct

import pytest

from itfuzz.abi import REASONS, BumpRealloc, Context, Trap
from itfuzz.abi.flat import lift_flat, lift_flat_values, lower_flat, lower_flat_values
from itfuzz.abi.load import load
from itfuzz.abi.store import store
from itfuzz.abi.strings import UTF16_TAG, load_string
from itfuzz.model.types import PRIMS, Enum, Flags, List, Option, Record, Result, Tuple, Variant
from itfuzz.model.values import equal

P = PRIMS
MEM = 256


def cx_with(data: dict[int, bytes] | None = None, encoding: str = "utf8", realloc=None,
            size: int = MEM) -> Context:
    """A context over `size` bytes with `data` (offset → bytes) written in."""
    mem = bytearray(size)
    for off, b in (data or {}).items():
        mem[off:off + len(b)] = b
    return Context(mem, encoding, realloc)


def u32le(*xs: int) -> bytes:
    return b"".join(struct.pack("<I", x) for x in xs)


def bits32(f: float) -> int:
    return struct.unpack("<I", struct.pack("<f", f))[0]


def bits64(f: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", f))[0]


def lift1(cx: Context, flat: list[int], t):
    it = iter(flat)
    v = lift_flat(cx, it, t)
    assert next(it, None) is None, "lift_flat must consume exactly flatten_type(t)"
    return v


# ---- loads ------------------------------------------------------------------------------------

@pytest.mark.parametrize("t,raw,value", [
    (P["bool"], b"\x00", False), (P["bool"], b"\x01", True), (P["bool"], b"\x02", True),
    (P["bool"], b"\xff", True),
    (P["u8"], b"\xff", 255), (P["s8"], b"\xff", -1), (P["s8"], b"\x80", -128),
    (P["u16"], b"\x34\x12", 0x1234), (P["s16"], b"\x00\x80", -32768),
    (P["u32"], b"\xff\xff\xff\xff", 0xFFFFFFFF), (P["s32"], b"\xfe\xff\xff\xff", -2),
    (P["u64"], b"\x01" + b"\x00" * 6 + b"\x80", (1 << 63) + 1), (P["s64"], b"\xff" * 8, -1),
    (P["f32"], struct.pack("<f", 1.5), 1.5), (P["f32"], b"\x00\x00\x00\x80", -0.0),
    (P["f64"], struct.pack("<d", -2.25), -2.25), (P["f64"], b"\x00" * 7 + b"\x80", -0.0),
    (P["char"], u32le(0x10FFFF), "\U0010ffff"), (P["char"], u32le(0xE000), "\ue000"),
    (P["char"], u32le(0xD7FF), "\ud7ff"), (P["char"], u32le(0), "\0"),
])
def test_load_scalar(t, raw, value):
    cx = cx_with({8: raw})
    assert equal(t, value, load(cx, 8, t))


@pytest.mark.parametrize("raw32", [0x7FC00000, 0x7FC00001, 0xFFC00000, 0x7F800001, 0xFFFFFFFF])
def test_load_f32_nan_is_canonical(raw32):
    cx = cx_with({0: u32le(raw32)})
    v = load(cx, 0, P["f32"])
    assert math.isnan(v)
    assert bits32(v) == 0x7FC00000  # canonicalize_nan32


def test_load_f64_nan_is_canonical():
    cx = cx_with({0: struct.pack("<Q", 0xFFF0000000000001)})
    v = load(cx, 0, P["f64"])
    assert bits64(v) == 0x7FF8000000000000


def test_load_string_each_encoding():
    # (ptr, len) pair at 0 pointing at 16
    utf8 = cx_with({0: u32le(16, 3), 16: "aé".encode()})
    assert load(utf8, 0, P["string"]) == "aé"
    utf16 = cx_with({0: u32le(16, 3), 16: "a😀".encode("utf-16-le")}, "utf16")
    assert load(utf16, 0, P["string"]) == "a😀"
    latin1 = cx_with({0: u32le(16, 2), 16: b"a\xe9"}, "latin1+utf16")
    assert load(latin1, 0, P["string"]) == "aé"
    tagged = cx_with({0: u32le(16, 2 | UTF16_TAG), 16: "a€".encode("utf-16-le")}, "latin1+utf16")
    assert load(tagged, 0, P["string"]) == "a€"
    assert load_string(tagged, 16, 1 | UTF16_TAG) == "a"


def test_load_list_and_record():
    # list<u16> of 3 at 32; record{u8,u32,u8} at 64: fields at 64, 68, 72
    cx = cx_with({0: u32le(32, 3), 32: struct.pack("<3H", 1, 0xFFFF, 7),
                  64: b"\x05\x00\x00\x00" + u32le(0xABCDEF01) + b"\x09"})
    assert load(cx, 0, List(P["u16"])) == [1, 0xFFFF, 7]
    r = Record((("a", P["u8"]), ("b", P["u32"]), ("c", P["u8"])))
    assert load(cx, 64, r) == (5, 0xABCDEF01, 9)
    # list<tuple<u8, u16>>: elem size 4, u16 at +2
    cx2 = cx_with({0: u32le(16, 2), 16: b"\x01\x00\x02\x00\x03\x00\x04\x00"})
    assert load(cx2, 0, List(Tuple((P["u8"], P["u16"])))) == [(1, 2), (3, 4)]


def test_load_variants():
    t = Variant((("a", None), ("b", P["u32"]), ("c", P["f64"])))  # payload at 8
    cx = cx_with({0: b"\x01", 8: u32le(77), 32: b"\x02", 40: struct.pack("<d", 0.5), 64: b"\x00"})
    assert load(cx, 0, t) == ("b", 77)
    assert load(cx, 32, t) == ("c", 0.5)
    assert load(cx, 64, t) == ("a", None)
    e = Enum(tuple(f"e{i}" for i in range(300)))  # u16 discriminant
    assert load(cx_with({0: struct.pack("<H", 299)}), 0, e) == "e299"
    assert load(cx_with({0: b"\x01\x09"}), 0, Option(P["u8"])) == ("some", 9)
    res = Result(None, P["string"])
    assert load(cx_with({0: b"\x00", 4: u32le(99, 99)}), 0, res) == ("ok", None)


def test_load_flags_ignores_undefined_bits():
    # unpack_flags_from_int: bits past the labels are dropped, no trap (no flags trap exists)
    f3 = Flags(("a", "b", "c"))
    assert load(cx_with({0: b"\xfd"}), 0, f3) == frozenset({"a", "c"})
    f9 = Flags(tuple(f"l{i}" for i in range(9)))
    assert load(cx_with({0: b"\x00\xff"}), 0, f9) == frozenset({"l8"})
    assert lift1(cx_with(), [0xFFFFFFFF], f3) == frozenset({"a", "b", "c"})


# ---- stores -----------------------------------------------------------------------------------

def test_store_bytes():
    cx = cx_with()
    r = Record((("a", P["u8"]), ("b", P["u32"]), ("c", P["s8"])))
    store(cx, (0xAA, 0x01020304, -1), r, 16)
    assert bytes(cx.memory[16:28]) == b"\xaa\x00\x00\x00\x04\x03\x02\x01\xff\x00\x00\x00"
    store(cx, True, P["bool"], 0)
    assert cx.memory[0] == 1
    store(cx, ("some", -0.0), Option(P["f64"]), 32)
    assert cx.memory[32] == 1 and bytes(cx.memory[40:48]) == b"\x00" * 7 + b"\x80"
    store(cx, frozenset({"l0", "l9"}), Flags(tuple(f"l{i}" for i in range(10))), 48)
    assert bytes(cx.memory[48:50]) == b"\x01\x02"
    store(cx, "\U0001f600", P["char"], 52)
    assert bytes(cx.memory[52:56]) == u32le(0x1F600)
    store(cx, "e256", Enum(tuple(f"e{i}" for i in range(257))), 56)
    assert bytes(cx.memory[56:58]) == b"\x00\x01"


def test_store_list_calls_realloc_even_when_empty():
    mem = bytearray(1024)
    cx = Context(mem, "utf8", BumpRealloc(mem, 100))
    store(cx, [], List(P["u64"]), 0)
    store(cx, [1, 2], List(P["u16"]), 8)
    assert [(c.old_ptr, c.old_size, c.align, c.new_size) for c in cx.realloc_log] == \
        [(0, 0, 8, 0), (0, 0, 2, 4)]
    assert bytes(mem[0:16]) == u32le(104, 0, 104, 2)  # empty list<u64> at align_to(100, 8)
    assert bytes(mem[104:108]) == b"\x01\x00\x02\x00"


# ---- flat -------------------------------------------------------------------------------------

@pytest.mark.parametrize("t,flat,value", [
    (P["bool"], [0x100], True), (P["bool"], [0], False),
    # narrow integers ignore the unused high bits (no trap since 2022)
    (P["u8"], [0x1FF], 0xFF), (P["s8"], [0x180], -128), (P["s8"], [0xFFFFFF7F], 127),
    (P["u16"], [0xFFFF0001], 1), (P["s16"], [0x18000], -32768),
    (P["u32"], [0xFFFFFFFF], 0xFFFFFFFF), (P["s32"], [0x80000000], -(1 << 31)),
    (P["u64"], [(1 << 64) - 1], (1 << 64) - 1), (P["s64"], [1 << 63], -(1 << 63)),
    (P["f32"], [bits32(-1.5)], -1.5), (P["f32"], [0x80000000], -0.0),
    (P["f64"], [bits64(3.25)], 3.25), (P["char"], [0x41], "A"),
])
def test_lift_flat_scalar(t, flat, value):
    assert equal(t, value, lift1(cx_with(), flat, t))


@pytest.mark.parametrize("t,value,flat", [
    (P["bool"], True, [1]), (P["s8"], -1, [0xFFFFFFFF]), (P["s16"], -2, [0xFFFFFFFE]),
    (P["s64"], -1, [(1 << 64) - 1]), (P["u64"], 5, [5]), (P["f32"], -0.0, [0x80000000]),
    (P["f64"], 1.0, [0x3FF0000000000000]), (P["char"], "é", [0xE9]),
    (Flags(("a", "b", "c")), frozenset({"c"}), [4]),
])
def test_lower_flat_scalar(t, value, flat):
    assert lower_flat(cx_with(), value, t) == flat


def test_flat_variant_coercions():
    # variant{a(u32), b(f32)}: slot join(i32, f32) = i32, the f32 travels as its bits
    v1 = Variant((("a", P["u32"]), ("b", P["f32"])))
    assert lower_flat(cx_with(), ("b", 1.5), v1) == [1, bits32(1.5)]
    assert lift1(cx_with(), [1, bits32(1.5)], v1) == ("b", 1.5)
    # variant{a(u64), b(f32)}: slot i64; an f32 is zero-extended on lowering, and on lifting
    # the i64 is wrapped to its low 32 bits before being reinterpreted
    v2 = Variant((("a", P["u64"]), ("b", P["f32"])))
    assert lower_flat(cx_with(), ("b", -2.0), v2) == [1, bits32(-2.0)]
    assert lift1(cx_with(), [1, (0xDEAD << 32) | bits32(-2.0)], v2) == ("b", -2.0)
    assert lift1(cx_with(), [0, (0xDEAD << 32) | 7], v2) == ("a", (0xDEAD << 32) | 7)
    # s8 = -1 in an i64 slot: 0x00000000FFFFFFFF; lifting wraps i64 → i32 → s8
    v3 = Variant((("a", P["s8"]), ("b", P["f64"])))
    assert lower_flat(cx_with(), ("a", -1), v3) == [0, 0xFFFFFFFF]
    assert lift1(cx_with(), [0, (1 << 64) - 1], v3) == ("a", -1)
    assert lift1(cx_with(), [1, bits64(-0.5)], v3) == ("b", -0.5)
    # i64 slot holding f64 NaN bits is canonicalised
    nan = lift1(cx_with(), [1, 0x7FF0000000000001], v3)[1]
    assert math.isnan(nan) and bits64(nan) == 0x7FF8000000000000
    # unused slots are zero on lowering and read-and-ignored on lifting
    o = Option(Tuple((P["u32"], P["f64"])))
    assert lower_flat(cx_with(), ("none", None), o) == [0, 0, 0]
    assert lift1(cx_with(), [0, 123, 456], o) == ("none", None)
    r = Result(P["u8"], Tuple((P["f32"], P["u64"])))  # slots: join(i32, f32)=i32, i64
    assert lower_flat(cx_with(), ("ok", 200), r) == [0, 200, 0]
    assert lift1(cx_with(), [1, bits32(0.25), 9], r) == ("err", (0.25, 9))
    assert lift1(cx_with(), [0, 0x1C8, 9], r) == ("ok", 0xC8)
    e = Enum(("x", "y"))
    assert lower_flat(cx_with(), "y", e) == [1]
    assert lift1(cx_with(), [1], e) == "y"


def test_flat_values_spill_and_retptr():
    ts = [P["u32"]] * 17
    mem = bytearray(1024)
    cx = Context(mem, "utf8", BumpRealloc(mem, 64))
    flat = lower_flat_values(cx, 16, list(range(17)), ts)
    assert flat == [64] and [c.align for c in cx.realloc_log] == [4] and cx.realloc_log[0].new_size == 68
    assert mem[64:68 + 64] == struct.pack("<17I", *range(17))
    assert lift_flat_values(cx, 16, [64], ts) == list(range(17))
    # 16 flat values still go flat
    assert lift_flat_values(cx, 16, list(range(16)), ts[:16]) == list(range(16))
    # a result over MAX_FLAT_RESULTS goes to the out-param, with no flat values
    cx2 = cx_with()
    t = Tuple((P["u8"], P["u64"]))
    assert lower_flat_values(cx2, 1, [(1, 2)], [t], out_param=8) == []
    assert bytes(cx2.memory[8:24]) == b"\x01" + b"\x00" * 7 + struct.pack("<Q", 2)
    assert lift_flat_values(cx2, 1, [8], [t]) == [(1, 2)]
    assert lift_flat_values(cx2, 1, [], []) == []


# ---- traps ------------------------------------------------------------------------------------

def _bad_realloc(answer: int):
    return lambda old, old_size, align, new_size: answer


def _lift_flat_list(cx, flat, t):
    return lift1(cx, flat, t)


S, LU32, LU64 = P["string"], List(P["u32"]), List(P["u64"])
N = MEM  # memory size of `cx_with()`

# (reason, a callable that must raise Trap(reason)); derived from the trap_ifs in the spec
TRAP_CASES = [
    ("bad-discriminant", lambda: load(cx_with({0: b"\x02"}), 0, Option(P["u8"]))),
    ("bad-discriminant", lambda: load(cx_with({0: b"\x03"}), 0, Enum(("a", "b", "c")))),
    ("bad-discriminant", lambda: load(cx_with({0: b"\x01\x01"}), 0,
                                      Enum(tuple(f"e{i}" for i in range(257))))),
    ("bad-discriminant", lambda: lift1(cx_with(), [2, 0], Result(P["u8"], None))),
    ("bad-discriminant", lambda: lift1(cx_with(), [0x100000000 - 1], Enum(("a",)))),
    ("char-not-scalar", lambda: load(cx_with({0: u32le(0xD800)}), 0, P["char"])),
    ("char-not-scalar", lambda: load(cx_with({0: u32le(0xDFFF)}), 0, P["char"])),
    ("char-not-scalar", lambda: lift1(cx_with(), [0x110000], P["char"])),
    ("char-not-scalar", lambda: lift1(cx_with(), [0xFFFFFFFF], P["char"])),
    # byte length over 2**28-1 traps first, whatever the pointer
    ("string-too-long", lambda: lift1(cx_with(), [1, 1 << 28], S)),
    ("string-too-long", lambda: lift1(cx_with(encoding="utf16"), [1, 1 << 27], S)),
    ("string-too-long", lambda: lift1(cx_with(encoding="latin1+utf16"), [1, (1 << 27) | UTF16_TAG], S)),
    ("string-too-long", lambda: lift1(cx_with(encoding="latin1+utf16"), [1, 1 << 28], S)),
    # then alignment: 2 for utf16 and for latin1+utf16 (also for Latin-1 content)
    ("string-misaligned", lambda: lift1(cx_with(encoding="utf16"), [1, (1 << 27) - 1], S)),
    ("string-misaligned", lambda: lift1(cx_with(encoding="latin1+utf16"), [3, 0], S)),
    ("string-misaligned", lambda: lift1(cx_with(encoding="latin1+utf16"), [5, 1 | UTF16_TAG], S)),
    # then bounds, also for an empty string
    ("string-oob", lambda: lift1(cx_with(), [N + 1, 0], S)),
    ("string-oob", lambda: lift1(cx_with(), [N - 1, 2], S)),
    ("string-oob", lambda: lift1(cx_with(encoding="utf16"), [N - 2, 2], S)),
    ("string-oob", lambda: lift1(cx_with(), [0, (1 << 28) - 1], S)),
    ("utf8-invalid", lambda: lift1(cx_with({0: b"\xff"}), [0, 1], S)),
    ("utf8-invalid", lambda: lift1(cx_with({0: b"\xed\xa0\x80"}), [0, 3], S)),   # surrogate
    ("utf8-invalid", lambda: lift1(cx_with({0: b"\xc0\x80"}), [0, 2], S)),       # overlong
    ("utf8-invalid", lambda: lift1(cx_with({0: b"a\xe2\x82"}), [0, 3], S)),      # truncated
    ("utf16-invalid", lambda: lift1(cx_with({0: b"\x00\xd8"}, "utf16"), [0, 1], S)),
    ("utf16-invalid", lambda: lift1(cx_with({0: b"\x00\xdc\x41\x00"}, "utf16"), [0, 2], S)),
    ("utf16-invalid", lambda: lift1(cx_with({0: b"\x3d\xd8"}, "latin1+utf16"), [0, 1 | UTF16_TAG], S)),
    ("list-too-long", lambda: lift1(cx_with(), [3, 1 << 25], LU64)),
    ("list-too-long", lambda: lift1(cx_with(), [0, 1 << 28], List(P["u8"]))),
    ("list-misaligned", lambda: lift1(cx_with(), [2, (1 << 26) - 1], LU32)),
    ("list-misaligned", lambda: load(cx_with({0: u32le(4, 1)}), 0, LU64)),
    ("list-oob", lambda: lift1(cx_with(), [N + 4, 0], LU32)),
    ("list-oob", lambda: lift1(cx_with(), [N - 4, 2], LU32)),
    ("list-oob", lambda: lift1(cx_with(), [0, (1 << 26) - 1], LU32)),
    ("pointer-misaligned", lambda: lift_flat_values(cx_with(), 16, [2], [P["u32"]] * 17)),
    ("pointer-misaligned", lambda: lift_flat_values(cx_with(), 1, [4], [P["u64"], P["u8"]])),
    ("pointer-misaligned", lambda: lower_flat_values(cx_with(), 1, ["x"], [S], out_param=6)),
    ("pointer-oob", lambda: lift_flat_values(cx_with(), 16, [N - 64], [P["u32"]] * 17)),
    ("pointer-oob", lambda: lift_flat_values(cx_with(), 1, [0xFFFFFFF8], [S])),
    ("pointer-oob", lambda: lower_flat_values(cx_with(), 1, [(1, 2)], [Tuple((P["u8"], P["u64"]))],
                                              out_param=N - 8)),
    ("realloc-misaligned", lambda: lower_flat(cx_with(realloc=_bad_realloc(2)), [1], LU32)),
    ("realloc-misaligned", lambda: lower_flat(cx_with(encoding="utf16", realloc=_bad_realloc(1)), "a", S)),
    ("realloc-misaligned", lambda: lower_flat(cx_with(encoding="latin1+utf16", realloc=_bad_realloc(9)),
                                              "", S)),
    ("realloc-misaligned", lambda: lower_flat_values(cx_with(realloc=_bad_realloc(4)), 16, [0] * 17,
                                                     [P["u64"]] * 17)),
    ("realloc-oob", lambda: lower_flat(cx_with(realloc=_bad_realloc(N - 3)), "abcd", S)),
    ("realloc-oob", lambda: lower_flat(cx_with(realloc=_bad_realloc(0xFFFFFFFF)), "", S)),
    ("realloc-oob", lambda: lower_flat(cx_with(realloc=_bad_realloc(-1)), [], List(P["u8"]))),
    ("realloc-oob", lambda: lower_flat_values(cx_with(realloc=_bad_realloc(N - 64)), 16, [0] * 17,
                                              [P["u32"]] * 17)),
    ("realloc-trap", lambda: lower_flat(Context(bytearray(MEM), "utf8",
                                                BumpRealloc(bytearray(MEM), 0, max_pages=1)),
                                        "x" * 70000, S)),
]


@pytest.mark.parametrize("reason,action", TRAP_CASES,
                         ids=[f"{r}-{i}" for i, (r, _) in enumerate(TRAP_CASES)])
def test_trap(reason, action):
    with pytest.raises(Trap) as info:
        action()
    assert info.value.reason == reason, info.value


def test_every_reason_is_exercised():
    assert {r for r, _ in TRAP_CASES} == set(REASONS)


@pytest.mark.parametrize("action", [
    lambda: lift1(cx_with(), [N, 0], S),                        # ptr == memory size, len 0
    lambda: lift1(cx_with(encoding="utf16"), [N, 0], S),
    lambda: lift1(cx_with(), [N, 0], LU64),
    lambda: lift1(cx_with({N - 1: b"a"}), [N - 1, 1], S),
    lambda: lift1(cx_with(), [1, 0], S),                        # utf8 has alignment 1
    lambda: lift1(cx_with(), [1, 0], List(Tuple((P["u8"], P["u8"])))),
    lambda: lift_flat_values(cx_with(), 16, [N - 68], [P["u32"]] * 17),
    lambda: lower_flat(cx_with(realloc=_bad_realloc(3)), "abc", S),   # utf8: no alignment check
    lambda: lower_flat(cx_with(realloc=_bad_realloc(N)), "", S),      # ptr + 0 == memory size
])
def test_edges_that_do_not_trap(action):
    action()


def test_trap_order_string_and_list():
    # too long beats misaligned beats out of bounds (each input violates all later checks too)
    with pytest.raises(Trap, match="string-too-long"):
        lift1(cx_with(encoding="utf16"), [N + 1, 1 << 27], S)
    with pytest.raises(Trap, match="string-misaligned"):
        lift1(cx_with(encoding="utf16"), [N + 1, 1], S)
    with pytest.raises(Trap, match="list-too-long"):
        lift1(cx_with(), [N + 2, 1 << 26], LU32)
    with pytest.raises(Trap, match="list-misaligned"):
        lift1(cx_with(), [N + 2, 1], LU32)
    # a bad discriminant traps before its payload is looked at; bounds before decoding
    with pytest.raises(Trap, match="bad-discriminant"):
        lift1(cx_with(), [2, N + 1, 5], Option(S))
    with pytest.raises(Trap, match="string-oob"):
        lift1(cx_with({0: b"\xff"}), [0, N + 1], S)
