"""The value part of an input: the calls of one case, as many as the value bytes pay for.

An input's structure (signature, engine configuration, lane: whatever its decoder reads before
the values) picks one compiled component; the rest of the bytes are calls on it, drawn one after
another until the bytes run out (always at least one call), like Wasmtime's own component
fuzz target. Three bounds keep an input well under libFuzzer's timeout: at most `MAX_CALLS`
calls, at most `VALUE_FUEL` value nodes per call and `VALUE_BUDGET` for the whole input, and
a call that reads no byte ends the list (every later call would be the same).
"""
from __future__ import annotations

from collections.abc import Callable

from itfuzz.generators.unstructured import Unstructured
from itfuzz.generators.valuegen import ValueGen
from itfuzz.model.case import MAX_CALLS, VALUE_BUDGET, VALUE_FUEL, Call

CALL_COST = 4  # budget units a call costs besides its value nodes (bounds empty-valued calls)


def decode_calls(u: Unstructured, draw: Callable[[ValueGen], Call]) -> tuple[Call, ...]:
    """Calls drawn by `draw` from the rest of `u`: at least one, until the bytes, the budget
    or `MAX_CALLS` run out. Total and deterministic."""
    vg = ValueGen(u, fuel=VALUE_FUEL)
    budget = VALUE_BUDGET
    calls: list[Call] = []
    while True:
        before = (u.front, u.back)
        vg.fuel = fuel = min(VALUE_FUEL, budget)
        call = draw(vg)
        calls.append(Call(call.args, call.ret, fuel - vg.fuel))
        budget -= CALL_COST + fuel - vg.fuel
        if (u.is_empty() or (u.front, u.back) == before or budget <= 0
                or len(calls) >= MAX_CALLS):
            return tuple(calls)


def model_call(params, result, echo: bool) -> Callable[[ValueGen], Call]:
    """`draw` for model values: one value per parameter type, then the host's result (the
    argument itself for an echo)."""
    def draw(vg: ValueGen) -> Call:
        args = tuple(vg.gen(t) for t in params)
        if echo:
            return Call(args, args[0])
        return Call(args, vg.gen(result) if result is not None else None)
    return draw
