"""Host resources through the round-trip oracle: identity, ownership, borrow scope and
destructors, each shown to catch a planted fault."""
from __future__ import annotations

import random

import pytest
from faults import plant_component_text
from resource_cases import HOST_SIGS as SIGS
from resource_cases import outcome, unknown
from resource_cases import random_case as case

from itfuzz.findings import Finding
from itfuzz.model.case import Signature
from itfuzz.model.resources import Handle
from itfuzz.model.types import PRIMS, walk
from itfuzz.oracles import roundtrip
from itfuzz.oracles.roundtrip import RoundTripOracle

OWN0, OWN1, BOR0 = Handle(0, True), Handle(1, True), Handle(0, False)
U32 = PRIMS["u32"]




@pytest.mark.parametrize("sig", SIGS, ids=lambda s: s.wit().splitlines()[-1])
def test_resource_cases_round_trip(sig, fresh_oracle):
    for seed in range(4):
        fresh_oracle.run(case(sig, seed))


def run_finding(oracle, tc) -> Finding:
    with pytest.raises(Finding) as e:
        oracle.run(tc)
    return e.value


def test_swapped_handle_is_reported():
    sig = Signature((("a", OWN0), ("b", OWN0)), None)

    def swap(entry):
        c0, c1 = entry.params_in
        entry.params_in = [lambda v: c0(entry.state.args[1]), lambda v: c1(entry.state.args[0])]
    f = run_finding(RoundTripOracle(cache_size=4, transform=swap), case(sig))
    assert f.signature == "host-arg-mismatch|own:value:Res->Res"


def test_borrow_kept_past_the_call_is_the_spec_trap(monkeypatch, fresh_oracle):
    sig = Signature((("a", U32), ("b", BOR0)), None)
    plant_component_text(monkeypatch, roundtrip,
                         lambda wat, s: wat.replace("(call $drop_r0 (local.get 1))", ""))
    f = run_finding(fresh_oracle, case(sig))
    assert f.check == "call-error"
    assert "borrow handles still remain" in str(f)


def test_destructor_run_twice_is_reported(monkeypatch, fresh_oracle):
    from itfuzz.engines import resources as er

    def twice(i):
        def dtor(store, rep):
            er.SCOPE.dtors += [(i, rep), (i, rep)]
        return dtor
    monkeypatch.setattr(er, "_dtor", twice)
    f = run_finding(fresh_oracle, case(SIGS[0]))
    assert f.signature == "resource-dtor|count=2"


def test_destructor_never_run_is_reported(monkeypatch, fresh_oracle):
    plant_component_text(monkeypatch, roundtrip, lambda wat, s: wat.replace(
        '(param i32) (call $drop_r0 (local.get 0))', '(param i32)'))
    f = run_finding(fresh_oracle, case(SIGS[0]))
    assert f.signature == "resource-dtor|count=0"


def _live_clone(monkeypatch):
    """Plant: the handle the oracle keeps to check a moved own / ended borrow is a live one."""
    from wasmtime.component import ResourceHost

    from itfuzz.engines import resources as er
    monkeypatch.setattr(er, "clone", lambda x: ResourceHost.own(1, er.TYPE_BASE).to_any(
        er.SCOPE.store))


def test_own_still_held_after_the_call_is_reported(monkeypatch, fresh_oracle):
    _live_clone(monkeypatch)
    f = run_finding(fresh_oracle, case(SIGS[0]))
    assert f.signature == "resource-ownership|own:not-moved"


def test_borrow_alive_after_the_call_is_reported(monkeypatch, fresh_oracle):
    _live_clone(monkeypatch)
    f = run_finding(fresh_oracle, case(Signature((("b", BOR0),), None)))
    assert f.signature == "resource-borrow|outlived-call"


def test_dropped_handle_raises_and_poisons_nothing_on_the_host_side(fresh_oracle):
    """A moved own named again through the host API raises, and later calls still work."""
    from itfuzz.engines import resources as er
    tc = case(SIGS[0], calls=1)
    fresh_oracle.run(tc)
    entry = fresh_oracle.prepare(tc.sig)
    store, instance, f = fresh_oracle.instantiate(entry)
    for call in case(SIGS[0], seed=3, calls=3).calls:
        er.SCOPE.reset()
        er.SCOPE.store = store
        fresh_oracle.run_call(store, f, entry, call.args, call.ret)
        for _, _, x in er.SCOPE.sent:
            assert not er.still_valid(store, x)


@pytest.mark.slow
def test_2000_generated_resource_cases_round_trip():
    """≥ 2,000 decoded resource cases on this release: only known findings."""
    from itfuzz.generators.signatures import decode_roundtrip
    from itfuzz.model.resources import resource_ids
    oracle, rng, done, bad = RoundTripOracle(), random.Random(14), 0, []
    while done < 2000:
        data = bytes([rng.randrange(0x80, 0xA0)]) + rng.randbytes(
            rng.choice((16, 64, 256)))
        tc = decode_roundtrip(data)
        if not resource_ids(tc.sig.types()) or any(n.kind == "map" for t in tc.sig.types()
                                                   for n in walk(t)):
            continue  # (maps have their own tests)
        done += 1
        if unknown(got := outcome(oracle, tc), oracle.target):
            bad.append((data.hex(), got))
    assert not bad, bad[:3]


# -- the guest-defined resource `gr` -----------------------------------------------------------

GUEST_SIG = Signature((("a", OWN0), ("b", BOR0)), None)


def test_guest_resource_ops_run(fresh_oracle, monkeypatch):
    from itfuzz.oracles import resources
    ran = []
    original = resources.check_guest
    monkeypatch.setattr(resources, "check_guest",
                        lambda *a: ran.append(1) or original(*a))
    fresh_oracle.run(case(GUEST_SIG, seed=2, calls=3))
    assert ran and all(ran)


@pytest.mark.parametrize("fault, signature", [
    ("(i32.add (global.get $n) (i32.const 1))|(i32.add (global.get $n) (i32.const 2))",
     "guest-resource|dtor-count=2"),
    ("(i32.add (global.get $n) (i32.const 1))|(i32.add (global.get $n) (i32.const 0))",
     "guest-resource|dtor-count=0"),
    ('(func (export "echo") (param i32) (result i32) (local.get 0))|'
     '(func (export "echo") (param i32) (result i32) (call $new (i32.const 77)))',
     "guest-resource|echo-rep"),
    ('(func (export "rep") (param i32) (result i32) (local.get 0))|'
     '(func (export "rep") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))',
     "guest-resource|rep"),
])
def test_guest_resource_faults_are_reported(monkeypatch, fresh_oracle, fault, signature):
    old, new = fault.split("|")
    plant_component_text(monkeypatch, roundtrip, lambda wat, s: wat.replace(old, new))
    f = run_finding(fresh_oracle, case(GUEST_SIG, seed=2))
    assert f.signature == signature


def test_handle_dropped_through_another_store_is_k24(fresh_oracle):
    """Known finding K24: the other store accepts the handle (this test fails once fixed)."""
    from itfuzz.oracles import resources
    tc = case(GUEST_SIG, seed=2, calls=1)
    fresh_oracle.run(tc)
    entry = fresh_oracle.prepare(tc.sig)
    with pytest.raises(Finding) as e:
        resources.other_store(fresh_oracle, entry, lambda d, m: fresh_oracle.finding(
            "guest-resource", d, m, tc.sig, entry.wat), 5)
    assert e.value.signature == "guest-resource|other-store-drop"


def test_reflected_resource_type_is_checked(monkeypatch, fresh_oracle):
    from wasmtime.component import ResourceType
    monkeypatch.setattr(ResourceType, "__eq__", lambda self, other: False)
    f = run_finding(fresh_oracle, case(SIGS[0]))
    assert f.signature == "type-reflection|own:resource-type"


def test_handle_of_the_wrong_ownership_is_a_shape_error(monkeypatch, fresh_oracle):
    from wasmtime.component import ResourceAny
    monkeypatch.setattr(ResourceAny, "owned", property(lambda self: False))
    f = run_finding(fresh_oracle, case(SIGS[0]))
    assert f.check == "host-arg-shape" and "own arrived as borrow" in str(f)


def test_a_refused_drop_leaves_no_store_alive(fresh_oracle):
    """wasmtime-py raises its errors from a local (`raise error`), a cycle through the traceback:
    kept, it would hold the store until the cyclic GC, exhausting the pooling allocator's 8
    instances within a few inputs."""
    import gc
    import weakref

    from itfuzz.oracles import resources
    tc = case(GUEST_SIG, seed=2, calls=1)
    entry = fresh_oracle.prepare(tc.sig)
    store, instance, _ = fresh_oracle.instantiate(entry)
    x = instance.get_func(store, "gr-new")(store, 7)
    x.drop(store)
    gc.disable()
    try:
        assert not resources._drops(store, x)
        ref = weakref.ref(store)
        del store, instance
        assert ref() is None
    finally:
        gc.enable()
