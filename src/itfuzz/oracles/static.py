"""Static round-trip oracle: types fixed at build time, values through generated typed code.

Cases come from `itfuzz.static.decode` (one of the generated cases, see `itfuzz.static.gen`, and
typed values). The run is the dynamic oracle's (`RoundTripOracle`): same cache, host, checks and
reports; only the converters differ: typed value → wasmtime-py by the generated `tw_N`, and
wasmtime-py → typed → model by `fw_N` then `tm_N`, so the strict model comparison (and the
classification of wasmtime-py's untagged-variant ambiguities) is the shared one. A case whose
types hold the guest's `gr`: `g` receives its `g_params` form (u32 reps) and returns `f`'s
typed result as the model's reps (`g_result_in`, the dynamic oracle's).
"""
from __future__ import annotations

from itfuzz.generators.components import for_config
from itfuzz.model.engine_config import EngineConfig
from itfuzz.model.resources import has_guest
from itfuzz.oracles.roundtrip import Prepared, RoundTripOracle, g_result_in
from itfuzz.static.decode import StaticTestCase
from itfuzz.static.runtime import StaticCase


def static_converters(case: StaticCase) -> dict:
    """The `Prepared` converters of a static case: its generated functions."""
    def back(conv, path: str):
        fw, tm = conv.from_wasmtime, conv.to_model
        return lambda x: tm(fw(x, path))
    names = [n for n, _ in case.sig.params]
    r = case.result
    result_in = r.to_wasmtime if r is not None else None
    if r is not None and has_guest(case.sig.result):
        reps, tm = g_result_in(case.sig.result), r.to_model
        result_in = lambda v: reps(tm(v))  # noqa: E731
    received = case.params if case.g_params is None else case.g_params
    return dict(
        params_in=[c.to_wasmtime for c in case.params],
        params_out=[back(c, f"arg {n}") for c, n in zip(received, names)],
        result_in=result_in,
        result_out=back(r, "result") if r is not None else None,
        params_model=[c.to_model for c in case.params],
        result_model=r.to_model if r is not None else None)


class StaticOracle(RoundTripOracle):
    """`RoundTripOracle` on static cases; raises `Finding` / `Discard` the same way."""

    target = "component_static"
    big_py_on_c = False  # its wasmtime-py lane is the generated typed converters': kept there

    def prepare_case(self, tc: StaticTestCase) -> Prepared:
        # A case's component text is one string object, hashed once: a cheap cache key.
        self.use_config(tc.config)
        return self.entry(self.component_of(tc)[1], tc.case.sig,
                          lambda: static_converters(tc.case), tc.config)

    def component_of(self, tc: StaticTestCase) -> tuple[EngineConfig | None, str]:
        return tc.config, for_config(tc.case.wat, tc.config)
