"""Loading (CanonicalABI.md §Loading): `load(cx, ptr, t)` reads a value of type `t` from
`cx.memory` at an aligned, in-bounds `ptr`, trapping where the spec does.

Values follow `itfuzz.model.values`: records and tuples → tuple, variant/option/result →
(case, payload | None), enum → case name, flags → frozenset of labels. Floats are NaN-
canonicalised (any NaN is one value at component level; -0.0 is kept).
"""
from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

from itfuzz.abi import layout
from itfuzz.abi.context import Context
from itfuzz.abi.errors import Trap
from itfuzz.abi.strings import lift_string
from itfuzz.model.types import Type

MAX_LIST_BYTE_LENGTH = (1 << 28) - 1
CANONICAL_FLOAT32_NAN = 0x7FC00000
CANONICAL_FLOAT64_NAN = 0x7FF8000000000000
_INT_FORMATS = {(1, False): "<B", (2, False): "<H", (4, False): "<I", (8, False): "<Q",
                (1, True): "<b", (2, True): "<h", (4, True): "<i", (8, True): "<q"}
_UNPACK = {k: struct.Struct(f).unpack_from for k, f in _INT_FORMATS.items()}
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
NAN32 = _F32.unpack(_U32.pack(CANONICAL_FLOAT32_NAN))[0]
NAN64 = _F64.unpack(_U64.pack(CANONICAL_FLOAT64_NAN))[0]


def load_int(cx: Context, ptr: int, nbytes: int, signed: bool = False) -> int:
    return _UNPACK[nbytes, signed](cx.memory, ptr)[0]


def convert_int_to_bool(i: int) -> bool:
    """0 is false, every other bit pattern true (no trap)."""
    return bool(i)


def canonicalize_nan32(f: float) -> float:
    return NAN32 if math.isnan(f) else f


def canonicalize_nan64(f: float) -> float:
    return NAN64 if math.isnan(f) else f


def decode_i32_as_float(i: int) -> float:
    return canonicalize_nan32(_F32.unpack(_U32.pack(i))[0])


def decode_i64_as_float(i: int) -> float:
    return canonicalize_nan64(_F64.unpack(_U64.pack(i))[0])


def convert_i32_to_char(i: int) -> str:
    if i >= 0x110000 or 0xD800 <= i <= 0xDFFF:
        raise Trap("char-not-scalar", f"{i:#x} is not a Unicode scalar value")
    return chr(i)


def load(cx: Context, ptr: int, t: Type) -> Any:
    """The spec's `load` (the caller guarantees alignment and bounds, as the spec asserts)."""
    return _LOADERS[layout.despecialize(t)](cx, ptr, t)


def load_list(cx: Context, ptr: int, t: Type) -> list:
    begin = load_int(cx, ptr, 4)
    length = load_int(cx, ptr + 4, 4)
    return load_list_from_range(cx, begin, length, t.elem)  # type: ignore[attr-defined]


def load_list_from_range(cx: Context, ptr: int, length: int, elem_type: Type) -> list:
    """Traps in the spec's order: too long, misaligned, out of bounds."""
    size = layout.elem_size(elem_type)
    if length * size > MAX_LIST_BYTE_LENGTH:
        raise Trap("list-too-long", f"{length} elements of {size} bytes")
    align = layout.alignment(elem_type)
    if ptr % align:
        raise Trap("list-misaligned", f"ptr {ptr:#x} not aligned to {align}")
    if ptr + length * size > len(cx.memory):
        raise Trap("list-oob", f"ptr {ptr:#x} + {length}*{size} bytes > memory size {len(cx.memory):#x}")
    return load_list_from_valid_range(cx, ptr, length, elem_type)


def load_list_from_valid_range(cx: Context, ptr: int, length: int, elem_type: Type) -> list:
    k = layout.despecialize(elem_type)
    size = layout.elem_size(elem_type)
    if k in _INT_KINDS:  # a fast path for integer lists: the same values `load` gives
        fmt = f"<{length}{_INT_KINDS[k]}"
        return list(struct.unpack_from(fmt, cx.memory, ptr))
    loader = _LOADERS[k]
    return [loader(cx, ptr + i * size, elem_type) for i in range(length)]


def load_record(cx: Context, ptr: int, t: Type) -> tuple:
    return tuple([load(cx, ptr + off, f) for off, f in layout.record_fields(t)])


def load_variant(cx: Context, ptr: int, t: Type) -> Any:
    info = layout.variant_info(t)
    cases = info.cases
    case_index = load_int(cx, ptr, info.disc_size)
    if case_index >= len(cases):
        raise Trap("bad-discriminant", f"case {case_index} of {len(cases)} ({t.kind})")
    label, payload_type = cases[case_index]
    if info.is_enum:
        return label
    if payload_type is None:
        return (label, None)
    return (label, load(cx, ptr + info.payload_offset, payload_type))


def load_flags(cx: Context, ptr: int, t: Type) -> frozenset:
    labels = t.labels  # type: ignore[attr-defined]
    return unpack_flags_from_int(load_int(cx, ptr, layout.elem_size_flags(len(labels))), labels)


def unpack_flags_from_int(i: int, labels: tuple[str, ...]) -> frozenset:
    """Bit k is label k; bits beyond the labels are ignored (no trap)."""
    return frozenset(label for k, label in enumerate(labels) if i >> k & 1)


_INT_KINDS = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q", "s8": "b", "s16": "h", "s32": "i", "s64": "q"}


def _int_loader(nbytes: int, signed: bool) -> Callable[[Context, int, Type], int]:
    unpack = _UNPACK[nbytes, signed]
    return lambda cx, ptr, t: unpack(cx.memory, ptr)[0]


_LOADERS: dict[str, Callable[[Context, int, Type], Any]] = {
    "bool": lambda cx, ptr, t: cx.memory[ptr] != 0,
    "u8": _int_loader(1, False), "u16": _int_loader(2, False),
    "u32": _int_loader(4, False), "u64": _int_loader(8, False),
    "s8": _int_loader(1, True), "s16": _int_loader(2, True),
    "s32": _int_loader(4, True), "s64": _int_loader(8, True),
    "f32": lambda cx, ptr, t: canonicalize_nan32(_F32.unpack_from(cx.memory, ptr)[0]),
    "f64": lambda cx, ptr, t: canonicalize_nan64(_F64.unpack_from(cx.memory, ptr)[0]),
    "char": lambda cx, ptr, t: convert_i32_to_char(load_int(cx, ptr, 4)),
    "string": lambda cx, ptr, t: lift_string(cx, load_int(cx, ptr, 4), load_int(cx, ptr + 4, 4)),
    "list": load_list,
    "record": load_record,
    "variant": load_variant,
    "flags": load_flags,
}
