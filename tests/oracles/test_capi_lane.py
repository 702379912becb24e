"""The round-trip oracle's C-API lane: agreement with the wasmtime-py lane, planted faults in
the C values reported, lanes chosen by the input and counted."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from resource_cases import lane_oracle as _oracle

from itfuzz.findings import Discard, Finding
from itfuzz.generators.signatures import decode_roundtrip
from itfuzz.known_findings import known
from itfuzz.model.case import Call, Signature
from itfuzz.model.case import TestCase as Case
from itfuzz.model.types import PRIMS, List, Record
from itfuzz.oracles.roundtrip import RoundTripOracle

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "component_roundtrip"


def _outcome(oracle, tc) -> str:
    try:
        oracle.run(tc)
        return "ok"
    except Finding as f:
        return f.signature
    except Discard:
        return "discard"


def test_agrees_with_wasmtime_py_on_the_shipped_corpus():
    c, py = _oracle("c"), _oracle("py")
    files = sorted(CORPUS.iterdir())
    assert files
    differ = []
    for path in files:
        tc = decode_roundtrip(path.read_bytes())
        a, b = _outcome(c, tc), _outcome(py, tc)
        if a != b and not known(b, "component_roundtrip"):
            differ.append((path.name, a, b))
    assert not differ
    assert c.stats["lanes"]["c"] > 0 and py.stats["lanes"]["c"] == 0


def _echo(t, value) -> Case:
    sig = Signature((("x", t),), t, echo=True, count_post_return=True)
    return Case(sig, (Call((value,), value),), lane="c")


STRINGS = _echo(Record((("s", PRIMS["string"]), ("n", PRIMS["u8"]))), ("héllo", 3))
LISTS = _echo(List(PRIMS["u32"]), [1, 2, 3])


def test_clean_cases_pass():
    o = _oracle("c")
    o.run(STRINGS)
    o.run(LISTS)
    assert o.stats["lanes"]["c"] == 2


@pytest.mark.parametrize("fault,where,case,check", [
    ("truncate", "result", STRINGS, "result-mismatch|string:value:str->str"),
    ("truncate", "args", STRINGS, "host-arg-mismatch|string:value:str->str"),
    ("swap", "result", LISTS, "result-mismatch|u32:value:int->int"),
    ("swap", "args", LISTS, "host-arg-mismatch|u32:value:int->int"),
])
def test_planted_faults_in_c_values_are_reported(fault, where, case, check):
    o = _oracle("c", fault=fault, fault_where=where)
    with pytest.raises(Finding) as e:
        o.run(case)
    assert e.value.signature == check
    assert "C-API lane" in e.value.engine
    assert "C-API lane" in e.value.report()


def test_the_input_chooses_the_lane():
    lanes = [decode_roundtrip(hashlib.sha256(bytes([i, j])).digest() * 4).lane
             for i in range(16) for j in range(16)]
    assert lanes.count("py") > 30 and lanes.count("c") > 2 * lanes.count("py")


@pytest.mark.parametrize("transform,detail", [
    # reset counts twice per run / the count never grows: both checked in C after each call
    (lambda wat, sig: wat.replace("(i32.add (global.get $count) (i32.const 1))",
                                  "(i32.add (global.get $count) (i32.const 2))"),
     "post-return-count:more"),
    (lambda wat, sig: wat.replace("(i32.add (global.get $count) (i32.const 1))",
                                  "(global.get $count)"),
     "post-return-count:less"),
])
def test_post_return_counts_are_checked_in_c(monkeypatch, transform, detail):
    from faults import plant_component_text

    import itfuzz.oracles.roundtrip as rt
    plant_component_text(monkeypatch, rt, transform)
    o = _oracle("c")
    with pytest.raises(Finding) as e:
        o.run(LISTS)
    assert e.value.signature == f"post-return-count|{detail}"
    assert "C-API lane" in e.value.engine


def test_a_guest_that_drops_a_list_element_is_reported_on_the_c_lane(monkeypatch):
    """The guest forwards a list one element shorter: the host check in C sees it."""
    from faults import plant_component_text

    import itfuzz.oracles.roundtrip as rt

    def shorter(wat, sig):
        return wat.replace("(local.get 0) (local.get 1) (i32.const 16) (call $g)",
                           "(local.get 0) (i32.sub (local.get 1) (i32.const 1)) (i32.const 16) "
                           "(call $g)")
    plant_component_text(monkeypatch, rt, shorter)
    with pytest.raises(Finding) as e:
        _oracle("c").run(LISTS)
    assert e.value.signature == "host-arg-mismatch|list:length:list->list"


def test_maps_run_on_the_c_lane_past_wasmtime_py_k22():
    """wasmtime-py cannot reflect or convert maps (K22, known); the C lane still checks them."""
    from itfuzz.model.types import Map
    t = Map(PRIMS["string"], PRIMS["u32"])
    v = [("a", 1), ("b", 2), ("a", 3)]
    case = _echo(t, v)
    o = _oracle("c")
    o.run(case)
    assert o.stats["lanes"]["c"] == 1
    with pytest.raises(Finding) as e:
        _oracle("py").run(case)
    assert known(e.value.signature, "component_roundtrip") is not None


def test_without_the_lane_cases_run_on_wasmtime_py(monkeypatch):
    from itfuzz.engines.capi import lane
    monkeypatch.setattr(lane, "load", lambda: (None, "C-API lane off: planted"))
    o = RoundTripOracle(cache_size=4)
    o.run(LISTS)
    assert o.stats["lanes"] == {"c": 0, "py": 1}


def test_a_finding_names_its_call():
    o = _oracle("c", fault="swap", fault_where="result")
    t = List(PRIMS["u32"])
    case = _echo(t, [5])  # one element: nothing to swap, the call passes
    case = Case(case.sig, (Call(([5],), [5]), Call(([1, 2],), [1, 2])), lane="c")
    with pytest.raises(Finding) as e:
        o.run(case)
    assert e.value.values.startswith("call #2 of 2")


def test_cases_that_chose_c_but_ran_on_wasmtime_py_are_counted_by_reason():
    o = RoundTripOracle(cache_size=4, transform=lambda entry: None)
    o.run(LISTS)
    o.run(Case(LISTS.sig, LISTS.calls, lane="py"))
    assert o.stats["lanes"] == {"c": 0, "py": 2}
    assert o.stats["forced_py"] == {"transform": 1}


def test_a_gr_case_without_the_destructor_counters_stops_rather_than_skip_checks(monkeypatch):
    """C checks `gr`'s destructor with `gr-dtor-count`/`gr-dtor-sum`: a component without
    them is a harness error, never a case whose destructor checks silently do not run."""
    from resource_cases import GR_ALL, random_case

    from itfuzz.oracles import capi_lane
    monkeypatch.setattr(capi_lane, "COUNT", "no-such-export")
    with pytest.raises(RuntimeError, match="lacks no-such-export"):
        RoundTripOracle(cache_size=4).run(random_case(GR_ALL, 1, 2, lane="c"))
