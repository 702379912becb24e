"""Layout and flattening (CanonicalABI.md §Despecialization, §Alignment, §Element Size,
§Flattening) for 32-bit memories, computed from the spec's rules — not from the type model's
own `.size/.align/.flat` (tests check that the two agree).

Results are memoised per type object (by identity, keeping the object alive), so repeated
lifts and lowers of one type cost a dictionary lookup.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from itfuzz.model.types import Type

PTR_SIZE = 4            # ptr_size('i32')
PTR_TYPE = "i32"
MAX_FLAT_PARAMS = 16
MAX_FLAT_RESULTS = 1
VARIANT_KINDS = frozenset(("variant", "enum", "option", "result"))
PRIM_SIZE = {"bool": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "s32": 4, "u32": 4, "s64": 8,
             "u64": 8, "f32": 4, "f64": 8, "char": 4}
PRIM_FLAT = {"bool": "i32", "s8": "i32", "u8": "i32", "s16": "i32", "u16": "i32", "s32": "i32",
             "u32": "i32", "s64": "i64", "u64": "i64", "f32": "f32", "f64": "f64", "char": "i32"}
DISCRIMINANT_SIZE = {"u8": 1, "u16": 2, "u32": 4}
_MEMO_LIMIT = 50_000
R = TypeVar("R")


def _memo(fn: Callable[[Any], R]) -> Callable[[Any], R]:
    cache: dict[int, tuple[Any, R]] = {}

    def memoised(t: Any) -> R:
        e = cache.get(id(t))
        if e is not None and e[0] is t:
            return e[1]
        r = fn(t)
        if len(cache) >= _MEMO_LIMIT:
            cache.clear()
        cache[id(t)] = (t, r)
        return r

    memoised.__doc__ = fn.__doc__
    memoised.__name__ = fn.__name__
    return memoised


def align_to(ptr: int, alignment: int) -> int:
    return -(-ptr // alignment) * alignment


def despecialize(t: Type) -> str:
    """The spec kind a type is handled as: tuple → record; enum, option, result → variant
    (their cases come from `cases()`, fields from `children()`); map → list (of its `elem`,
    `tuple<K, V>`); others keep their kind."""
    k = t.kind
    if k == "tuple":
        return "record"
    if k == "map":
        return "list"
    if k in VARIANT_KINDS:
        return "variant"
    return k


def discriminant_type(n: int) -> str:
    """u8/u16/u32 for `n` cases: the spec's ``ceil(log2(n)/8)`` bytes, computed exactly
    (``ceil(log2 n) == (n-1).bit_length()``), 3 bytes rounded up to u32.

    (The spec's float formula gives 4 for 2**24 < n < 2**32 and then matches no case; the
    intended answer there is plainly u32, which is what we return.)"""
    assert 0 < n < (1 << 32)
    nbytes = ((n - 1).bit_length() + 7) // 8
    return "u8" if nbytes <= 1 else "u16" if nbytes == 2 else "u32"


def discriminant_size(n: int) -> int:
    return DISCRIMINANT_SIZE[discriminant_type(n)]


def _case_types(t: Type) -> list[Type]:
    return [c for _, c in t.cases() if c is not None]  # type: ignore[attr-defined]


@_memo
def alignment(t: Type) -> int:
    """The spec's `alignment(t, 'i32')`."""
    k = despecialize(t)
    if k in PRIM_SIZE:
        return PRIM_SIZE[k]
    if k in ("string", "list"):
        return PTR_SIZE
    if k == "record":
        return alignment_record(t.children())
    if k == "variant":
        return alignment_variant(t)
    if k == "flags":
        return alignment_flags(len(t.labels))  # type: ignore[attr-defined]
    raise TypeError(f"no canonical ABI for {t!r}")


def alignment_record(field_types: Sequence[Type]) -> int:
    a = 1
    for f in field_types:
        a = max(a, alignment(f))
    return a


def alignment_variant(t: Type) -> int:
    return max(discriminant_size(len(t.cases())), max_case_alignment(t))  # type: ignore[attr-defined]


@_memo
def max_case_alignment(t: Type) -> int:
    a = 1
    for c in _case_types(t):
        a = max(a, alignment(c))
    return a


def alignment_flags(n: int) -> int:
    assert 0 < n <= 32
    return 1 if n <= 8 else 2 if n <= 16 else 4


@_memo
def elem_size(t: Type) -> int:
    """The spec's `elem_size(t, 'i32')`."""
    k = despecialize(t)
    if k in PRIM_SIZE:
        return PRIM_SIZE[k]
    if k in ("string", "list"):
        return 2 * PTR_SIZE
    if k == "record":
        return elem_size_record(t.children())
    if k == "variant":
        return elem_size_variant(t)
    if k == "flags":
        return elem_size_flags(len(t.labels))  # type: ignore[attr-defined]
    raise TypeError(f"no canonical ABI for {t!r}")


def elem_size_record(field_types: Sequence[Type]) -> int:
    s = 0
    for f in field_types:
        s = align_to(s, alignment(f))
        s += elem_size(f)
    assert s > 0
    return align_to(s, alignment_record(field_types))


def elem_size_variant(t: Type) -> int:
    s = align_to(discriminant_size(len(t.cases())), max_case_alignment(t))  # type: ignore[attr-defined]
    cs = 0
    for c in _case_types(t):
        cs = max(cs, elem_size(c))
    return align_to(s + cs, alignment_variant(t))


def elem_size_flags(n: int) -> int:
    assert 0 < n <= 32
    return 1 if n <= 8 else 2 if n <= 16 else 4


@_memo
def field_offsets(t: Type) -> tuple[int, ...]:
    """Offsets of a record's (or tuple's) fields, as `load_record`/`store_record` walk them."""
    out, ptr = [], 0
    for f in t.children():
        ptr = align_to(ptr, alignment(f))
        out.append(ptr)
        ptr += elem_size(f)
    return tuple(out)


@_memo
def payload_offset(t: Type) -> int:
    """Where a variant's payload starts: discriminant size aligned to `max_case_alignment`."""
    return align_to(discriminant_size(len(t.cases())), max_case_alignment(t))  # type: ignore[attr-defined]


@_memo
def case_indices(t: Type) -> dict[str, int]:
    """Case label → index (what `match_case` searches for)."""
    return {name: i for i, (name, _) in enumerate(t.cases())}  # type: ignore[attr-defined]


class VariantInfo(NamedTuple):
    """What loading, storing, lifting and lowering a variant-like type need, computed once."""

    cases: tuple[tuple[str, Type | None], ...]
    disc_size: int
    payload_offset: int
    indices: dict[str, int]
    flat: tuple[str, ...]
    is_enum: bool


@_memo
def variant_info(t: Type) -> VariantInfo:
    cases = tuple(t.cases())  # type: ignore[attr-defined]
    return VariantInfo(cases, discriminant_size(len(cases)), payload_offset(t), case_indices(t),
                       flat_tuple(t), t.kind == "enum")


@_memo
def record_fields(t: Type) -> tuple[tuple[int, Type], ...]:
    """(offset, type) of each field of a record or tuple."""
    return tuple(zip(field_offsets(t), t.children()))


@_memo
def flat_tuple(t: Type) -> tuple[str, ...]:
    """`flatten_type` as an immutable tuple (the memoised form)."""
    k = despecialize(t)
    if k in PRIM_FLAT:
        return (PRIM_FLAT[k],)
    if k in ("string", "list"):
        return (PTR_TYPE, PTR_TYPE)
    if k == "record":
        return tuple(f for c in t.children() for f in flat_tuple(c))
    if k == "variant":
        return tuple(flatten_variant(t))
    if k == "flags":
        return ("i32",)
    raise TypeError(f"no canonical ABI for {t!r}")


def flatten_type(t: Type) -> list[str]:
    """The spec's `flatten_type(t, opts)` for a 32-bit memory."""
    return list(flat_tuple(t))


def flatten_types(ts: Sequence[Type]) -> list[str]:
    return [f for t in ts for f in flat_tuple(t)]


def flatten_variant(t: Type) -> list[str]:
    flat: list[str] = []
    for c in _case_types(t):
        for i, ft in enumerate(flat_tuple(c)):
            if i < len(flat):
                flat[i] = join(flat[i], ft)
            else:
                flat.append(ft)
    return ["i32"] + flat  # flatten_type(discriminant_type(cases)): u8/u16/u32 are all i32


def join(a: str, b: str) -> str:
    """The spec's `join` of two flat types. Written again on purpose (model.types has one): the
    model computes layout from the spec alone, and tests/abi checks that both agree."""
    if a == b:
        return a
    if {a, b} == {"i32", "f32"}:
        return "i32"
    return "i64"


def flatten_functype(param_types: Sequence[Type], result_type: Type | Sequence[Type] | None,
                     context: str) -> tuple[list[str], list[str]]:
    """(core params, core results) of a sync function type, as `flatten_functype` with a
    32-bit memory: params over 16 become one pointer; a result over 1 becomes a returned
    pointer ('lift') or a trailing retptr param and no results ('lower')."""
    if context not in ("lift", "lower"):
        raise ValueError(context)
    results: Sequence[Type]
    if result_type is None:
        results = ()
    elif isinstance(result_type, Type):
        results = (result_type,)
    else:
        results = result_type
    flat_params = flatten_types(param_types)
    flat_results = flatten_types(results)
    if len(flat_params) > MAX_FLAT_PARAMS:
        flat_params = [PTR_TYPE]
    if len(flat_results) > MAX_FLAT_RESULTS:
        if context == "lift":
            flat_results = [PTR_TYPE]
        else:
            flat_params += [PTR_TYPE]
            flat_results = []
    return flat_params, flat_results
