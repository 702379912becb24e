"""Guest-resource cases of the component_static target: `own<gr>` / `borrow<gr>` of the
component's own resource in build-time types (nested, mixed with r0/r1), selected by their own
first bytes (older inputs keep their case), run through the dynamic oracle's `gr` machinery on
both lanes, and planted `gr` faults reported."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from faults import plant_static_converters, typed_path
from resource_cases import outcome
from static_cases import agrees_with_the_dynamic_oracle, run_finding

from itfuzz.known_findings import known
from itfuzz.model.resources import GuestHandle
from itfuzz.model.types import walk
from itfuzz.oracles import static as static_oracle
from itfuzz.oracles.static import StaticOracle
from itfuzz.static.decode import GUEST_FIRST, case_prefix
from itfuzz.static.decode import decode_static_case as decode

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [p.read_bytes() for p in sorted((ROOT / "corpus" / "component_static").iterdir())]


def gr_range(table) -> range:
    return range(table.plain + table.resources, len(table))


def test_gr_seeds_pick_gr_cases_with_own_and_borrow(cases):
    res = [decode(d) for d in SEEDS if d[:1] and d[0] in GUEST_FIRST]
    assert len(res) >= 8 and all(tc.case.index in gr_range(cases) for tc in res)
    gr = [n for tc in res for t in tc.sig.types() for n in walk(t) if isinstance(n, GuestHandle)]
    assert {n.own for n in gr} == {True, False}
    assert any(tc.sig.resources for tc in res)  # with r0/r1 too


def test_gr_cases_round_trip_and_agree_with_the_dynamic_oracle(cases):
    rng = random.Random(6)
    agrees_with_the_dynamic_oracle(cases, sorted(rng.sample(gr_range(cases), 24)), rng)


def test_gr_cases_agree_on_both_lanes(cases):
    rng = random.Random(8)
    py, c = typed_path(StaticOracle()), StaticOracle()
    c.c_lane.force = "c"
    for i in sorted(rng.sample(gr_range(cases), 16)):
        tc = decode(case_prefix(i, cases) + rng.randbytes(200))
        assert outcome(c, tc) == outcome(py, tc), i
    assert c.stats["lanes"]["c"] > 0 and c.stats["lanes"]["py"] == 0


# -- fault injection ----------------------------------------------------------------------
def first_gr_own_case(table):
    """The first gr case with a top-level `own<gr>` parameter (`f` drops it; `g` sees its rep)."""
    for i in gr_range(table):
        if any(isinstance(t, GuestHandle) and t.own for _, t in table[i].sig.params):
            return table[i]
    pytest.skip("no gr case with a top-level own<gr> parameter")


def test_clean_gr_case_passes(cases):
    case = first_gr_own_case(cases)
    typed_path(StaticOracle()).run(decode(case_prefix(case.index, cases) + b"\x00" * 64))


def test_swapped_gr_handle_in_the_converters_is_reported(tmp_path):
    """Plant: the generated `tw_N` of `own<gr>` sends the handle of another rep."""
    table = plant_static_converters(tmp_path, "handle-swap")
    f = run_finding(typed_path(StaticOracle()), table, first_gr_own_case(table))
    assert (f.target, f.signature) == ("component_static", "host-arg-mismatch|u32:value:int->int")


@pytest.mark.parametrize("lane", ["py", "c"])
@pytest.mark.parametrize("old, new, signature", [
    # the destructor counts twice per run
    ("(global.set $n (i32.add (global.get $n) (i32.const 1)))",
     "(global.set $n (i32.add (global.get $n) (i32.const 2)))", "gr-dtor|in-call:count=more"),
    # `f` keeps the own it got: its destructor never runs
    ("(call $gr_drop (local.get 0)) (local.get 1))", "(local.get 1))",
     "gr-dtor|in-call:count=less"),
])
def test_gr_faults_in_the_component_are_reported(monkeypatch, cases, lane, old, new, signature):
    """Plant: the static case's component text changed (the destructor runs twice / never)."""
    original = static_oracle.for_config

    def planted(wat, config):
        assert old in wat, "the fault was not planted"
        return original(wat.replace(old, new), config)
    monkeypatch.setattr(static_oracle, "for_config", planted)
    oracle = StaticOracle()
    oracle.c_lane.force = lane
    f = run_finding(oracle, cases, first_gr_own_case(cases))
    assert (f.target, f.signature) == ("component_static", signature)
    assert oracle.stats["lanes"][lane] > 0


@pytest.mark.slow
def test_2000_static_gr_inputs_round_trip(cases):
    """≥ 2,000 decoded static gr inputs (each on the lane it chooses) on this release: only
    known findings."""
    oracle, rng, bad = StaticOracle(), random.Random(14), []
    for _ in range(2000):
        data = bytes([rng.choice(GUEST_FIRST)]) + rng.randbytes(rng.choice((16, 64, 256)))
        tc = decode(data)
        assert tc.sig.guest
        got = outcome(oracle, tc)
        if got not in ("ok", "discarded") and known(got, "component_static") is None:
            bad.append((data.hex(), got))
    assert not bad, bad[:3]
