"""Helpers of the static target's tests."""
from __future__ import annotations

import pytest

from itfuzz.findings import Finding
from itfuzz.model.case import Call
from itfuzz.model.case import TestCase as DynamicCase
from itfuzz.static.decode import case_prefix
from itfuzz.static.decode import decode_static_case as decode


def model_case(tc) -> DynamicCase:
    """The dynamic oracle's case for the same values, engine and call costs."""
    case = tc.case
    return DynamicCase(case.sig, tuple(
        Call(tuple(c.to_model(a) for c, a in zip(case.params, call.args)),
             case.result.to_model(call.ret) if case.result is not None else None, call.nodes)
        for call in tc.calls), tc.config)


def run_finding(oracle, table, case) -> Finding:
    """The finding `oracle` reports for static case `case` of `table` (zero value bytes)."""
    with pytest.raises(Finding) as e:
        oracle.run(decode(case_prefix(case.index, table) + b"\x00" * 64, table))
    return e.value


def agrees_with_the_dynamic_oracle(table, indices, rng) -> None:
    """Each static case of `indices`, with short and long value bytes, has the dynamic oracle's
    outcome on the same model values, only ok, discarded or known ones, and some are ok."""
    import faults
    from resource_cases import outcome

    from itfuzz.known_findings import known
    from itfuzz.oracles.roundtrip import RoundTripOracle
    from itfuzz.oracles.static import StaticOracle
    static, dynamic = faults.typed_path(StaticOracle()), RoundTripOracle()
    seen = set()
    for i in indices:
        for size in (8, 300):
            tc = decode(case_prefix(i, table) + rng.randbytes(size))
            got = outcome(static, tc)
            assert got == outcome(dynamic, model_case(tc)), (i, tc.case.sig.wit())
            assert got in ("ok", "discarded") or known(got, "component_static"), (i, got)
            seen.add(got)
    assert "ok" in seen
