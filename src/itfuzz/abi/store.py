"""Storing (CanonicalABI.md §Storing): `store(cx, v, t, ptr)` writes a value of type `t` into
`cx.memory` at an aligned, in-bounds `ptr`, calling `realloc` for strings and lists.

Floats: the spec lets a lowering write *any* NaN for a NaN (`maybe_scramble_nan32/64`: a random
NaN, or the canonical one under the deterministic profile; hosts may keep the original bits).
The model writes the bits of the Python float it is given (struct's conversion for f32), so
tests must compare NaNs as one class. Strings that are plain `str` are host strings (hint
'utf8', their UTF-8 length); `strings.String` values carry their own hint.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from itfuzz.abi import layout
from itfuzz.abi.context import Context
from itfuzz.abi.strings import String, code_units, store_string_into_range
from itfuzz.model.types import Type

_INT_FORMATS = {(1, False): "<B", (2, False): "<H", (4, False): "<I", (8, False): "<Q",
                (1, True): "<b", (2, True): "<h", (4, True): "<i", (8, True): "<q"}
_PACK = {k: struct.Struct(f).pack_into for k, f in _INT_FORMATS.items()}
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_PAIR = struct.Struct("<II")


def store_int(cx: Context, v: int, ptr: int, nbytes: int, signed: bool = False) -> None:
    _PACK[nbytes, signed](cx.memory, ptr, v)


def encode_float_as_i32(f: float) -> int:
    return _U32.unpack(_F32.pack(f))[0]


def encode_float_as_i64(f: float) -> int:
    return _U64.unpack(_F64.pack(f))[0]


def char_to_i32(c: str) -> int:
    i = ord(c)
    assert 0 <= i <= 0xD7FF or 0xE000 <= i <= 0x10FFFF
    return i


def string_hint(v: str | String) -> String:
    """A string value with its hint: plain `str` is a host (UTF-8) string."""
    if isinstance(v, String):
        return v
    return String(v, "utf8", code_units(v, "utf8"))


def store(cx: Context, v: Any, t: Type, ptr: int) -> None:
    """The spec's `store` (the caller guarantees alignment and bounds, as the spec asserts)."""
    _STORERS[layout.despecialize(t)](cx, v, t, ptr)


def _store_string(cx: Context, v: str | String, t: Type, ptr: int) -> None:
    """The spec's `store_string(cx, v, ptr)` (the public `store_string` is the spec's
    `store_string_into_range`, in `strings`): lower into a range, then write (ptr, length)."""
    begin, tagged_code_units = store_string_into_range(cx, string_hint(v))
    _PAIR.pack_into(cx.memory, ptr, begin, tagged_code_units)


def store_list(cx: Context, v: list, t: Type, ptr: int) -> None:
    begin, length = store_list_into_range(cx, v, t.elem)  # type: ignore[attr-defined]
    _PAIR.pack_into(cx.memory, ptr, begin, length)


def store_list_into_range(cx: Context, v: list, elem_type: Type) -> tuple[int, int]:
    """One `allocate(alignment(elem), len * elem_size)` — also for an empty list."""
    size = layout.elem_size(elem_type)
    byte_length = len(v) * size
    ptr = cx.allocate(layout.alignment(elem_type), byte_length)
    store_list_into_valid_range(cx, v, ptr, elem_type)
    return ptr, len(v)


def store_list_into_valid_range(cx: Context, v: list, ptr: int, elem_type: Type) -> None:
    k = layout.despecialize(elem_type)
    if k in _INT_KINDS and v:  # a fast path for integer lists: the same bytes `store` writes
        struct.pack_into(f"<{len(v)}{_INT_KINDS[k]}", cx.memory, ptr, *v)
        return
    size = layout.elem_size(elem_type)
    storer = _STORERS[k]
    for i, e in enumerate(v):
        storer(cx, e, elem_type, ptr + i * size)


def store_record(cx: Context, v: tuple, t: Type, ptr: int) -> None:
    for (off, f), x in zip(layout.record_fields(t), v):
        store(cx, x, f, ptr + off)


def match_case(v: Any, info: layout.VariantInfo) -> tuple[int, Any]:
    """(case index, payload) of a variant-like value; an enum value is its case name."""
    if info.is_enum:
        return info.indices[v], None
    label, payload = v
    return info.indices[label], payload


def store_variant(cx: Context, v: Any, t: Type, ptr: int) -> None:
    info = layout.variant_info(t)
    case_index, case_value = match_case(v, info)
    store_int(cx, case_index, ptr, info.disc_size)
    payload_type = info.cases[case_index][1]
    if payload_type is not None:
        store(cx, case_value, payload_type, ptr + info.payload_offset)


def store_flags(cx: Context, v: frozenset, t: Type, ptr: int) -> None:
    labels = t.labels  # type: ignore[attr-defined]
    store_int(cx, pack_flags_into_int(v, labels), ptr, layout.elem_size_flags(len(labels)))


def pack_flags_into_int(v: frozenset, labels: tuple[str, ...]) -> int:
    i = 0
    for shift, label in enumerate(labels):
        if label in v:
            i |= 1 << shift
    return i


_INT_KINDS = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q", "s8": "b", "s16": "h", "s32": "i", "s64": "q"}


def _int_storer(nbytes: int, signed: bool) -> Callable[[Context, Any, Type, int], None]:
    pack = _PACK[nbytes, signed]
    return lambda cx, v, t, ptr: pack(cx.memory, ptr, v)


_STORERS: dict[str, Callable[[Context, Any, Type, int], None]] = {
    "bool": lambda cx, v, t, ptr: store_int(cx, int(bool(v)), ptr, 1),
    "u8": _int_storer(1, False), "u16": _int_storer(2, False),
    "u32": _int_storer(4, False), "u64": _int_storer(8, False),
    "s8": _int_storer(1, True), "s16": _int_storer(2, True),
    "s32": _int_storer(4, True), "s64": _int_storer(8, True),
    "f32": lambda cx, v, t, ptr: _F32.pack_into(cx.memory, ptr, v),
    "f64": lambda cx, v, t, ptr: _F64.pack_into(cx.memory, ptr, v),
    "char": lambda cx, v, t, ptr: store_int(cx, char_to_i32(v), ptr, 4),
    "string": _store_string,
    "list": store_list,
    "record": store_record,
    "variant": store_variant,
    "flags": store_flags,
}
