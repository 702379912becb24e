"""Flat lifting and lowering (CanonicalABI.md §Flat Lifting, §Flat Lowering, §Lifting and
Lowering Values).

Flat values are Python ints holding raw bits: i32 in [0, 2**32), i64 in [0, 2**64), f32 as its
32 IEEE bits, f64 as its 64 bits. With bits as the representation the spec's variant
coercions become: lifting an i64 slot for an i32/f32 payload keeps the low 32 bits
(`wrap_i64_to_i32`); every other pairing is the same bits. Lowering zero-extends (an i32 or
f32 payload in an i64 slot keeps its bits) and pads unused slots with 0.

Integers: since commit 912d32b (2022-06-01) the spec ignores the unused high bits of an i32
lifted as u8/u16/s8/s16 ("When the target type is narrower than an `i32`, the Canonical ABI
ignores the unused high bits (like `load_int`)."); before, it trapped. bool is any non-zero i32.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from itfuzz.abi import layout
from itfuzz.abi.context import Context
from itfuzz.abi.errors import Trap
from itfuzz.abi.load import (
    convert_i32_to_char,
    decode_i32_as_float,
    decode_i64_as_float,
    load,
    load_list_from_range,
    unpack_flags_from_int,
)
from itfuzz.abi.store import (
    encode_float_as_i32,
    encode_float_as_i64,
    match_case,
    pack_flags_into_int,
    store,
    store_list_into_range,
    string_hint,
)
from itfuzz.abi.strings import lift_string, store_string_into_range
from itfuzz.model.types import Type

MASK32 = 0xFFFFFFFF


def lift_flat(cx: Context, vi: Iterator[int], t: Type) -> Any:
    """The spec's `lift_flat`: consume `flatten_type(t)` values from the iterator `vi`."""
    return _LIFTERS[layout.despecialize(t)](cx, vi, t)


def lift_flat_unsigned(vi: Iterator[int], core_width: int, t_width: int) -> int:
    return next(vi) % (1 << t_width)


def lift_flat_signed(vi: Iterator[int], core_width: int, t_width: int) -> int:
    i = next(vi) % (1 << t_width)
    return i - (1 << t_width) if i >= 1 << (t_width - 1) else i


def lift_flat_string(cx: Context, vi: Iterator[int], t: Type) -> Any:
    ptr = next(vi)
    packed_length = next(vi)
    return lift_string(cx, ptr, packed_length)


def lift_flat_list(cx: Context, vi: Iterator[int], t: Type) -> list:
    ptr = next(vi)
    length = next(vi)
    return load_list_from_range(cx, ptr, length, t.elem)  # type: ignore[attr-defined]


def lift_flat_record(cx: Context, vi: Iterator[int], t: Type) -> tuple:
    return tuple([lift_flat(cx, vi, f) for f in t.children()])


def wrap_i64_to_i32(i: int) -> int:
    return i & MASK32


def lift_flat_variant(cx: Context, vi: Iterator[int], t: Type) -> Any:
    """Read the discriminant (trap if out of range), then every joined payload slot; the
    case's payload is lifted from its slots coerced to its own flat types, the rest ignored."""
    info = layout.variant_info(t)
    flat_types, cases = info.flat, info.cases
    case_index = next(vi)
    if case_index >= len(cases):
        raise Trap("bad-discriminant", f"case {case_index} of {len(cases)} ({t.kind}, flat)")
    slots = [next(vi) for _ in range(len(flat_types) - 1)]
    label, payload_type = cases[case_index]
    if info.is_enum:
        return label
    if payload_type is None:
        return (label, None)
    coerced = [wrap_i64_to_i32(x) if have == "i64" and want in ("i32", "f32") else x
               for x, have, want in zip(slots, flat_types[1:], layout.flat_tuple(payload_type))]
    return (label, lift_flat(cx, iter(coerced), payload_type))


def lift_flat_flags(vi: Iterator[int], t: Type) -> frozenset:
    return unpack_flags_from_int(next(vi), t.labels)  # type: ignore[attr-defined]


_LIFTERS: dict[str, Callable[[Context, Iterator[int], Type], Any]] = {
    "bool": lambda cx, vi, t: next(vi) != 0,
    "u8": lambda cx, vi, t: lift_flat_unsigned(vi, 32, 8),
    "u16": lambda cx, vi, t: lift_flat_unsigned(vi, 32, 16),
    "u32": lambda cx, vi, t: lift_flat_unsigned(vi, 32, 32),
    "u64": lambda cx, vi, t: lift_flat_unsigned(vi, 64, 64),
    "s8": lambda cx, vi, t: lift_flat_signed(vi, 32, 8),
    "s16": lambda cx, vi, t: lift_flat_signed(vi, 32, 16),
    "s32": lambda cx, vi, t: lift_flat_signed(vi, 32, 32),
    "s64": lambda cx, vi, t: lift_flat_signed(vi, 64, 64),
    "f32": lambda cx, vi, t: decode_i32_as_float(next(vi)),
    "f64": lambda cx, vi, t: decode_i64_as_float(next(vi)),
    "char": lambda cx, vi, t: convert_i32_to_char(next(vi)),
    "string": lift_flat_string,
    "list": lift_flat_list,
    "record": lift_flat_record,
    "variant": lift_flat_variant,
    "flags": lambda cx, vi, t: lift_flat_flags(vi, t),
}


def lower_flat(cx: Context, v: Any, t: Type) -> list[int]:
    """The spec's `lower_flat`: `flatten_type(t)` values (raw bits), storing strings and lists
    through `realloc`."""
    return _LOWERERS[layout.despecialize(t)](cx, v, t)


def lower_flat_signed(i: int, core_bits: int) -> list[int]:
    return [i + (1 << core_bits) if i < 0 else i]


def lower_flat_string(cx: Context, v: Any, t: Type) -> list[int]:
    ptr, packed_length = store_string_into_range(cx, string_hint(v))
    return [ptr, packed_length]


def lower_flat_list(cx: Context, v: list, t: Type) -> list[int]:
    ptr, length = store_list_into_range(cx, v, t.elem)  # type: ignore[attr-defined]
    return [ptr, length]


def lower_flat_record(cx: Context, v: tuple, t: Type) -> list[int]:
    flat: list[int] = []
    for f, x in zip(t.children(), v):
        flat += lower_flat(cx, x, f)
    return flat


def lower_flat_variant(cx: Context, v: Any, t: Type) -> list[int]:
    info = layout.variant_info(t)
    case_index, case_value = match_case(v, info)
    payload_type = info.cases[case_index][1]
    payload = [] if payload_type is None else lower_flat(cx, case_value, payload_type)
    return [case_index] + payload + [0] * (len(info.flat) - 1 - len(payload))


def lower_flat_flags(v: frozenset, t: Type) -> list[int]:
    return [pack_flags_into_int(v, t.labels)]  # type: ignore[attr-defined]


_LOWERERS: dict[str, Callable[[Context, Any, Type], list[int]]] = {
    "bool": lambda cx, v, t: [1 if v else 0],
    "u8": lambda cx, v, t: [v], "u16": lambda cx, v, t: [v],
    "u32": lambda cx, v, t: [v], "u64": lambda cx, v, t: [v],
    "s8": lambda cx, v, t: lower_flat_signed(v, 32), "s16": lambda cx, v, t: lower_flat_signed(v, 32),
    "s32": lambda cx, v, t: lower_flat_signed(v, 32), "s64": lambda cx, v, t: lower_flat_signed(v, 64),
    "f32": lambda cx, v, t: [encode_float_as_i32(v)],
    "f64": lambda cx, v, t: [encode_float_as_i64(v)],
    "char": lambda cx, v, t: [ord(v)],
    "string": lower_flat_string,
    "list": lower_flat_list,
    "record": lower_flat_record,
    "variant": lower_flat_variant,
    "flags": lambda cx, v, t: lower_flat_flags(v, t),
}


def _tuple_layout(ts: Sequence[Type]) -> tuple[int, int, list[int]]:
    """(alignment, elem_size, field offsets) of ``tuple<ts…>``."""
    offsets, ptr = [], 0
    for f in ts:
        ptr = layout.align_to(ptr, layout.alignment(f))
        offsets.append(ptr)
        ptr += layout.elem_size(f)
    return layout.alignment_record(ts), layout.elem_size_record(ts), offsets


def _check_tuple_pointer(cx: Context, ptr: int, align: int, size: int, what: str) -> None:
    if ptr % align:
        raise Trap("pointer-misaligned", f"{what} {ptr:#x} not aligned to {align}")
    if ptr + size > len(cx.memory):
        raise Trap("pointer-oob", f"{what} {ptr:#x} + {size} bytes > memory size {len(cx.memory):#x}")


def lift_flat_values(cx: Context, max_flat: int, flat: Iterable[int], types: Sequence[Type]) -> list:
    """Lift params or results: over `max_flat` flat values, the first flat value is a pointer
    to ``tuple<types…>`` (pointer-misaligned / pointer-oob). `flat` may be a shared iterator."""
    vi = iter(flat)
    if len(layout.flatten_types(types)) > max_flat:
        ptr = next(vi)
        align, size, offsets = _tuple_layout(types)
        _check_tuple_pointer(cx, ptr, align, size, "tuple pointer")
        return [load(cx, ptr + off, t) for off, t in zip(offsets, types)]
    return [lift_flat(cx, vi, t) for t in types]


def lower_flat_values(cx: Context, max_flat: int, values: Sequence[Any], types: Sequence[Type],
                      out_param: int | None = None) -> list[int]:
    """Lower params or results: over `max_flat` flat values they are stored as
    ``tuple<types…>`` at `out_param` (a retptr; pointer-misaligned / pointer-oob) or, without
    one, in a block from ``allocate(alignment, size)`` whose pointer is the only flat value."""
    if len(layout.flatten_types(types)) > max_flat:
        align, size, offsets = _tuple_layout(types)
        if out_param is None:
            ptr = cx.allocate(align, size)
            flat_vals = [ptr]
        else:
            ptr = out_param
            flat_vals = []
            _check_tuple_pointer(cx, ptr, align, size, "out-param")
        for off, v, t in zip(offsets, values, types):
            store(cx, v, t, ptr + off)
        return flat_vals
    flat: list[int] = []
    for v, t in zip(values, types):
        flat += lower_flat(cx, v, t)
    return flat
