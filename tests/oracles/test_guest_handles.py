"""The guest-defined resource `gr` inside `f`'s types through the round-trip oracle: `g` sees the
reps, results name the reps `g` returned, owns move, lenders stay, destructors run exactly as
`f` and the host drop; each check shown to catch a planted fault."""
from __future__ import annotations

import random

import pytest
from faults import plant_component_text
from resource_cases import GR_ALL as ALL
from resource_cases import GR_SIGS as SIGS
from resource_cases import GR_TEXT_FAULTS, OWN1, outcome, unknown
from resource_cases import random_case as case

from itfuzz.findings import Finding
from itfuzz.model.case import Call, Signature
from itfuzz.model.case import TestCase as Case
from itfuzz.model.resources import GuestHandle, Handle, Res
from itfuzz.model.types import PRIMS, List, Option, Record, Result, Variant
from itfuzz.oracles import roundtrip
from itfuzz.oracles.roundtrip import RoundTripOracle

GO, GB, OWN0, BOR0 = GuestHandle(True), GuestHandle(False), Handle(0, True), Handle(0, False)
U32, U64, STR = PRIMS["u32"], PRIMS["u64"], PRIMS["string"]




@pytest.mark.parametrize("sig", SIGS, ids=lambda s: s.wit().splitlines()[-1])
def test_guest_handle_cases_round_trip(sig, fresh_oracle):
    for seed in range(4):
        try:
            fresh_oracle.run(case(sig, seed))
        except Finding as e:  # a host resource input may end in K24 (`check_guest`)
            assert e.signature == "guest-resource|other-store-drop"


def run_finding(oracle, tc) -> Finding:
    with pytest.raises(Finding) as e:
        oracle.run(tc)
    return e.value


def test_host_sees_the_reps_and_the_destructor_runs_in_f(fresh_oracle, monkeypatch):
    """What the checks rest on, without a fault: `g` gets the reps as u32 and the destructor
    ran once per own param, for its rep, before the host dropped anything."""
    from itfuzz.engines.guest_handles import GUEST
    from itfuzz.oracles import guest_handles
    seen = []
    original = guest_handles.check_call

    def spy(oracle, store, entry, call):
        seen.append((GUEST.dtor_state(), GUEST.before, [r for r, _ in GUEST.received]))
        original(oracle, store, entry, call)
    monkeypatch.setattr(guest_handles, "check_call", spy)
    tc = case(ALL, seed=3, calls=1)
    fresh_oracle.run(tc)
    (count, total), (count0, total0), received = seen[0]
    a, b = tc.calls[0].args
    assert (count - count0, total - total0) == (1, a.rep)
    assert received == [tc.calls[0].ret[0].rep]
    assert a.rep != b.rep


@pytest.mark.parametrize("old, new, signature", GR_TEXT_FAULTS)
def test_guest_handle_faults_are_reported(monkeypatch, fresh_oracle, old, new, signature):
    plant_component_text(monkeypatch, roundtrip, lambda wat, s: wat.replace(old, new))
    f = run_finding(fresh_oracle, case(ALL, seed=2))
    assert f.signature == signature
    assert "own<gr>" in f.wit and "gr-dtor-sum" in f.wat


def test_own_still_held_after_the_call_is_reported(monkeypatch, fresh_oracle):
    """Plant: the clone kept to check that the own moved names a live handle instead."""
    from itfuzz.engines import guest_handles
    monkeypatch.setattr(guest_handles, "clone",
                        lambda x: guest_handles.GUEST.call(guest_handles.NEW, 99))
    f = run_finding(fresh_oracle, case(ALL))
    assert f.signature == "gr-ownership|own:not-moved"


def test_lender_changed_by_the_call_is_reported(monkeypatch, fresh_oracle):
    """Plant: the host's record of what it lent names another rep."""
    from itfuzz.engines import guest_handles
    original = guest_handles.guest_to_wasmtime

    def wrong(t):
        conv = original(t)

        def lend(v):
            x = conv(v)
            if not t.own:
                rep, kept = guest_handles.GUEST.lent.pop()
                guest_handles.GUEST.lent.append((rep + 1, kept))
            return x
        return lend
    monkeypatch.setattr(guest_handles, "guest_to_wasmtime", wrong)
    f = run_finding(fresh_oracle, case(ALL))
    assert f.signature == "gr-borrow|lender:rep"


def test_host_drop_without_destructor_is_reported(monkeypatch, fresh_oracle):
    """Plant: a handle the host got back is not dropped (so its destructor does not run)."""
    from wasmtime.component import ResourceAny
    original = ResourceAny.drop
    dropped = []

    def skip_first(self, store):
        if not dropped:
            dropped.append(1)
            return None
        return original(self, store)
    monkeypatch.setattr(ResourceAny, "drop", skip_first)
    f = run_finding(fresh_oracle, case(Signature((("a", U32),), Option(GO)), seed=4, calls=4))
    assert f.signature == "gr-dtor|host-drop:count=less"


def test_result_handle_of_the_wrong_ownership_is_a_shape_error(monkeypatch, fresh_oracle):
    from wasmtime.component import ResourceAny
    monkeypatch.setattr(ResourceAny, "owned", property(lambda self: False))
    f = run_finding(fresh_oracle, case(Signature((("a", U32),), GO)))
    assert f.check == "result-shape" and "own<gr> arrived as borrow" in str(f)


def test_reflected_gr_type_is_checked(monkeypatch, fresh_oracle):
    from wasmtime.component import ResourceType
    monkeypatch.setattr(ResourceType, "__eq__", lambda self, other: True)
    f = run_finding(fresh_oracle, case(SIGS[0]))
    assert f.signature == "type-reflection|own:resource-type"


@pytest.mark.slow
def test_2000_generated_guest_handle_cases_round_trip():
    """≥ 2,000 decoded cases with `gr` in `f`'s types on this release: only known findings."""
    from itfuzz.generators.signatures import decode_roundtrip
    oracle, rng, done, bad = RoundTripOracle(), random.Random(15), 0, []
    while done < 2000:
        data = bytes([rng.randrange(0xA0, 0xC0, 2)]) + rng.randbytes(rng.choice((16, 64, 256)))
        tc = decode_roundtrip(data)
        if not tc.sig.guest:
            continue
        done += 1
        if unknown(got := outcome(oracle, tc), oracle.target):
            bad.append((data.hex(), got))
    assert not bad, bad[:3]


def test_gr_case_that_is_an_ambiguous_u32_for_g_is_k1(fresh_oracle):
    """A `borrow<gr>` case is told apart in `f`'s type but is a u32 after an `object`-classed
    case in `g`'s: the untagged value `g` gets cannot name its case (K1, as `g` receives)."""
    t = Variant((("f0", Result(None, BOR0)), ("f1", GB)))
    sig = Signature((("v", t),), None)
    tc = Case(sig, (Call((("f1", Res(7)),), None),))
    f = run_finding(fresh_oracle, tc)
    assert f.signature == "wasmtime-py-untagged|object"


def test_host_drop_wasmtime_refuses_is_reported(monkeypatch, fresh_oracle):
    """Plant: Wasmtime refuses every host drop of a gr handle (the sent owns' refusal is what
    the ownership check wants; the lent and returned handles' is a finding, not a crash)."""
    import wasmtime
    from wasmtime.component import ResourceAny

    def refuse(self, store):
        raise wasmtime.WasmtimeError("planted: drop refused")
    monkeypatch.setattr(ResourceAny, "drop", refuse)
    f = run_finding(fresh_oracle, case(ALL, seed=2))
    assert f.signature == "gr-dtor|host-drop:refused"


def test_only_the_confused_node_s_f_form_explains_a_case_confusion():
    """A case confusion `g` sees is K1/K2 only when `f`'s form of that very node is ambiguous;
    an `object` ambiguity elsewhere in the signature explains nothing (a real bug stays one)."""
    from itfuzz.model.values import ValueMismatch
    from itfuzz.oracles.roundtrip import mismatch_class, node_at
    amb = Variant((("x", Result(None, BOR0)), ("y", GB)))  # f: object case; g: y is a u32
    plain = Variant((("p", U32), ("q", STR)))  # untagged, unambiguous in both forms
    sig = Signature((("a", amb), ("b", List(Record((("r", plain),))))), None)
    assert node_at(sig.params[1][1], "[0].r") == plain and node_at(amb, "<x><err>") == BOR0
    g_b = sig.g_type(sig.params[1][1])
    bad = ValueMismatch("arg b[0].r", node_at(g_b, "[0].r"), ("p", 1), ("q", "x"), "case")
    assert mismatch_class("host-arg-mismatch", bad, sig)[0] == "host-arg-mismatch"
    confused = ValueMismatch("arg a", sig.g_type(amb), ("y", 7), ("x", ("ok", None)), "case")
    assert mismatch_class("host-arg-mismatch", confused, sig) == ("wasmtime-py-untagged",
                                                                   "object")


def test_value_g_form_rejects_for_an_object_case_is_k1(fresh_oracle):
    """`f`'s result<result<_, own<gr>>, own<r1>> is tagged (both cases take handles); `g`'s
    result<result<_, u32>, own<r1>> is untagged with an `object`-classed first case, which
    captures the host's own<r1>: wasmtime-py rejects the valid value `g` returns (K1 as `g`
    returns, found by a 20-minute gr campaign as an unknown call-error)."""
    sig = Signature((), Result(Result(None, GO), OWN1))
    f = run_finding(fresh_oracle, Case(sig, (Call((), ("err", Res(5))),)))
    assert f.signature == "wasmtime-py-untagged|object"


@pytest.mark.parametrize("sig, args, ret", [
    # `g`'s result<u32, bool> is untagged: wasmtime-py lowers its `false` as ok(0)
    (Signature((), Result(GO, PRIMS["bool"])), (), ("err", False)),
    # `f`'s variant is untagged (`g`'s, with two u32 cases, is tagged): `true` is sent as f1(1)
    (Signature((("v", Variant((("f0", GO), ("f1", U32), ("f2", PRIMS["bool"])))),), None),
     (("f2", True),), None),
])
def test_bool_taken_as_int_in_either_form_is_k2(fresh_oracle, sig, args, ret):
    f = run_finding(fresh_oracle, Case(sig, (Call(args, ret),)))
    assert f.signature == "wasmtime-py-untagged|bool-int"


def test_lender_gone_after_the_call_is_reported(monkeypatch, fresh_oracle):
    """Plant: Wasmtime refuses the host's lent own after the call (`gr-rep` of it raises)."""
    import wasmtime

    from itfuzz.engines import guest_handles
    original = guest_handles.GuestScope.call

    def refuse_lent(self, name, *args):
        if name == guest_handles.REP and any(args[0] is x for _, x in self.lent):
            raise wasmtime.WasmtimeError("planted: unknown handle index")
        return original(self, name, *args)
    monkeypatch.setattr(guest_handles.GuestScope, "call", refuse_lent)
    f = run_finding(fresh_oracle, case(ALL))
    assert f.signature == "gr-borrow|lender:lost"


def test_host_drop_of_another_rep_is_reported(monkeypatch, fresh_oracle):
    """Plant: the host's record of a handle it got back names another rep than its drop runs
    the destructor for."""
    from itfuzz.engines import guest_handles
    original = guest_handles.guest_from_wasmtime

    def shifted(t, path):
        conv = original(t, path)

        def read(x):
            v = conv(x)
            rep, kept = guest_handles.GUEST.received.pop()
            guest_handles.GUEST.received.append((rep + 1, kept))
            return v
        return read
    monkeypatch.setattr(guest_handles, "guest_from_wasmtime", shifted)
    f = run_finding(fresh_oracle, case(ALL))
    assert f.signature == "gr-dtor|host-drop:reps"
