"""Bytes → a static test case: one of the generated cases and the engine configuration (the
structure), then the typed values of as many calls as the bytes pay for (`generators.calls`),
drawn by the case's straight-line `arb_N` functions."""
from __future__ import annotations

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
    return replace(head, calls=decode_calls(u, draw))


def static_head(u: Unstructured, cases: Sequence[StaticCase] | None = None) -> StaticTestCase:
    """The structure at the front of `u` (case index, engine configuration), without calls."""
    cases = default_cases() if cases is None else cases
    case = cases[u.int_in_range(0, len(cases) - 1)]
    return StaticTestCase(case, (), decode_config(u))


def static_values_start(data: bytes) -> int:
    """Where the values of a static input start: the length of its structure prefix."""
    u = Unstructured(data)
    static_head(u)
    return u.front
