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
