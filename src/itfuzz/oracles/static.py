"""Static round-trip oracle: types fixed at build time, values through generated typed code.

An input picks one of the generated cases (`itfuzz.static_cases`, see `static_gen`), then the
call count and each call's values, drawn by the case's straight-line `arb_N` functions as typed
objects. The run is the dynamic oracle's (`RoundTripOracle`): same cache, host, checks and
reports; only the converters differ: typed value → wasmtime-py by the generated `tw_N`, and
wasmtime-py → typed → model by `fw_N` then `tm_N`, so the strict model comparison (and the
classification of wasmtime-py's untagged-variant ambiguities) is the shared one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

from ..arbitrary import Unstructured
from ..case import MAX_CALLS, VALUE_FUEL, Call
from ..static_runtime import StaticCase
from ..values import ValueGen
from .roundtrip import Prepared, RoundTripOracle


@dataclass(frozen=True)
class StaticTestCase:
    case: StaticCase
    calls: tuple[Call, ...]  # typed values

    @property
    def sig(self):
        return self.case.sig


_default: list = []


def default_cases() -> Sequence[StaticCase]:
    """The committed-seed cases, (re)generated first if missing or stale."""
    if not _default:
        from .. import static_gen
        static_gen.ensure()
        from .. import static_cases  # type: ignore[attr-defined]
        _default.append(static_cases.CASES)
    return _default[0]


def decode(data: bytes, cases: Optional[Sequence[StaticCase]] = None) -> StaticTestCase:
    """The static test case these bytes stand for: case index, call count, then values."""
    cases = default_cases() if cases is None else cases
    u = Unstructured(data)
    case = cases[u.int_in_range(0, len(cases) - 1)]
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
    return StaticTestCase(case, tuple(calls))


def static_converters(case: StaticCase) -> dict:
    """The `Prepared` converters of a static case: its generated functions."""
    def back(conv, path: str):
        fw, tm = conv.from_wasmtime, conv.to_model
        return lambda x: tm(fw(x, path))
    names = [n for n, _ in case.sig.params]
    r = case.result
    return dict(
        params_in=[c.to_wasmtime for c in case.params],
        params_out=[back(c, f"arg {n}") for c, n in zip(case.params, names)],
        result_in=r.to_wasmtime if r is not None else None,
        result_out=back(r, "result") if r is not None else None,
        params_model=[c.to_model for c in case.params],
        result_model=r.to_model if r is not None else None)


class StaticOracle(RoundTripOracle):
    """`RoundTripOracle` on static cases; raises `Finding` / `Discard` the same way."""

    target = "component_static"

    def prepare_case(self, tc: StaticTestCase) -> Prepared:
        # A case's component text is one string object, hashed once: a cheap cache key.
        return self.entry(tc.case.wat, tc.case.sig, lambda: static_converters(tc.case))
