"""Components with the guest-defined resource `gr` inside `f`'s types: `g` takes u32 reps where
`f` has handles; they validate, compile on every engine; the decoder puts `gr` in the types of a
share of inputs (first bytes 0xa0-0xbe, even) and nowhere else."""
from __future__ import annotations

import random

import pytest

from itfuzz.generators.components import component_text
from itfuzz.generators.signatures import decode_roundtrip
from itfuzz.model.case import Signature
from itfuzz.model.resources import GuestHandle, Handle, guest_as_u32, has_guest
from itfuzz.model.types import PRIMS, List, Option, Record, Result, Tuple, Variant, walk

GO, GB, OWN0, BOR1 = GuestHandle(True), GuestHandle(False), Handle(0, True), Handle(1, False)
U32, U64, F64, STR = PRIMS["u32"], PRIMS["u64"], PRIMS["f64"], PRIMS["string"]


def guest_signatures() -> list[Signature]:
    """Hand-made: gr flat, nested in every compound kind, next to host handles, spilled, in
    flat and return-area results, in i64-joined variant slots."""
    nested = [
        Record((("a", GB), ("b", GO), ("c", STR))),
        List(GO), List(Tuple((U64, GB, GO))), List(List(GO)),
        Variant((("x", None), ("y", GO), ("z", U64), ("w", List(GB)))),
        Option(GO), Result(GO, F64), Result(None, Option(GB)), Tuple((OWN0, GO, BOR1)),
        Variant(tuple((f"c{i}", GO if i % 100 == 99 else None) for i in range(300))),
    ]
    sigs = [Signature((("x", GO),), GO, echo=True),
            Signature((("x", Record((("a", GO),))),), Record((("a", GO),)))]
    for t in nested:
        sigs.append(Signature((("p", t), ("q", GO)), Option(GO)))
        sigs.append(Signature((("p", t),), List(Record((("r", GO), ("s", OWN0))))))
    spilled = tuple((f"a{i}", U32) for i in range(16)) + (("h", Record((("a", GB), ("b", GO)))),)
    sigs.append(Signature(spilled, Tuple((GO, STR))))
    return sigs


def generated_guest_cases(n: int, seed: int = 0):
    """Decoded cases whose first byte asks for `gr` and that use it."""
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        data = bytes([rng.randrange(0xA0, 0xC0, 2)]) + rng.randbytes(rng.choice((16, 64, 200)))
        tc = decode_roundtrip(data)
        if tc.sig.guest:
            out.append(tc)
    return out


def test_g_takes_u32_where_f_has_gr():
    t = Record((("a", GO), ("b", List(Variant((("x", GB), ("y", OWN0)))))))
    assert guest_as_u32(t) == Record((("a", U32), ("b", List(Variant((("x", U32), ("y", OWN0)))))))
    assert guest_as_u32(Tuple((OWN0, U64))) == Tuple((OWN0, U64))
    wat = component_text(Signature((("p", t),), Option(GO)))
    g_import = next(line for line in wat.splitlines() if '(import "g"' in line)
    assert "gr" not in g_import
    assert '(export $gr "gr" (type $GR))' in wat
    assert wat.index('(export $gr "gr"') < wat.index("(type $T0")  # defined before its users
    composed = pytest.raises(ValueError, Signature, (("p", GO),), None, shape="composed",
                             callee_encoding="utf8")
    assert "single shape" in str(composed.value)


def test_guest_components_validate(validate_wat):
    for sig in guest_signatures():
        validate_wat(component_text(sig))
    for tc in generated_guest_cases(40):
        validate_wat(component_text(tc.sig))


@pytest.mark.parametrize("engine_kind", ["cranelift", "winch", "pulley"])
def test_guest_components_compile_on_every_engine(engine_kind):
    from wasmtime import component as wc

    from itfuzz.engines.core_engine import make_core_engine
    engine = make_core_engine(engine_kind)
    for sig in guest_signatures():
        wc.Component(engine, component_text(sig))


def test_f_converts_each_gr_handle_where_it_sits():
    sig = Signature((("p", Variant((("x", None), ("y", GO), ("z", U64)))), ("q", List(GO)),
                     ("b", GB)), Option(GO))
    f_body = component_text(sig).split('(func (export "f")')[1].split("\n    (func")[0]
    # the i64 variant slot, its discriminant deciding; list elements in memory; not the borrow
    assert ("(if (i32.eq (local.get 0) (i32.const 1)) (then (local.set 1 (i64.extend_i32_u "
            "(call $gr_take (i32.wrap_i64 (local.get 1)))))))") in f_body
    assert "(i32.store offset=0 (local.get 5) (call $gr_take (i32.load offset=0" in f_body
    assert "(call $gr_take (local.get 4))" not in f_body  # a borrow arrives as the rep
    # the result's `some` payload in the return area becomes a new own
    assert "(call $gr_new (i32.load offset=4" in f_body.split("(call $g)")[1]
    flat = component_text(Signature((("x", Record((("a", GO),))),), Record((("a", GO),))))
    assert "(call $g) (call $gr_new)" in flat


def test_decoder_puts_gr_in_a_share_of_single_shape_inputs_only():
    rng = random.Random(3)
    firsts = {}
    for _ in range(3000):
        data = bytes([rng.randrange(256)]) + rng.randbytes(64)
        sig = decode_roundtrip(data).sig
        if sig.guest:
            firsts[data[0]] = sig
    assert firsts and all(0xA0 <= b < 0xC0 and b % 2 == 0 for b in firsts)
    assert all(s.shape == "single" for s in firsts.values())
    cases = generated_guest_cases(200, seed=1)
    assert any(has_guest(t) for tc in cases for _, t in tc.sig.params)
    assert any(tc.sig.result is not None and has_guest(tc.sig.result) for tc in cases)
    assert any(not n.own for tc in cases for _, t in tc.sig.params for n in walk(t)
               if isinstance(n, GuestHandle))
    for tc in cases:  # no borrow in results
        assert tc.sig.result is None or all(n.own for n in walk(tc.sig.result)
                                            if isinstance(n, GuestHandle))
    again = decode_roundtrip(bytes([0xA2]) + random.Random(9).randbytes(64))
    assert again == decode_roundtrip(bytes([0xA2]) + random.Random(9).randbytes(64))
