"""Signatures, cases and outcomes the resource tests share: host resources `rN` (test_resource_oracle,
test_capi_resources) and the guest's `gr` in `f`'s types (test_guest_handles, the C lane's), and
a round-trip oracle pinned to one lane."""
from __future__ import annotations

import random

from itfuzz.findings import Discard, Finding
from itfuzz.generators.unstructured import Unstructured
from itfuzz.generators.valuegen import ValueGen
from itfuzz.known_findings import known
from itfuzz.model.case import Call, Signature
from itfuzz.model.case import TestCase as Case
from itfuzz.model.resources import GuestHandle, Handle
from itfuzz.model.types import PRIMS, List, Option, Record, Result, Tuple, Variant
from itfuzz.oracles.capi_lane import CLaneRunner
from itfuzz.oracles.roundtrip import RoundTripOracle

OWN0, OWN1, BOR0 = Handle(0, True), Handle(1, True), Handle(0, False)
GO, GB = GuestHandle(True), GuestHandle(False)
U32, U64, STR = PRIMS["u32"], PRIMS["u64"], PRIMS["string"]

HOST_SIGS = [
    Signature((("x", OWN0),), OWN0, echo=True),
    Signature((("x", List(OWN1)),), List(OWN1), echo=True, shape="composed",
              callee_encoding="utf16"),
    Signature((("a", U32), ("b", BOR0), ("c", Record((("f", OWN0), ("g", List(BOR0)))))),
              Option(OWN1)),
    Signature((("v", Variant((("x", None), ("y", BOR0), ("z", List(OWN0))))),), None,
              shape="composed", callee_encoding="latin1+utf16"),
]
GR_SIGS = [
    Signature((("x", GO),), GO, echo=True),
    Signature((("a", GB), ("b", Record((("p", GO), ("q", STR))))), Option(GO)),
    Signature((("v", Variant((("x", None), ("y", GO), ("z", U64), ("w", List(GB))))),
               ("h", OWN0)), Tuple((GO, List(Record((("a", GO),)))))),
    Signature(tuple((f"a{i}", U32) for i in range(16))
              + (("h", Record((("a", GB), ("b", GO), ("c", BOR0)))),), Result(GO, List(GO))),
    Signature((("x", Record((("a", GO),))),), Record((("a", GO),))),
]
# One own, one borrow in and one own out, in every call (the fault tests need each).
GR_ALL = Signature((("a", GO), ("b", GB)), Record((("r", GO),)))


# Faults planted in the component text of a gr case (old, new, the finding it must give).
GR_TEXT_FAULTS = [
    # `f` hands `g` another rep than the own it got
    ("(local.set 1 (call $gr_rep (local.get 0)))",
     "(local.set 1 (i32.add (call $gr_rep (local.get 0)) (i32.const 1)))",
     "host-arg-mismatch|u32:value:int->int"),
    # `f` keeps the own it got: its destructor never runs
    ("(call $gr_drop (local.get 0)) (local.get 1))", "(local.get 1))",
     "gr-dtor|in-call:count=less"),
    # the destructor counts twice per run
    ("(global.set $n (i32.add (global.get $n) (i32.const 1)))",
     "(global.set $n (i32.add (global.get $n) (i32.const 2)))", "gr-dtor|in-call:count=more"),
    # the destructor runs for another rep
    ("(global.set $sum (i32.add (global.get $sum) (local.get 0)))",
     "(global.set $sum (i32.add (global.get $sum) (i32.const 7)))", "gr-dtor|in-call:reps"),
    # the handle `f` returns names another rep than `g` returned
    ("(call $g) (call $gr_new)", "(call $g) (i32.add (i32.const 1)) (call $gr_new)",
     "result-mismatch|own:value:Res->Res"),
]


def random_case(sig: Signature, seed: int = 1, calls: int = 2, lane: str = "py") -> Case:
    """`calls` calls of random values of `sig` (an echo returns its first argument)."""
    vg = ValueGen(Unstructured(random.Random(seed).randbytes(400)))
    out = []
    for _ in range(calls):
        args = tuple(vg.gen(t) for _, t in sig.params)
        ret = args[0] if sig.echo else (vg.gen(sig.result) if sig.result is not None else None)
        out.append(Call(args, ret))
    return Case(sig, tuple(out), lane=lane)


def lane_oracle(lane: str, **faults) -> RoundTripOracle:
    """A round-trip oracle running every case on `lane`; `faults` plant C-lane faults."""
    o = RoundTripOracle(cache_size=16)
    if faults:
        o.c_lane = CLaneRunner(o, **faults)
        o.stats["lanes"] = o.c_lane.counts
    o.c_lane.force = lane
    return o


def outcome(oracle, tc) -> str:
    """"ok", "discarded" or the finding's signature of running `tc`."""
    try:
        oracle.run(tc)
    except Finding as f:
        return f.signature
    except Discard:
        return "discarded"
    return "ok"


def unknown(got: str, target: str) -> bool:
    """Whether an `outcome` is a finding the registry does not know for `target`."""
    return got not in ("ok", "discarded") and known(got, target) is None
