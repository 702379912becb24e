"""Fault injection: each deliberately broken link in the round trip must surface as a `Finding`.

Faults go in through the oracle's `transform` hook (host side: converters, returned values) or
through a modified component text (guest side: the core forwarder corrupts memory or skips the
host call), planted with `faults.plant_component_text` for the test only.
"""
from __future__ import annotations

import pytest
from faults import plant_component_text

import itfuzz.oracles.roundtrip as rt
from itfuzz.findings import Finding
from itfuzz.generators.components import RETBUF
from itfuzz.model.case import Call, Signature
from itfuzz.model.case import TestCase as Case
from itfuzz.model.types import PRIMS, Enum, List, Record, Variant
from itfuzz.model.values import f64_bits_to_float
from itfuzz.oracles.roundtrip import RoundTripOracle

u8, u32, f64, string, bool_ = (PRIMS[n] for n in ("u8", "u32", "f64", "string", "bool"))
NAN = float("nan")


def echo(t, encoding="utf8"):
    return Signature((("x", t),), t, encoding, echo=True)


def rec(**fields):
    return Record(tuple(fields.items()))


def run_echo(oracle, sig, *values):
    oracle.run(Case(sig, tuple(Call((v,), v) for v in values)))


def expect_finding(oracle, sig, *values) -> Finding:
    with pytest.raises(Finding) as e:
        run_echo(oracle, sig, *values)
    return e.value


def clean(sig, *values):
    """The unmodified harness passes the same case (so a finding below is the fault's)."""
    run_echo(RoundTripOracle(cache_size=4), sig, *values)


CALL2 = f"(local.get 0) (local.get 1) (i32.const {RETBUF}) (call $g)"


# -- 1. a host that returns a modified value ------------------------------------------------

def test_host_returns_modified_value():
    def t(entry):
        orig = entry.result_in
        entry.result_in = lambda v: orig(v) + 1
    sig = echo(u32)
    clean(sig, 41)
    f = expect_finding(RoundTripOracle(transform=t), sig, 41)
    assert f.signature == "result-mismatch|u32:value:int->int"
    assert "expected 41, got 42" in f.message
    report = f.report()
    assert "-- signature (WIT) --" in report and "f: func(x: u32) -> u32;" in report
    assert "-- values --" in report and "x = 41" in report
    assert "-- component (WAT) --" in report and "(component" in report


def test_host_returns_modified_string():
    def t(entry):
        orig = entry.result_in
        entry.result_in = lambda v: orig(v) + "!"
    sig = echo(string, "utf16")
    clean(sig, "héllo")
    f = expect_finding(RoundTripOracle(transform=t), sig, "héllo")
    assert f.signature == "result-mismatch|string:value:str->str"


# -- 2. the guest adapter corrupts one byte of a lowered string or list ----------------------

FLIP_ARG = ("(i32.store8 (local.get 0) (i32.xor (i32.load8_u (local.get 0)) (i32.const 1))) "
            + CALL2)


@pytest.mark.parametrize("encoding", ["utf8", "utf16", "latin1+utf16"])
def test_guest_flips_a_byte_of_the_argument_string(monkeypatch, encoding):
    sig = echo(string, encoding)
    clean(sig, "abc")
    plant_component_text(monkeypatch, rt, lambda wat, sig: wat.replace(CALL2, FLIP_ARG))
    f = expect_finding(RoundTripOracle(), sig, "abc")
    assert f.check == "host-arg-mismatch", f.signature
    assert f.detail == "string:value:str->str"
    assert "got '`bc'" in f.message  # 'a' ^ 1


@pytest.mark.parametrize("t,value,detail", [
    (List(u32), [5, 6], "u32:value:int->int"),
    (List(u8), [200, 1], "u8:value:int->int"),
])
def test_guest_flips_a_byte_of_the_argument_list(monkeypatch, t, value, detail):
    sig = echo(t)
    clean(sig, value)
    plant_component_text(monkeypatch, rt, lambda wat, sig: wat.replace(CALL2, FLIP_ARG))
    f = expect_finding(RoundTripOracle(), sig, value)
    assert f.signature == f"host-arg-mismatch|{detail}"
    assert "arg x[0]" in f.message


def test_guest_flips_a_byte_of_the_returned_string(monkeypatch):
    ptr = f"(i32.load (i32.const {RETBUF}))"
    flip = f"(i32.store8 {ptr} (i32.xor (i32.load8_u {ptr}) (i32.const 2)))"
    sig = echo(string)
    plant_component_text(monkeypatch, rt, lambda wat, sig: wat.replace(CALL2, f"{CALL2} {flip}"))
    f = expect_finding(RoundTripOracle(), sig, "abc")
    assert f.signature == "result-mismatch|string:value:str->str"
    assert "got 'cbc'" in f.message


# -- 3. an adapter that returns without calling the host --------------------------------------

def test_adapter_returns_constant_without_calling_host(monkeypatch):
    sig = echo(u32)
    clean(sig, 7)
    plant_component_text(monkeypatch, rt, lambda wat, sig: wat.replace(
        "(local.get 0) (call $g)", "(i32.const 7)"))
    f = expect_finding(RoundTripOracle(), sig, 7)  # even the "right" value is caught
    assert f.signature == "host-call-count|count=0"


def test_adapter_returns_retbuf_without_calling_host(monkeypatch):
    sig = echo(string)
    plant_component_text(monkeypatch, rt, lambda wat, sig: wat.replace(CALL2, ""))
    f = expect_finding(RoundTripOracle(), sig, "")
    assert f.signature == "host-call-count|count=0"


def test_adapter_calls_host_twice(monkeypatch):
    sig = echo(u32)
    plant_component_text(monkeypatch, rt, lambda wat, sig: wat.replace(
        "(local.get 0) (call $g)", "(local.get 0) (call $g) drop (local.get 0) (call $g)"))
    f = expect_finding(RoundTripOracle(), sig, 3)
    assert f.signature == "host-call-count|more-than-once"


# -- 4. a converter that drops a record field -----------------------------------------------

REC = rec(a=u8, b=string, c=f64)
REC_VALUE = (1, "two", 3.0)


def test_params_in_drops_a_record_field():
    def t(entry):
        orig = entry.params_in[0]

        def drop(v):
            r = orig(v)
            del r.c
            return r
        entry.params_in = [drop]
    clean(echo(REC), REC_VALUE)
    f = expect_finding(RoundTripOracle(transform=t), echo(REC), REC_VALUE)
    assert f.check == "call-error", f.signature


def test_params_out_drops_a_record_field():
    def t(entry):
        orig = entry.params_out[0]
        entry.params_out = [lambda w: orig(w)[:-1]]
    f = expect_finding(RoundTripOracle(transform=t), echo(REC), REC_VALUE)
    assert f.signature == "host-arg-mismatch|record:shape:tuple->tuple"


@pytest.mark.parametrize("change,why", [("drop", "missing"), ("add", "extra")])
def test_from_wasmtime_sees_record_field_sets_both_ways(change, why):
    def t(entry):
        orig = entry.result_out

        def alter(w):
            if change == "drop":
                del w.b
            else:
                w.extra = 1
            return orig(w)
        entry.result_out = alter
    f = expect_finding(RoundTripOracle(transform=t), echo(REC), REC_VALUE)
    assert f.check == "result-shape", f.signature
    assert "record fields" in f.message


# -- 5. a variant whose case is swapped ------------------------------------------------------

VAR = Variant((("a", u32), ("b", u32), ("c", None)))


def test_host_swaps_the_variant_case():
    def t(entry):
        orig = entry.result_in
        entry.result_in = lambda v: orig(({"a": "b", "b": "a"}.get(v[0], v[0]), v[1]))
    clean(echo(VAR), ("a", 5))
    f = expect_finding(RoundTripOracle(transform=t), echo(VAR), ("a", 5))
    assert f.signature == "result-mismatch|variant:case:tuple->tuple:int->int"


def test_guest_swaps_the_variant_discriminant(monkeypatch):
    swapped = CALL2.replace("(local.get 0)", "(i32.xor (local.get 0) (i32.const 1))", 1)
    plant_component_text(monkeypatch, rt, lambda wat, sig: wat.replace(CALL2, swapped))
    f = expect_finding(RoundTripOracle(), echo(VAR), ("b", 9))
    assert f.check == "host-arg-mismatch" and f.detail.startswith("variant:case")
    assert "got ('a', 9)" in f.message


def test_guest_swaps_the_enum_case(monkeypatch):
    e = Enum(("x", "y", "z"))
    clean(echo(e), "y")
    plant_component_text(monkeypatch, rt, lambda wat, sig: wat.replace(
        "(local.get 0) (call $g)", "(i32.xor (local.get 0) (i32.const 1)) (call $g)"))
    f = expect_finding(RoundTripOracle(), echo(e), "y")
    assert f.signature == "host-arg-mismatch|enum:value:str->str"


# -- strict equality through the oracle -----------------------------------------------------

def _params_out(fn):
    def t(entry):
        orig = entry.params_out[0]
        entry.params_out = [lambda w: fn(orig(w))]
    return t


def _result_out(fn):
    def t(entry):
        orig = entry.result_out
        entry.result_out = lambda w: fn(orig(w))
    return t


@pytest.mark.parametrize("t,value,transform,signature", [
    (bool_, True, _params_out(lambda v: 1), "host-arg-mismatch|bool:value:bool->int"),
    (u32, 1, _params_out(lambda v: True), "host-arg-mismatch|u32:value:int->bool"),
    (f64, -0.0, _params_out(lambda v: 0.0), "host-arg-mismatch|f64:value:float->float"),
    (f64, 1.0, _result_out(lambda v: 1), "result-mismatch|f64:value:float->int"),
    (f64, NAN, _result_out(lambda v: 0.0), "result-mismatch|f64:value:float->float"),
])
def test_strict_equality_in_the_oracle(t, value, transform, signature):
    clean(echo(t), value)
    f = expect_finding(RoundTripOracle(transform=transform), echo(t), value)
    assert f.signature == signature


def test_any_nan_equals_any_nan_in_the_oracle():
    other = f64_bits_to_float(0xFFF4000000000123)

    def t(entry):
        orig = entry.result_in
        entry.result_in = lambda v: orig(other)
    run_echo(RoundTripOracle(transform=t), echo(f64), NAN)  # no finding
    with pytest.raises(Finding):  # but a non-NaN is caught by the same hook
        run_echo(RoundTripOracle(transform=t), echo(f64), 1.5)
