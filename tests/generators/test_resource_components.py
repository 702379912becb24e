"""Components with host resources (`own<rN>`/`borrow<rN>`): they validate, compile on every
engine, and the guest drops exactly the borrows it received."""
from __future__ import annotations

import random

import pytest

from itfuzz.generators.components import component_text
from itfuzz.generators.signatures import decode_roundtrip
from itfuzz.model.case import Signature
from itfuzz.model.resources import Handle, has_borrow, resource_ids
from itfuzz.model.types import PRIMS, List, Option, Record, Result, Tuple, Variant, walk

OWN0, OWN1, BOR0, BOR1 = Handle(0, True), Handle(1, True), Handle(0, False), Handle(1, False)
U32, U64, F64, STR = PRIMS["u32"], PRIMS["u64"], PRIMS["f64"], PRIMS["string"]


def resource_signatures() -> list[Signature]:
    """Hand-made signatures: handles flat, nested in every compound kind, spilled, composed."""
    nested = [
        Record((("a", BOR0), ("b", OWN1), ("c", STR))),
        List(BOR0), List(Tuple((U64, BOR1, OWN0))), List(List(BOR0)),
        Variant((("x", None), ("y", BOR0), ("z", U64), ("w", List(BOR1)))),
        Option(BOR0), Result(BOR0, F64), Result(None, Option(BOR1)),
        Variant(tuple((f"c{i}", BOR0 if i % 100 == 99 else None) for i in range(300))),
    ]
    sigs = [Signature((("x", OWN0),), OWN0, echo=True),
            Signature((("x", List(OWN1)),), List(OWN1), echo=True, shape="composed",
                      callee_encoding="utf16")]
    for t in nested:
        sigs.append(Signature((("p", t), ("q", OWN0)), Option(OWN1)))
        sigs.append(Signature((("p", t),), None, shape="composed", callee_encoding="utf8"))
    spilled = tuple((f"a{i}", U32) for i in range(16)) + (("h", Record((("a", BOR0), ("b", OWN0)))),)
    sigs.append(Signature(spilled, Tuple((OWN0, STR))))
    return sigs


def generated_resource_cases(n: int, seed: int = 0):
    """Decoded cases whose first byte asks for resources, that use some (no maps)."""
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        data = bytes([rng.randrange(0x80, 0xA0)]) + rng.randbytes(rng.choice((16, 64, 200)))
        tc = decode_roundtrip(data)
        if resource_ids(tc.sig.types()) and not any(
                x.kind == "map" for t in tc.sig.types() for x in walk(t)):
            out.append(tc)
    return out


def test_borrows_only_in_params():
    for tc in generated_resource_cases(200):
        if tc.sig.result is not None:
            assert not has_borrow(tc.sig.result)


def test_resource_components_validate(validate_wat):
    for sig in resource_signatures():
        validate_wat(component_text(sig))
    for tc in generated_resource_cases(40):
        validate_wat(component_text(tc.sig))


@pytest.mark.parametrize("engine_kind", ["cranelift", "winch", "pulley"])
def test_resource_components_compile_on_every_engine(engine_kind):
    from wasmtime import component as wc

    from itfuzz.engines.core_engine import make_core_engine
    engine = make_core_engine(engine_kind)
    for sig in resource_signatures():
        wc.Component(engine, component_text(sig))


def test_borrow_drops_follow_the_type():
    sig = Signature((("p", Variant((("x", None), ("y", BOR0)))), ("q", List(BOR1))), None)
    wat = component_text(sig)
    assert "(call $drop_r0 (local.get 1))" in wat  # the payload slot after the discriminant
    assert "(call $drop_r1 (i32.load offset=0" in wat  # list elements, in memory
    own_only = component_text(Signature((("p", OWN0),), None))
    f_body = own_only.split('(func (export "f")')[1].split(")\n")[0]
    assert "drop_r" not in f_body  # owns move on to `g`: nothing to drop
