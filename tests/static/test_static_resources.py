"""Resource cases of the component_static target: how inputs select them (old inputs keep
their case), their handles round-trip with the dynamic oracle's resource checks, and planted
resource faults are reported."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from faults import plant_static_converters, typed_path
from resource_cases import outcome
from static_cases import agrees_with_the_dynamic_oracle, run_finding

from itfuzz.generators.unstructured import Unstructured
from itfuzz.known_findings import known
from itfuzz.model.resources import Handle
from itfuzz.model.types import walk
from itfuzz.oracles.static import StaticOracle
from itfuzz.static.decode import GUEST_FIRST, RESOURCE_FIRST, case_prefix
from itfuzz.static.decode import decode_static_case as decode

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_seeds_keep_their_case(cases):
    """Every shipped plain seed decodes to the case it did before resource cases existed (the
    plain index `int_in_range(0, COUNT - 1)`)."""
    seeds = sorted((ROOT / "corpus" / "component_static").iterdir())
    plain = [s for s in seeds if not s.read_bytes()[:1]
             or s.read_bytes()[0] not in (*RESOURCE_FIRST, *GUEST_FIRST)]
    old = [Unstructured(p.read_bytes()).int_in_range(0, cases.plain - 1) for p in plain]
    assert [decode(p.read_bytes()).case.index for p in plain] == old
    assert len(plain) > 30


def test_resource_seeds_pick_resource_cases_with_own_and_borrow(cases):
    seeds = [p.read_bytes() for p in sorted((ROOT / "corpus" / "component_static").iterdir())]
    res = [decode(d) for d in seeds if d[:1] and d[0] in RESOURCE_FIRST]
    assert len(res) >= 10 and all(tc.case.index >= cases.plain for tc in res)
    kinds = {n.kind for tc in res for t in tc.sig.types() for n in walk(t)}
    assert {"own", "borrow"} <= kinds


def test_every_case_has_index_bytes_and_the_range_selects_resources(cases):
    for i in range(len(cases)):
        assert decode(case_prefix(i, cases)).case.index == i
    rng = random.Random(3)
    gr = cases.plain + cases.resources
    for _ in range(300):
        data = rng.randbytes(rng.choice((1, 2, 40)))
        index = decode(data).case.index
        assert (cases.plain <= index < gr) == (data[0] in RESOURCE_FIRST), data.hex()
        assert (index >= gr) == (data[0] in GUEST_FIRST), data.hex()
        sig = cases[index].sig
        assert (bool(sig.resources) or sig.guest) == (index >= cases.plain)
        assert sig.guest == (index >= gr)


def test_resource_cases_round_trip_and_agree_with_the_dynamic_oracle(cases):
    rng = random.Random(5)
    indices = sorted(rng.sample(range(cases.plain, cases.plain + cases.resources), 30))
    agrees_with_the_dynamic_oracle(cases, indices, rng)


# -- fault injection ----------------------------------------------------------------------
def first_own_case(table):
    """The first resource case with a top-level `own` parameter (the host sends it, the guest
    hands it back to the host's `g`, which takes it out of its table)."""
    for i in range(table.plain, len(table)):
        if any(isinstance(t, Handle) and t.own for _, t in table[i].sig.params):
            return table[i]
    pytest.skip("no resource case with a top-level own parameter")


def first_borrow_only_case(table):
    """The first resource case with a top-level `borrow` parameter and no `own` anywhere."""
    for i in range(table.plain, len(table)):
        sig = table[i].sig
        if (any(isinstance(t, Handle) and not t.own for _, t in sig.params)
                and not any(n.kind == "own" for t in sig.types() for n in walk(t))):
            return table[i]
    pytest.skip("no resource case with only borrows")


def test_clean_resource_case_passes(cases):
    typed_path(StaticOracle()).run(decode(case_prefix(first_own_case(cases).index, cases) + b"\x00" * 64))


def test_swapped_handle_in_the_converters_is_reported(tmp_path):
    table = plant_static_converters(tmp_path, "handle-swap")
    f = run_finding(typed_path(StaticOracle()), table, first_own_case(table))
    assert f.target == "component_static" and f.check == "host-arg-mismatch"
    assert f.detail == "own:value:Res->Res"


def test_destructor_run_twice_is_reported(monkeypatch, cases):
    from itfuzz.engines import resources as er

    def twice(i):
        def dtor(store, rep):
            er.SCOPE.dtors += [(i, rep), (i, rep)]
        return dtor
    monkeypatch.setattr(er, "_dtor", twice)
    f = run_finding(typed_path(StaticOracle()), cases, first_own_case(cases))
    assert (f.target, f.signature) == ("component_static", "resource-dtor|count=2")


def live_clone(monkeypatch):
    """Plant: the handle the oracle keeps to check a moved own / ended borrow is a live one."""
    from wasmtime.component import ResourceHost

    from itfuzz.engines import resources as er
    monkeypatch.setattr(er, "clone", lambda x: ResourceHost.own(1, er.TYPE_BASE).to_any(
        er.SCOPE.store))


def test_own_still_held_after_the_call_is_reported(monkeypatch, cases):
    live_clone(monkeypatch)
    f = run_finding(typed_path(StaticOracle()), cases, first_own_case(cases))
    assert (f.target, f.signature) == ("component_static", "resource-ownership|own:not-moved")


def test_borrow_alive_after_the_call_is_reported(monkeypatch, cases):
    case = first_borrow_only_case(cases)
    typed_path(StaticOracle()).run(decode(case_prefix(case.index, cases) + b"\x00" * 64))  # clean: passes
    live_clone(monkeypatch)
    f = run_finding(typed_path(StaticOracle()), cases, case)
    assert (f.target, f.signature) == ("component_static", "resource-borrow|outlived-call")


@pytest.mark.slow
def test_2000_static_resource_inputs_round_trip(cases):
    """≥ 2,000 decoded static resource inputs on this release: only known findings."""
    oracle, rng, bad = typed_path(StaticOracle()), random.Random(14), []
    for _ in range(2000):
        data = bytes([rng.choice(RESOURCE_FIRST)]) + rng.randbytes(rng.choice((16, 64, 256)))
        got = outcome(oracle, decode(data))
        if got not in ("ok", "discarded") and known(got, "component_static") is None:
            bad.append((data.hex(), got))
    assert not bad, bad[:3]
