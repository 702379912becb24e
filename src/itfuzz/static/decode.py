"""Bytes → a static test case: one of the generated cases and the engine configuration (the
structure), then the typed values of as many calls as the bytes pay for (`generators.calls`),
drawn by the case's straight-line `arb_N` functions.

The case index: the first `w` bytes (as many as `plain - 1` needs, `int_in_range` style) read
as one big-endian number `raw`; a plain case is `raw % plain`, exactly what inputs decoded to
before resource cases existed. Resource cases (`cases.plain` on, see `static.gen`) take the
inputs whose first byte is in `RESOURCE_FIRST` (29 of 256 values: about one input in 9, as
dense per case as the plain ones): case `plain + raw % resources`. A selector inside the index
bytes costs no extra byte, so what follows keeps its place; the range is the widest run of
first bytes no shipped seed (`corpus/component_static`) starts with, so every seed keeps its
case (tests/static checks it). Other saved inputs starting with 0x72-0x8e move to a resource case.
Guest-resource cases (`cases.guest`, after the resource ones; their types hold the guest's `gr`)
take the first bytes in `GUEST_FIRST` (0xa8-0xb5, 14 of 256: the widest run no seed used once
the resource seeds were in; about one input in 18, as dense per case): case
`plain + resources + raw % guest`. Same rules: no byte spent, every older seed keeps its case
and outcome; other saved inputs starting with 0xa8-0xb5 move from a plain case to a `gr` case.

The lane (`static_lane`): one input in 4 runs on the C-API lane, by a checksum of the whole
input, so no byte is read for it and every input keeps its case and values; the rest run on
wasmtime-py's typed path, which is what this target tests.
"""
from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from itfuzz.generators.calls import decode_calls
from itfuzz.generators.engine_configs import decode_config
from itfuzz.generators.unstructured import Unstructured
from itfuzz.generators.valuegen import ValueGen
from itfuzz.model.case import Call
from itfuzz.model.engine_config import EngineConfig
from itfuzz.static.gen import require_fresh
from itfuzz.static.runtime import StaticCase


@dataclass(frozen=True)
class StaticTestCase:
    case: StaticCase
    calls: tuple[Call, ...]  # typed values
    config: EngineConfig | None = None  # the engine it runs on (None: Wasmtime's default)
    lane: str = "py"  # "c": the typed values as model values on the C-API lane (`static_lane`)

    @property
    def sig(self):
        return self.case.sig


_default: list = []


def default_cases() -> Sequence[StaticCase]:
    """The committed-seed cases (`require_fresh` first: they must be generated and current)."""
    if not _default:
        require_fresh()
        from itfuzz.static import cases as static_cases  # type: ignore[attr-defined]
        _default.append(static_cases.CASES)
    return _default[0]


def decode_static_case(data: bytes, cases: Sequence[StaticCase] | None = None) -> StaticTestCase:
    """The static test case these bytes stand for: the structure (`static_head`), then the calls'
    values."""
    u = Unstructured(data)
    head = static_head(u, cases)
    case = head.case

    def draw(g: ValueGen) -> Call:
        args = tuple(c.arb(g) for c in case.params)
        if case.sig.echo:
            return Call(args, args[0])
        ret: Any = case.result.arb(g) if case.result is not None else None
        return Call(args, ret)
    return replace(head, calls=decode_calls(u, draw), lane=static_lane(data))


def static_lane(data: bytes) -> str:
    """The C-API lane for one input in 4 (a checksum: no byte read), else wasmtime-py's."""
    return "c" if zlib.crc32(data) % 4 == 0 else "py"


RESOURCE_FIRST = range(0x72, 0x8F)  # first input bytes that select a resource case
GUEST_FIRST = range(0xA8, 0xB6)  # first input bytes that select a guest-resource (`gr`) case


def static_head(u: Unstructured, cases: Sequence[StaticCase] | None = None) -> StaticTestCase:
    """The structure at the front of `u` (case index, engine configuration), without calls."""
    cases = default_cases() if cases is None else cases
    start = u.front
    raw = u.int_in_range(0, (1 << 8 * index_width(layout(cases)[0])) - 1)
    first = u.data[start] if u.front > start else None
    case = cases[case_index(raw, first, *layout(cases))]
    return StaticTestCase(case, (), decode_config(u))


def index_width(plain: int) -> int:
    """Bytes of the case index: as many as `int_in_range(0, plain - 1)` reads."""
    return ((plain - 1).bit_length() + 7) // 8


def layout(cases: Sequence[StaticCase]) -> tuple[int, int, int]:
    """(plain, resource, guest-resource) case counts of a table (a plain list: all plain)."""
    plain = getattr(cases, "plain", len(cases))
    resources = getattr(cases, "resources", len(cases) - plain)
    return plain, resources, len(cases) - plain - resources


def case_index(raw: int, first: int | None, plain: int, resources: int, guest: int) -> int:
    """The case the index bytes `raw` (whose first byte is `first`) select."""
    if resources and first in RESOURCE_FIRST:
        return plain + raw % resources
    if guest and first in GUEST_FIRST:
        return plain + resources + raw % guest
    return raw % plain


def case_prefix(index: int, cases: Sequence[StaticCase]) -> bytes:
    """The shortest-valued index bytes that select case `index` (tests, seeds)."""
    counts = layout(cases)
    w = index_width(counts[0])
    for raw in range(1 << 8 * w):
        if case_index(raw, raw >> 8 * (w - 1) if w else None, *counts) == index:
            return raw.to_bytes(w, "big")
    raise IndexError(f"no index bytes select static case {index} of {len(cases)}")


def static_values_start(data: bytes) -> int:
    """Where the values of a static input start: the length of its structure prefix."""
    u = Unstructured(data)
    static_head(u)
    return u.front
