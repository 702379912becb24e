"""Many calls per input: a fault in a late call is found, and the report names that call."""
from __future__ import annotations

import random

import pytest

from itfuzz import targets
from itfuzz.findings import Finding
from itfuzz.generators.signatures import decode_roundtrip
from itfuzz.model.case import Call, Signature
from itfuzz.model.case import TestCase as Case
from itfuzz.model.types import PRIMS
from itfuzz.oracles.calls import CALL_UNITS, PY_MAX_NODES, WORK_BUDGET, affordable
from itfuzz.oracles.roundtrip import RoundTripOracle

u32 = PRIMS["u32"]


def fail_at_call(k: int):
    """A host-side fault: the k-th value handed to wasmtime-py (per compiled entry) is off by one."""
    def transform(entry):
        orig, seen = entry.params_in[0], [0]

        def conv(v):
            seen[0] += 1
            return orig(v) + 1 if seen[0] == k and isinstance(v, int) else orig(v)
        entry.params_in[0] = conv
    return transform


def test_a_fault_in_call_seven_is_found_and_named():
    sig = Signature((("x", u32),), u32, echo=True)
    case = Case(sig, tuple(Call((v,), v) for v in range(10)))
    RoundTripOracle(cache_size=2).run(case)  # clean without the fault
    with pytest.raises(Finding) as e:
        RoundTripOracle(cache_size=2, transform=fail_at_call(7)).run(case)
    assert e.value.signature == "host-arg-mismatch|u32:value:int->int"
    assert "call #7 of 10" in e.value.report()


def test_a_decoded_input_with_many_calls_finds_a_late_fault():
    """Through the decoder: an input that decodes to more than 8 u32 echo calls."""
    rng = random.Random(1)
    for _ in range(20000):
        data = bytes(rng.getrandbits(8) for _ in range(64))
        case = decode_roundtrip(data)
        if (case.sig.params == (("x", u32),) and case.sig.echo and case.sig.shape == "single"
                and len(case.calls) > 8):
            break
    else:
        pytest.fail("no input with a u32 echo and > 8 calls")
    target = targets.get("component_roundtrip")
    assert target.execute(data).status == "ok"
    target._oracle = RoundTripOracle(transform=fail_at_call(6))
    with pytest.raises(Finding) as e:
        target.execute(data)
    assert f"call #6 of {len(case.calls)}" in e.value.report()


def test_costly_values_run_fewer_calls():
    per_call = 1 + CALL_UNITS  # a one-node value of a variant-free type, and the call itself
    calls = tuple(Call((i,), i, nodes=1) for i in range(100))
    assert len(affordable(calls, 0)) == WORK_BUDGET // per_call
    few = calls[:WORK_BUDGET // per_call]
    assert affordable(few, 0) == few
    assert len(affordable(calls, WORK_BUDGET // 5 - 1 - CALL_UNITS)) == 5  # (1 + work) x 1 node
    big = tuple(Call((i,), i, nodes=WORK_BUDGET // 4 - CALL_UNITS) for i in range(100))
    assert len(affordable(big, 0)) == 4
    assert len(affordable(calls, WORK_BUDGET * 3)) == 1  # the first call always runs


def _echo_case(first_nodes: int, lane: str) -> Case:
    sig = Signature((("x", u32),), u32, echo=True)
    return Case(sig, (Call((7,), 7, nodes=first_nodes), Call((8,), 8, nodes=1)), lane=lane)


@pytest.mark.parametrize("nodes, runs_on", [(PY_MAX_NODES, "py"), (PY_MAX_NODES + 1, "c")])
def test_a_wasmtime_py_case_with_a_big_first_call_runs_on_the_c_lane(nodes, runs_on):
    oracle = RoundTripOracle(cache_size=2)
    if oracle.c_lane.lib is None:
        pytest.skip(oracle.c_lane.note)
    oracle.run(_echo_case(nodes, "py"))
    # wasmtime-py's budget has no room for a second call after a first one this big
    assert oracle.stats["lanes"] == ({"c": 2, "py": 0} if runs_on == "c" else {"c": 0, "py": 1})
    assert oracle.stats.get("py-big-on-c", 0) == (runs_on == "c")
    assert oracle.c_lane.forced == {}  # not a C case forced onto wasmtime-py


class _KeepsPy(RoundTripOracle):
    big_py_on_c = False  # as the static target's oracle


def test_a_big_first_call_stays_on_wasmtime_py_when_c_cannot_run_it():
    """A planted wasmtime-py fault (`transform`) keeps the case there, big or not; so does an
    oracle that keeps its wasmtime-py cases (`big_py_on_c`)."""
    if RoundTripOracle(cache_size=2).c_lane.lib is None:
        pytest.skip("no C-API lane here: every case stays on wasmtime-py anyway")
    case = _echo_case(PY_MAX_NODES + 1, "py")
    with pytest.raises(Finding) as e:
        RoundTripOracle(cache_size=2, transform=fail_at_call(1)).run(case)
    assert e.value.signature == "host-arg-mismatch|u32:value:int->int"
    assert "C-API lane" not in e.value.engine
    oracle = _KeepsPy(cache_size=2)
    oracle.run(case)
    assert oracle.stats["lanes"] == {"c": 0, "py": 1} and "py-big-on-c" not in oracle.stats
