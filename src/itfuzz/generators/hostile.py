"""Bytes → a hostile-guest case: a guest that hands Wasmtime invalid data, or a hostile `realloc`.

Three directions, each judged by our canonical-ABI model (`itfuzz.abi`) at decode time, so the
case carries the spec's verdict before Wasmtime runs:

- ``lift-result``: the export ``f: func() -> T`` returns input-chosen flat values over an
  input-chosen memory image; Wasmtime lifts ``T`` for the host.
- ``lift-args``: the guest's ``run: func()`` calls the host import ``g(p0: T0, …)`` with
  input-chosen flat values (or a spill pointer) over an input-chosen image; Wasmtime lifts the
  arguments before the host runs.
- ``lower-args``: the host calls ``f(p0: T0, …)`` with valid values and the guest's ``realloc``
  answers from an input-chosen table (misaligned, out of bounds, overlapping, zero, the last
  bytes of memory, or a fresh aligned block); Wasmtime lowers the arguments into the guest.
- ``adapter``: guest to guest through Wasmtime's fused adapter. A caller component calls a
  callee component's ``f(p0: T0, …)`` with input-chosen flat values over an input-chosen image
  in its memory (its own string encoding); the callee (another encoding, all 9 pairs) has the
  hostile realloc. The spec lifts from the caller, then lowers into the callee.

The images start valid: the values are lowered by the model with a bump allocator, then 0–4
mutations (a flat value, a byte or an aligned word of the image) replace what is there with edge
values. Input layout: direction, string encoding, types, values, then mutations or realloc
answers (structure first, so value mutations keep the compiled component).
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass, replace
from typing import Any

from itfuzz.abi.context import Context, ReallocCall
from itfuzz.abi.errors import Trap
from itfuzz.abi.flat import lift_flat_values, lower_flat_values
from itfuzz.generators.engine_configs import decode_config
from itfuzz.generators.typegen import TypeGen, label
from itfuzz.generators.unstructured import Unstructured
from itfuzz.generators.valuegen import ValueGen
from itfuzz.model.case import ENCODINGS, Signature
from itfuzz.model.engine_config import EngineConfig
from itfuzz.model.types import MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, Type, walk

DIRECTIONS = ("lift-result", "lift-args", "lower-args", "adapter")
PAGE = 65536
MEMORY_SIZE = PAGE          # one page, no growth: bounds are the same for the model and Wasmtime
BASE = 1024                 # first byte of the image / the bump heap
TYPE_FUEL = 120
VALUE_FUEL = 600
MAX_PARAMS = 4
MAX_MUTATIONS = 4
MAX_REALLOCS = 4096         # answers the guest's table holds (more: the case is not run)
WORD_EDGES = (0, 1, 2, 3, 4, 7, 8, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0xD800, 0xDFFF,
              0x10FFFF, 0x110000, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFE, 0xFFFFFFFF,
              MEMORY_SIZE - 1, MEMORY_SIZE, MEMORY_SIZE + 1, 0x0FFFFFFF, 0x10000000)
BYTE_EDGES = (0, 1, 2, 3, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFE, 0xFF)
# How a hostile realloc answers (the `fresh` answer is the spec-following bump allocation).
REALLOC_ANSWERS = ("fresh", "fresh", "fresh", "misaligned", "out-of-bounds", "end-of-memory",
                   "zero", "overlap", "old", "huge")


@dataclass(frozen=True)
class Mutation:
    """One hostile change of a valid lowering: `where` is "flat" (index into the flat values),
    "byte" or "word" (offset into memory); `value` replaces what was there."""

    where: str
    at: int
    value: int

    def __str__(self) -> str:
        if self.where == "flat":
            return f"flat[{self.at}] = {self.value:#x}"
        return f"{self.where} at {self.at:#x} = {self.value:#x}"


@dataclass(frozen=True)
class Verdict:
    """What the spec demands: the values (lift: what the host gets; lower: the flat values the
    guest gets) or a trap with its reason, and the realloc calls made on the way."""

    values: tuple | None
    trap: str | None
    trap_detail: str = ""
    reallocs: tuple[ReallocCall, ...] = ()
    memory: bytes = b""  # lower-args, adapter: the guest memory after lowering (value verdicts)
    nan: bool = False    # a NaN was lowered: its bits are open (flat values and memory unjudged)

    @property
    def name(self) -> str:
        return f"trap:{self.trap}" if self.trap else "value"


@dataclass(frozen=True)
class HostileCase:
    direction: str
    sig: Signature             # lift-result: () -> T; lift-args / lower-args: (T0, …) -> ()
    values: tuple              # the valid values the image or the host call starts from
    flat: tuple[int, ...]      # lift: the flat values the guest hands over (after mutations)
    image: bytes               # lift: memory[BASE:BASE+len(image)] (after mutations)
    mutations: tuple[Mutation, ...]
    answers: tuple[int, ...]   # lower-args: what the guest's realloc returns, call by call
    answer_kinds: tuple[str, ...]
    expected: Verdict
    note: str = ""             # why there is no runnable case ("" when there is)
    config: EngineConfig | None = None  # the engine it runs on (None: Wasmtime's default)

    @property
    def types(self) -> list[Type]:
        return self.sig.types()


def _signature(u: Unstructured, direction: str, encoding: str) -> Signature:
    callee = u.choose(ENCODINGS) if direction == "adapter" else None
    shape = {"shape": "composed", "callee_encoding": callee} if callee else {}
    tg = TypeGen(u, fuel=TYPE_FUEL)
    if direction == "lift-result":
        return Signature((), tg.gen(), encoding)
    n = u.int_in_range(1, MAX_PARAMS)
    style = u.int_in_range(0, 5)
    return Signature(tuple((label(i, style), tg.gen()) for i in range(n)), None, encoding,
                     **shape)


def _canonical_nans(t: Type, v: Any) -> Any:
    """Host values for lowering: NaNs made canonical (the bits of a lowered NaN are open)."""
    if t.kind in ("f32", "f64"):
        return math.nan if math.isnan(v) else v
    if not any(n.kind in ("f32", "f64") for n in walk(t)):
        return v
    if t.kind == "list":
        return [_canonical_nans(t.elem, x) for x in v]  # type: ignore[attr-defined]
    if t.kind in ("record", "tuple"):
        return tuple(_canonical_nans(c, x) for c, x in zip(t.children(), v))
    if t.kind in ("variant", "option", "result"):
        payload = dict(t.cases())[v[0]]  # type: ignore[attr-defined]
        return (v[0], None if payload is None else _canonical_nans(payload, v[1]))
    return v


class PageBump:
    """The spec-following allocator the valid images are made with: aligned, fresh blocks from
    `BASE` up, old contents copied on growth."""

    def __init__(self, memory: bytearray, top: int = BASE) -> None:
        self.memory, self.top = memory, top

    def fresh(self, align: int, size: int) -> int:
        p = -(-self.top // align) * align
        self.top = p + size
        return p

    def __call__(self, old: int, old_size: int, align: int, size: int) -> int:
        p = self.fresh(align, size)
        copy_block(self.memory, old, old_size, p, size)
        return p


def copy_block(memory: bytearray, old: int, old_size: int, new: int, size: int) -> None:
    """What the guests' realloc does with a moved block: copy min(old, new) bytes when both
    ranges are inside memory (the generated Wasm does exactly this)."""
    n = min(old_size, size)
    if old and new != old and n and old + n <= len(memory) and new + n <= len(memory):
        memory[new:new + n] = memory[old:old + n]


def _lower_valid(sig: Signature, values: tuple, max_flat: int) -> tuple[list[int], bytearray, int]:
    """Flat values and memory of a valid lowering (bump allocation from BASE); raises Trap or
    `_TooLarge`."""
    memory = bytearray(MEMORY_SIZE)
    bump = PageBump(memory)
    cx = Context(memory, sig.encoding, bump)
    flat = lower_flat_values(cx, max_flat, list(values), sig.types())
    if bump.top > MEMORY_SIZE:
        raise _TooLarge
    return flat, memory, bump.top


class _TooLarge(Exception):
    """The valid lowering does not fit the guest's one page."""


def _mutations(u: Unstructured, flat: list[int], flat_types: list[str], memory: bytearray,
               top: int) -> list[Mutation]:
    out = []
    for _ in range(u.int_in_range(0, MAX_MUTATIONS)):
        where = u.choose(("flat", "byte", "word", "word") if flat else ("byte", "word"))
        if where == "flat":
            i = u.choose_index(len(flat))
            wide = flat_types[i] in ("i64", "f64")
            value = (u.choose(WORD_EDGES) + (u.choose((0, 1 << 32, 0xFFFFFFFF << 32)) if wide else 0)
                     if u.ratio(3, 4) else flat[i] + u.int_in_range(-8, 8))
            out.append(Mutation("flat", i, value & ((1 << (64 if wide else 32)) - 1)))
            continue
        span = max(top - BASE, 1)
        if where == "byte":
            out.append(Mutation("byte", BASE + u.int_in_range(0, span - 1), u.choose(BYTE_EDGES)))
        else:
            at = BASE + 4 * u.int_in_range(0, max(span // 4 - 1, 0))
            near = int.from_bytes(memory[at:at + 4], "little") + u.int_in_range(-8, 8)
            out.append(Mutation("word", at, (u.choose(WORD_EDGES) if u.ratio(3, 4) else near)
                                & 0xFFFFFFFF))
    return out


def _apply(mutations: list[Mutation], flat: list[int], memory: bytearray) -> None:
    for m in mutations:
        if m.where == "flat":
            flat[m.at] = m.value
        elif m.where == "byte":
            memory[m.at] = m.value
        else:
            memory[m.at:m.at + 4] = struct.pack("<I", m.value)


def _lift_verdict(sig: Signature, max_flat: int, flat: list[int], memory: bytearray) -> Verdict:
    cx = Context(bytearray(memory), sig.encoding, None)
    try:
        values = lift_flat_values(cx, max_flat, list(flat), sig.types())
    except Trap as t:
        return Verdict(None, t.reason, t.detail)
    return Verdict(tuple(values), None)


def handed_types(sig: Signature, direction: str) -> tuple[str, ...]:
    """Core types of the flat values crossing the boundary (one i32 pointer when they spill);
    in the adapter the caller's and the callee's are the same."""
    if direction == "lift-result":
        flat = sig.result.flat if sig.result is not None else ()
        return flat if len(flat) <= MAX_FLAT_RESULTS else ("i32",)
    flat = sig.flat_params
    return flat if len(flat) <= MAX_FLAT_PARAMS else ("i32",)


class HostileRealloc:
    """The guest's realloc in the model: answer k is drawn from the input on first use (from the
    call's alignment and size) and recorded for the guest's table; moved blocks are copied."""

    def __init__(self, u: Unstructured, memory: bytearray) -> None:
        self.u, self.memory = u, memory
        self.bump = PageBump(memory)
        self.answers: list[int] = []
        self.kinds: list[str] = []
        self.given: list[int] = []

    def __call__(self, old: int, old_size: int, align: int, size: int) -> int:
        if len(self.answers) >= MAX_REALLOCS:
            raise Trap("realloc-trap", f"more than {MAX_REALLOCS} realloc calls (harness limit)")
        kind = self.u.choose(REALLOC_ANSWERS)
        p = self._answer(kind, old, align, size) & 0xFFFFFFFF  # what the guest's i32 returns
        self.answers.append(p)
        self.kinds.append(kind)
        copy_block(self.memory, old, old_size, p, size)
        self.given.append(p)
        return p

    def _answer(self, kind: str, old: int, align: int, size: int) -> int:
        u = self.u
        if kind == "misaligned" and align > 1:
            return self.bump.fresh(align, size) + u.int_in_range(1, align - 1)
        if kind == "out-of-bounds":
            return MEMORY_SIZE - size + u.int_in_range(1, 8)
        if kind == "end-of-memory":
            return (MEMORY_SIZE - size) // align * align
        if kind == "zero":
            return 0
        if kind == "overlap" and self.given:
            return u.choose(self.given)
        if kind == "old":
            return old
        if kind == "huge":
            return u.choose((0x7FFFFFFF, 0x80000000, 0xFFFFFFF8, 0xFFFFFFFF)) & -align & 0xFFFFFFFF
        return self.bump.fresh(align, size)


def _lower_verdict(sig: Signature, values: tuple, realloc: HostileRealloc, encoding: str,
                   nan: bool = False) -> Verdict:
    cx = Context(realloc.memory, encoding, realloc)
    try:
        flat = lower_flat_values(cx, MAX_FLAT_PARAMS, list(values), sig.types())
    except Trap as t:
        return Verdict(None, t.reason, t.detail, tuple(cx.realloc_log))
    return Verdict(tuple(flat), None, "", tuple(cx.realloc_log), bytes(realloc.memory), nan)


def _adapter_verdict(sig: Signature, flat: list[int], memory: bytearray,
                     realloc: HostileRealloc) -> Verdict:
    """The spec's guest-to-guest call: lift from the caller (its encoding, strings keep their
    source hint), then lower into the callee (its encoding, its realloc)."""
    cx = Context(bytearray(memory), sig.encoding, None, keep_string_hints=True)
    try:
        values = lift_flat_values(cx, MAX_FLAT_PARAMS, list(flat), sig.types())
    except Trap as t:
        return Verdict(None, t.reason, "lifting from the caller: " + t.detail)
    nan = any(_has_nan(t, v) for t, v in zip(sig.types(), values))
    return _lower_verdict(sig, tuple(values), realloc, sig.callee_encoding or "utf8", nan)


def _has_nan(t: Type, v: Any) -> bool:
    """Whether a (lifted) value holds a NaN anywhere."""
    if t.kind in ("f32", "f64"):
        return math.isnan(v)
    if not any(n.kind in ("f32", "f64") for n in walk(t)):
        return False
    if t.kind == "list":
        return any(_has_nan(t.elem, x) for x in v)  # type: ignore[attr-defined]
    if t.kind in ("record", "tuple"):
        return any(_has_nan(c, x) for c, x in zip(t.children(), v))
    if t.kind in ("variant", "option", "result"):
        payload = dict(t.cases())[v[0]]  # type: ignore[attr-defined]
        return payload is not None and _has_nan(payload, v[1])
    return False


def hostile_head(u: Unstructured) -> tuple[str, str, Signature, EngineConfig | None]:
    """The structure of a hostile input (what its component depends on): direction, string
    encoding, signature (keyed by the bytes it came from), engine configuration."""
    start = u.front
    direction = u.choose(DIRECTIONS)
    encoding = u.choose(ENCODINGS)
    sig = _signature(u, direction, encoding)
    sig = replace(sig, key=(b"\1" if u.is_empty() else b"\0") + u.data[start:u.front])
    return direction, encoding, sig, decode_config(u)


def decode_hostile_case(data: bytes, hostile: bool = True) -> HostileCase:
    """The hostile case these bytes stand for, with the model's verdict; total and
    deterministic (a case whose valid lowering does not fit one page has a `note` instead).
    With ``hostile=False`` nothing is made hostile (no mutations, every realloc answer fresh):
    the layout-agreement case of the same types and values."""
    u = Unstructured(data)
    direction, encoding, sig, config = hostile_head(u)
    vg = ValueGen(u, fuel=VALUE_FUEL)
    values = tuple(vg.gen(t) for t in sig.types())
    empty = Verdict(None, None)
    if direction == "lower-args":
        values = tuple(_canonical_nans(t, v) for t, v in zip(sig.types(), values))
        realloc = HostileRealloc(u if hostile else Unstructured(b""), bytearray(MEMORY_SIZE))
        expected = _lower_verdict(sig, values, realloc, encoding)
        note = "too many realloc calls" if expected.trap == "realloc-trap" else ""
        return HostileCase(direction, sig, values, (), b"", (), tuple(realloc.answers),
                           tuple(realloc.kinds), expected, note, config)
    max_flat = MAX_FLAT_RESULTS if direction == "lift-result" else MAX_FLAT_PARAMS
    if direction == "adapter":
        values = tuple(_canonical_nans(t, v) for t, v in zip(sig.types(), values))
    try:
        flat, memory, top = _lower_valid(sig, values, max_flat)
    except (_TooLarge, Trap):
        return HostileCase(direction, sig, values, (), b"", (), (), (), empty,
                           note="the valid lowering does not fit one page", config=config)
    flat_types = list(handed_types(sig, direction))
    mutations = _mutations(u, flat, flat_types, memory, top) if hostile else []
    _apply(mutations, flat, memory)
    answers: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()
    note = ""
    if direction == "adapter":
        realloc = HostileRealloc(u if hostile else Unstructured(b""), bytearray(MEMORY_SIZE))
        expected = _adapter_verdict(sig, flat, memory, realloc)
        answers, kinds = tuple(realloc.answers), tuple(realloc.kinds)
        note = "too many realloc calls" if expected.trap == "realloc-trap" else ""
    else:
        expected = _lift_verdict(sig, max_flat, flat, memory)
    end = max([top] + [m.at + (1 if m.where == "byte" else 4) for m in mutations
                       if m.where != "flat"])
    return HostileCase(direction, sig, values, tuple(flat), bytes(memory[BASE:end]),
                       tuple(mutations), answers, kinds, expected, note, config)
