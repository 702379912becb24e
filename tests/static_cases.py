"""Helpers of the static target's tests."""
from __future__ import annotations

from itfuzz.model.case import Call
from itfuzz.model.case import TestCase as DynamicCase


def model_case(tc) -> DynamicCase:
    """The dynamic oracle's case for the same values, engine and call costs."""
    case = tc.case
    return DynamicCase(case.sig, tuple(
        Call(tuple(c.to_model(a) for c, a in zip(case.params, call.args)),
             case.result.to_model(call.ret) if case.result is not None else None, call.nodes)
        for call in tc.calls), tc.config)
