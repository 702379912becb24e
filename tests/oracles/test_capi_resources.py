"""Resource handles on the C-API lane (host resources `rN` and the guest's `gr` in `f`'s
types): the same cases and outcomes as on the wasmtime-py lane, and each resource check shown to
fire on the C lane (faults planted in the C host's handles and destructors, in the guest). The
C lane runs these checks in C; the findings must read as the wasmtime-py lane's."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from faults import plant_component_text
from resource_cases import (
    BOR0,
    GB,
    GO,
    GR_ALL,
    GR_SIGS,
    GR_TEXT_FAULTS,
    U32,
    outcome,
    random_case,
    unknown,
)
from resource_cases import HOST_SIGS as SIGS
from resource_cases import lane_oracle as oracle

from itfuzz.findings import Finding
from itfuzz.generators.signatures import decode_roundtrip
from itfuzz.known_findings import known
from itfuzz.model.case import Call, Signature
from itfuzz.model.case import TestCase as Case
from itfuzz.model.resources import resource_ids
from itfuzz.model.types import Record
from itfuzz.oracles import roundtrip
from itfuzz.oracles.roundtrip import RoundTripOracle

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "component_roundtrip"


def finding(o: RoundTripOracle, tc) -> Finding:
    with pytest.raises(Finding) as e:
        o.run(tc)
    return e.value


@pytest.mark.parametrize("sig", SIGS, ids=lambda s: s.wit().splitlines()[-1])
def test_resource_cases_run_on_the_c_lane(sig):
    o = oracle("c")
    for seed in range(4):
        o.run(case(sig, seed))
    assert o.stats["lanes"] == {"c": 8, "py": 0}


@pytest.mark.parametrize("sig", GR_SIGS, ids=lambda s: s.wit().splitlines()[-1])
def test_gr_cases_give_the_same_outcomes_on_both_lanes(sig):
    c, py = oracle("c"), oracle("py")
    got = [(outcome(c, case(sig, seed)), outcome(py, case(sig, seed))) for seed in range(4)]
    assert all(a == b for a, b in got), got
    assert all(a in ("ok", "guest-resource|other-store-drop") for a, _ in got)  # K24: known
    assert c.stats["lanes"]["py"] == 0 and py.stats["lanes"]["c"] == 0


def test_resource_seeds_and_their_mutants_agree_on_both_lanes():
    """The shipped resource seeds and one-mutation children: the same outcome on both lanes
    (but a known wasmtime-py finding)."""
    import sys
    sys.path.insert(0, str(CORPUS.parents[1] / "bench"))
    from mutations import mutate
    seeds = [p.read_bytes() for p in sorted(CORPUS.iterdir())]
    seeds = [d for d in seeds if resource_ids(decode_roundtrip(d).sig.types())
             and not decode_roundtrip(d).sig.guest]  # (`gr` in f's types: wasmtime-py lane)
    rng = random.Random(7)
    inputs = seeds + [mutate(rng, rng.choice(seeds)) for _ in range(120)]
    c, py = oracle("c"), oracle("py")
    differ, ran = [], 0
    for data in inputs:
        tc = decode_roundtrip(data)
        if not resource_ids(tc.sig.types()) or tc.sig.guest:
            continue
        ran += 1
        a, b = outcome(c, tc), outcome(py, tc)
        if a != b and not known(b, "component_roundtrip"):
            differ.append((data.hex(), a, b))
    assert len(seeds) > 10 and ran > 60 and not differ, differ
    assert c.stats["lanes"]["py"] == 0 and c.stats["lanes"]["c"] > 100


@pytest.mark.parametrize("fault,where,sig,signature", [
    ("rep", "args", SIGS[0], "host-arg-mismatch|own:value:Res->Res"),
    ("rep", "result", SIGS[0], "result-mismatch|own:value:Res->Res"),
    ("rep", "args", Signature((("b", BOR0),), None), "host-arg-mismatch|borrow:value:Res->Res"),
    ("keep-own", "args", SIGS[0], "resource-ownership|own:not-moved"),
    ("keep-own", "result", SIGS[0], "resource-ownership|own:not-moved"),
    ("keep-borrow", "args", Signature((("b", BOR0),), None), "resource-borrow|outlived-call"),
])
def test_planted_handle_faults_are_reported_on_the_c_lane(fault, where, sig, signature):
    f = finding(oracle("c", fault=fault, fault_where=where), case(sig))
    assert f.signature == signature
    assert "C-API lane" in f.engine


@pytest.mark.parametrize("fault,signature", [
    ("rep", "host-arg-mismatch|u32:value:int->int"),  # g sees another rep than f got
    ("keep-own", "gr-ownership|own:not-moved"),
])
def test_planted_gr_handle_faults_are_reported_on_the_c_lane(fault, signature):
    f = finding(oracle("c", fault=fault, fault_where="args"), case(GR_ALL))
    assert f.signature == signature and "C-API lane" in f.engine


@pytest.mark.parametrize("old, new, signature", GR_TEXT_FAULTS)
def test_gr_guest_faults_give_the_same_finding_on_both_lanes(monkeypatch, old, new, signature):
    plant_component_text(monkeypatch, roundtrip, lambda wat, s: wat.replace(old, new))
    for lane in ("c", "py"):
        assert finding(oracle(lane), case(GR_ALL, seed=2)).signature == signature


@pytest.mark.parametrize("old, new, signature", [
    (GR_TEXT_FAULTS[2][0], GR_TEXT_FAULTS[2][1], "gr-dtor|host-drop:count=more"),
    (GR_TEXT_FAULTS[3][0], GR_TEXT_FAULTS[3][1], "gr-dtor|host-drop:reps"),
])
def test_gr_destructor_faults_at_the_host_drops_give_the_same_finding_on_both_lanes(
        monkeypatch, old, new, signature):
    """Without an own<gr> argument nothing is dropped in the call, so the planted destructor
    faults show when the host drops what it lent and got back."""
    plant_component_text(monkeypatch, roundtrip, lambda wat, s: wat.replace(old, new))
    lend = Signature((("b", GB),), Record((("r", GO),)))
    got = {lane: finding(oracle(lane), case(lend, seed=2)) for lane in ("c", "py")}
    assert got["c"].signature == got["py"].signature == signature
    assert got["c"].message == got["py"].message


@pytest.mark.parametrize("old, new, signature", [
    # `gr-rep` answers another rep: the own the host lent names another resource after the call
    ('(func (export "rep") (param i32) (result i32) (local.get 0))',
     '(func (export "rep") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))',
     "gr-borrow|lender:rep"),
    # the destructor traps: Wasmtime refuses the host's drop of the own it lent
    ("(global.set $n (i32.add (global.get $n) (i32.const 1)))", "unreachable",
     "gr-dtor|host-drop:refused"),
])
def test_faults_at_a_lent_gr_handle_give_the_same_finding_on_both_lanes(monkeypatch, old, new,
                                                                       signature):
    """A borrow<gr> argument and no handle in the result: only the checks after the call (the
    lender's rep, the host's drops) read `gr` again."""
    plant_component_text(monkeypatch, roundtrip, lambda wat, s: wat.replace(old, new))
    lend = Signature((("a", U32), ("b", GB)), U32)
    got = {lane: finding(oracle(lane), case(lend, seed=2)) for lane in ("c", "py")}
    assert got["c"].signature == got["py"].signature == signature
    assert got["c"].message == got["py"].message
    assert "C-API lane" in got["c"].engine


def test_a_failing_call_of_the_checks_raises_wasmtimes_error_on_both_lanes(monkeypatch):
    """A call the checks make themselves (here `gr-dtor-count`, planted to trap) is no finding
    about the case: both lanes raise Wasmtime's error (C: status HANDLES, check CALL_ERROR)."""
    import wasmtime
    plant_component_text(monkeypatch, roundtrip, lambda wat, s: wat.replace(
        '(func (export "count") (result i32) (global.get $n))',
        '(func (export "count") (result i32) unreachable)'))
    lend = Signature((("a", U32), ("b", GB)), U32)
    got = {}
    for lane in ("c", "py"):
        with pytest.raises(wasmtime.WasmtimeError) as e:
            oracle(lane).run(case(lend, seed=2))
        got[lane] = str(e.value).splitlines()[-1]
    assert got["c"] == got["py"] and "unreachable" in got["c"]


def test_destructor_run_twice_is_reported_on_both_lanes(monkeypatch):
    from itfuzz.engines import resources as er
    c = finding(oracle("c", fault="dtor-twice"), case(SIGS[0]))

    def twice(i):
        def dtor(store, rep):
            er.SCOPE.dtors += [(i, rep), (i, rep)]
        return dtor
    monkeypatch.setattr(er, "_dtor", twice)
    py = finding(oracle("py"), case(SIGS[0]))
    assert c.signature == py.signature == "resource-dtor|count=2"
    assert c.message.split(":")[-1] == py.message.split(":")[-1]
    assert "C-API lane" in c.engine


def test_a_lent_gr_handle_gone_after_the_call_is_reported_on_the_c_lane():
    """The own the host lent as borrow<gr> must still be the host's after the call: planted,
    C drops it before its checks."""
    f = finding(oracle("c", fault="lent-dropped"), case(GR_ALL))
    assert f.signature == "gr-borrow|lender:lost" and "C-API lane" in f.engine


def test_a_destructor_run_without_a_drop_is_reported_on_the_c_lane():
    f = finding(oracle("c", fault="dtor-extra"), case(SIGS[0]))
    assert f.signature == "resource-dtor|ran-without-drop"
    assert "[(0, 23130)]" in f.message  # the planted run, as C logged it


@pytest.mark.parametrize("old,new,sig,check", [
    # the guest never drops the own it is given to consume: the destructor does not run
    ("(param i32) (call $drop_r0 (local.get 0))", "(param i32)", SIGS[0],
     "resource-dtor|count=0"),
    # the guest keeps a borrow past the call: Wasmtime's trap (the spec's) ends the call
    ("(call $drop_r0 (local.get 1))", "", Signature((("a", U32), ("b", BOR0)), None),
     "call-error"),
])
def test_guest_faults_give_the_same_finding_on_both_lanes(monkeypatch, old, new, sig, check):
    plant_component_text(monkeypatch, roundtrip, lambda wat, s: wat.replace(old, new))
    got = {lane: finding(oracle(lane), case(sig)) for lane in ("c", "py")}
    assert got["c"].signature == got["py"].signature
    assert got["c"].signature.startswith(check)
    assert "C-API lane" in got["c"].engine


def test_without_the_resource_functions_resource_cases_run_on_wasmtime_py(monkeypatch):
    from itfuzz.engines.capi import lane
    lib, _ = lane.load()
    assert lib is not None and lib.resources  # every release 39-51 has them
    monkeypatch.setattr(lane, "load", lambda: (lane.Lib(lib.ffi, lib.lib, resources=False),
                                               "C-API lane: planted"))
    o = RoundTripOracle(cache_size=4)
    o.run(case(SIGS[0]))
    o.run(Case(Signature((("x", U32),), U32, echo=True), (Call((1,), 1),), lane="c"))
    assert o.stats["lanes"] == {"c": 1, "py": 2}
    assert o.stats["forced_py"] == {"unsupported-kind": 2}


@pytest.mark.slow
def test_1000_decoded_resource_cases_on_the_c_lane():
    """Decoded cases with host handles (first byte 0x80-0x9f) and with `gr` in `f`'s types
    (0xa0-0xbe, even), 500 each, on the C lane: only known findings."""
    rng, o, bad = random.Random(21), oracle("c"), []
    for lo, hi, step in ((0x80, 0xA0, 1), (0xA0, 0xC0, 2)):
        done = 0
        while done < 500:
            data = bytes([rng.randrange(lo, hi, step)]) + rng.randbytes(rng.choice((16, 64, 256)))
            tc = decode_roundtrip(data)
            if not (tc.sig.guest or resource_ids(tc.sig.types())):
                continue
            done += 1
            got = outcome(o, tc)
            if unknown(got, "component_roundtrip"):
                bad.append((data.hex(), got))
    assert not bad, bad[:3]
    assert o.stats["lanes"]["py"] == 0


def case(sig: Signature, seed: int = 1, calls: int = 2) -> Case:
    return random_case(sig, seed, calls, lane="c")
