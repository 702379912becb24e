"""Bytes → a static test case: one of the generated cases, the engine configuration, then the call
count and the typed values drawn by its straight-line `arb_N` functions."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from itfuzz.generators.engine_configs import decode_config
from itfuzz.generators.unstructured import Unstructured
from itfuzz.generators.valuegen import ValueGen
from itfuzz.model.case import MAX_CALLS, VALUE_FUEL, Call
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
    """The static test case these bytes stand for: case index, engine configuration, call
    count, then values."""
    cases = default_cases() if cases is None else cases
    u = Unstructured(data)
    case = cases[u.int_in_range(0, len(cases) - 1)]
    config = decode_config(u)
    n_calls = u.int_in_range(1, MAX_CALLS)
    g = ValueGen(u, fuel=VALUE_FUEL)
    calls = []
    for _ in range(n_calls):
        args = tuple(c.arb(g) for c in case.params)
        if case.sig.echo:
            ret: Any = args[0]
        else:
            ret = case.result.arb(g) if case.result is not None else None
        calls.append(Call(args, ret))
    return StaticTestCase(case, tuple(calls), config)
