"""Host-API misuse target: invalid values of every type kind raise harmlessly (or hit a known
finding); the validity judge agrees with the value model; converter faults are reported."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from faults import plant_wasmtime_py
from wasmtime.component import Record as WRecord
from wasmtime.component import Variant as WVariant

from itfuzz import targets
from itfuzz.engines.invalid_values import (
    InvalidGen,
    Misuse,
    MisuseCase,
    _sibling_slip,
    decode_misuse,
    show,
    why_invalid,
)
from itfuzz.engines.wasmtime_values import to_wasmtime
from itfuzz.findings import Finding
from itfuzz.generators.signatures import decode_signature
from itfuzz.generators.unstructured import Unstructured
from itfuzz.generators.valuegen import ValueGen
from itfuzz.known_findings import known
from itfuzz.model.case import Call, Signature
from itfuzz.model.types import PRIMS, Enum, Flags, List, Option, Record, Result, Tuple, Variant
from itfuzz.oracles.misuse import MisuseOracle

ROOT = Path(__file__).resolve().parents[2]
P = PRIMS
u8, s8, u32, s64, u64 = P["u8"], P["s8"], P["u32"], P["s64"], P["u64"]
f32, f64, char, string, bool_ = P["f32"], P["f64"], P["char"], P["string"], P["bool"]
REC = Record((("a", u8), ("b", string)))
VAR = Variant((("a", u32), ("b", None), ("c", u8)))  # tagged: a and c are both int
ENUM = Enum(("red", "green"))
FLAGS = Flags(("x", "y-z"))


def rec(**kw):
    r = WRecord()
    for k, v in kw.items():
        setattr(r, k, v)
    return r


# (type, valid model value, invalid wasmtime-py value, kind); every type kind is covered.
SAMPLES = [
    (bool_, True, 1, "wrong-type"),
    (bool_, False, None, "wrong-type"),
    (u8, 1, 256, "int-range"),
    (s8, 1, -129, "int-range"),
    (u32, 1, -1, "int-range"),
    (s64, 1, 1 << 63, "int-range"),
    (u64, 1, 1 << 64, "int-range"),
    (u32, 1, True, "bool-for-int"),
    (u32, 1, 1.0, "wrong-type"),
    (f32, 1.0, 1, "wrong-type"),
    (f64, 1.0, "1.0", "wrong-type"),
    (char, "a", "", "char-length"),
    (char, "a", "ab", "char-length"),
    (char, "a", 97, "wrong-type"),
    (string, "ok", "a\ud800b", "string-surrogate"),
    (string, "ok", b"ok", "wrong-type"),
    (List(u32), [1], (1,), "wrong-type"),
    (List(u32), [1], [1, "2"], "wrong-type"),
    (List(u8), [1], [1], "wrong-type"),
    (List(u8), [1], bytearray(b"\x01"), "wrong-type"),
    (REC, (1, "s"), rec(a=1), "record-missing-field"),
    (REC, (1, "s"), rec(a=1, b="s", c=2), "record-extra-field"),
    (REC, (1, "s"), rec(a=1, b=2), "wrong-type"),
    (REC, (1, "s"), {"a": 1, "b": "s"}, "wrong-type"),
    (Tuple((u8, u8)), (1, 2), (1,), "tuple-length"),
    (Tuple((u8, u8)), (1, 2), (1, 2, 3), "tuple-length"),
    (Tuple((u8, u8)), (1, 2), [1, 2], "wrong-type"),
    (VAR, ("a", 1), WVariant("zz", 1), "unknown-tag"),
    (VAR, ("a", 1), WVariant("b", 5), "payload-on-empty-case"),
    (VAR, ("a", 1), WVariant("a"), "missing-payload"),
    (VAR, ("a", 1), WVariant("c", "5"), "wrong-type"),
    (VAR, ("a", 1), 1, "wrong-type"),
    (ENUM, "red", "blue", "unknown-enum"),
    (ENUM, "red", 0, "wrong-type"),
    (FLAGS, frozenset({"x"}), {"x", "w"}, "unknown-flag"),
    (FLAGS, frozenset({"x"}), frozenset({"x"}), "wrong-type"),
    (Option(u8), ("some", 1), "x", "wrong-type"),
    (Option(u8), ("some", 1), 300, "int-range"),
    (Result(u8, string), ("ok", 1), b"x", "wrong-type"),
    (Result(bool_, P["u16"]), ("ok", True), -1, "int-range"),  # taken as the u16: K4
    (Result(None, None), ("ok", None), WVariant("ok", 1), "payload-on-empty-case"),
    (Result(None, None), ("ok", None), WVariant("maybe"), "unknown-tag"),
    (List(Option(Tuple((u8, char)))), [("some", (1, "a"))], [(1, "ab")], "char-length"),
]
# Samples that wasmtime-py / Wasmtime are known to mishandle, with the known finding they hit.
KNOWN_BAD = {"int-range": "K4", "bool-for-int": "K5", "payload-on-empty-case": "K6",
             "record-extra-field": "K7"}
POISONS_STORE = {"unknown-enum", "unknown-flag"}  # Wasmtime rejects these itself: K9 on args


@pytest.fixture(scope="module")
def oracle():
    return MisuseOracle(cache_size=64)


def case_for(t, valid, bad, kind, where) -> MisuseCase:
    sig = Signature((("x", t),), t, "utf8", echo=True)
    misuse = Misuse(bad, "x" if where == "arg" else "result", kind, t, bad)
    return MisuseCase(sig, Call((valid,), valid), where, 0, misuse)


@pytest.mark.parametrize("where", ["arg", "ret"])
@pytest.mark.parametrize("t,valid,bad,kind", SAMPLES, ids=[f"{s[0].kind}-{s[3]}-{i}"
                                                           for i, s in enumerate(SAMPLES)])
def test_invalid_value_of_every_kind_raises_or_is_known(oracle, t, valid, bad, kind, where):
    assert why_invalid(t, to_wasmtime(t)(valid)) is None
    assert why_invalid(t, bad) is not None, "the sample must be invalid"
    case = case_for(t, valid, bad, kind, where)
    expected = KNOWN_BAD.get(kind)
    if kind in POISONS_STORE and where == "arg":
        expected = "K9"
    if kind == "string-surrogate" and where == "ret":
        expected = "K15"  # predicted: wasmtime-py's error path corrupts memory
    if expected is None:
        oracle.run(case)  # raised a Python exception; a valid call works afterwards
        return
    with pytest.raises(Finding) as e:
        oracle.run(case)
    k = known(e.value.signature)
    assert k is not None and k.id == expected, e.value.report(with_wat=False)
    assert "misuse:" in e.value.values and t.wit(case.sig.names) in e.value.values


def test_lone_surrogate_char_is_predicted_not_run(oracle):
    case = case_for(char, "a", "\udc00", "char-surrogate", "arg")
    with pytest.raises(Finding) as e:
        oracle.run(case)
    assert known(e.value.signature).id == "K8"


def test_result_for_a_function_without_result(oracle):
    sig = Signature((), None)
    case = MisuseCase(sig, Call((), None), "ret", 0, Misuse(7, "result", "unexpected-result",
                                                            None, 7))
    with pytest.raises(Finding) as e:
        oracle.run(case)
    assert known(e.value.signature).id == "K10"


def test_wrong_argument_count_raises_and_store_survives(oracle):
    sig = Signature((("x", u8), ("y", string)), string)
    oracle.run(MisuseCase(sig, Call((1, "a"), "b"), "arity", 0, None))


def test_report_names_value_type_and_outcome(oracle):
    case = case_for(Option(u8), ("some", 1), 300, "int-range", "arg")
    with pytest.raises(Finding) as e:
        oracle.run(case)
    text = e.value.report()
    assert "int-range at x: 300 for type option<u8>" in text
    assert "the host received ('some', 44)" in text
    assert "f: func(x: option<u8>) -> option<u8>;" in text


# -- fault injection ------------------------------------------------------------------------

def test_converter_silently_accepting_is_reported(monkeypatch):
    """Fault: the tuple converter pads/truncates instead of raising."""
    def lenient(original, self, store, val, ptr):
        n = len(self.elements)
        return original(self, store, tuple(val[:n]) + (0,) * (n - len(val)), ptr)
    plant_wasmtime_py(monkeypatch, "TupleType", "convert_to_c", lenient)
    t = Tuple((u8, u8))
    for where in ("arg", "ret"):
        with pytest.raises(Finding) as e:
            MisuseOracle(cache_size=4).run(case_for(t, (1, 2), (1, 2, 3), "tuple-length", where))
        assert e.value.signature == "misuse-accepted|tuple-length"
        assert "(1, 2)" in e.value.message


def test_string_converter_replacing_surrogates_is_reported(monkeypatch):
    def lenient(original, self, store, val, ptr):
        clean = val.encode("utf-8", "replace").decode() if isinstance(val, str) else val
        return original(self, store, clean, ptr)
    plant_wasmtime_py(monkeypatch, "String", "convert_to_c", lenient)
    with pytest.raises(Finding) as e:
        MisuseOracle(cache_size=4).run(case_for(string, "ok", "a\ud800", "string-surrogate",
                                                "arg"))
    assert e.value.signature == "misuse-accepted|string-surrogate"
    assert "'a?'" in e.value.message


def test_unexpected_exception_type_is_reported(monkeypatch):
    def broken(original, self, store, val, ptr):
        raise KeyError("boom")
    plant_wasmtime_py(monkeypatch, "EnumType", "convert_to_c", broken)
    with pytest.raises(Finding) as e:
        MisuseOracle(cache_size=4).run(case_for(ENUM, "red", 3, "wrong-type", "arg"))
    assert e.value.signature == "misuse-wrong-exception|KeyError"


def test_broken_store_after_misuse_is_reported(monkeypatch):
    """Fault: the embedding breaks the store when it rejects a value."""
    oracle = MisuseOracle(cache_size=4)

    def breaking(original, self, store, val, ptr):
        if len(val) != len(self.elements):
            oracle.run_call = lambda *a: (_ for _ in ()).throw(oracle.finding(
                "call-error", "x", "valid call failed", case.sig, ""))
        return original(self, store, val, ptr)
    plant_wasmtime_py(monkeypatch, "TupleType", "convert_to_c", breaking)
    case = case_for(Tuple((u8, u8)), (1, 2), (1,), "tuple-length", "arg")
    with pytest.raises(Finding) as e:
        oracle.run(case)
    assert e.value.signature == "misuse-store-poisoned|arg:TypeError"


# -- generator and decoding -----------------------------------------------------------------

def test_generated_misuses_are_invalid_and_reach_deep_nodes():
    rng = random.Random(0xBAD)
    depths, kinds = set(), set()
    for _ in range(600):
        u = Unstructured(rng.randbytes(300))
        sig = decode_signature(u, shapes=("single",))
        for _, t in sig.params[:1]:
            v = ValueGen(u, 300).gen(t)
            assert why_invalid(t, to_wasmtime(t)(v)) is None, (t, v)
            m = InvalidGen(u).make(t, v, "x")
            if m is not None:
                assert why_invalid(t, m.value) is not None, show(m.value)
                assert m.node is not None and why_invalid(m.node, m.bad) is not None
                depths.add(min(m.depth, 3))
                kinds.add(m.kind)
    assert depths == {0, 1, 2, 3}
    assert {"wrong-type", "int-range", "bool-for-int", "char-length", "char-surrogate",
            "string-surrogate", "unknown-enum", "unknown-flag", "unknown-tag",
            "tuple-length"} <= kinds


def test_untagged_variant_taking_the_value_as_another_case_is_valid():
    t = Result(u8, string)  # untagged: int -> ok, str -> err
    assert why_invalid(t, "x") is None and why_invalid(t, 3) is None
    assert why_invalid(t, b"x") is not None and why_invalid(t, True) is not None


def test_wrong_typed_payload_another_untagged_int_case_takes_is_named_its_slip():
    """-1 for the bool of untagged result<bool, u16> fits no case, but wasmtime-py takes it as
    the u16 and wraps it: K4's int-range, not a wrong-type; a bool there would be K5's slip."""
    u16 = P["u16"]
    t = Result(bool_, u16)
    for bad, kind in ((-1, "int-range"), (1 << 20, "int-range"), ("s", "wrong-type")):
        assert why_invalid(t, bad) is not None
        inner = Misuse(bad, "x<ok>", "wrong-type", bool_, bad)
        assert _sibling_slip(t, inner) == kind
    slip = Misuse(True, "x<err>", "wrong-type", string, True)
    assert _sibling_slip(Result(string, u8), slip) == "bool-for-int"
    assert _sibling_slip(Result(string, f32), slip) == "wrong-type"  # no integer case
    tagged = Variant((("a", bool_), ("b", bool_), ("c", u16)))
    assert _sibling_slip(tagged, Misuse(-1, "x<a>", "wrong-type", bool_, -1)) == "wrong-type"


def test_decode_misuse_is_deterministic_and_total():
    rng = random.Random(7)
    for n in (0, 1, 5, 40, 300):
        data = rng.randbytes(n)
        a, b = decode_misuse(data), decode_misuse(data)
        assert a.sig == b.sig and a.where == b.where and a.index == b.index
        assert (a.misuse is None) == (b.misuse is None)
        if a.misuse is not None:
            assert show(a.misuse.value) == show(b.misuse.value)
        assert a.sig.shape == "single"
        assert (a.where == "arity") == (a.misuse is None)


def test_seed_corpus_runs_clean():
    target = targets.get("host_api_misuse")
    files = sorted((ROOT / "corpus" / "host_api_misuse").iterdir())
    assert len(files) > 20
    for p in files:
        assert target.execute(p.read_bytes()).status == "ok", p.name


# -- known findings: expected failures while the bugs exist ---------------------------------

class StillPresent(Exception):
    pass


@pytest.mark.parametrize("kid", ["K4", "K5", "K6", "K7", "K9", "K10", "K11"])
@pytest.mark.xfail(strict=True, raises=StillPresent, reason="known wasmtime-py/Wasmtime bug")
def test_known_misuse_finding_fixed(kid):
    k = next(k for k in __import__("itfuzz.known_findings").known_findings.KNOWN if k.id == kid)
    target = targets.get(k.target)
    try:
        target.execute((ROOT / k.reproducer).read_bytes())
    except Finding as f:
        assert f.signature == k.signature, f.report(with_wat=False)
        raise StillPresent(k.signature) from None


@pytest.mark.xfail(strict=True, raises=StillPresent, reason="K8: Wasmtime C API aborts")
def test_known_char_surrogate_abort_fixed():
    import os
    import subprocess
    import sys
    env = dict(os.environ, ITFUZZ_MISUSE_RUN_ABORTS="1", RUST_BACKTRACE="0",
               PYTHONPATH=str(ROOT / "src"))
    p = subprocess.run([sys.executable, "-m", "itfuzz.cli", "repro", "--in-process", "host_api_misuse",
                        str(ROOT / "findings" / "K8-misuse-char-surrogate-abort.bin")],
                       capture_output=True, text=True, env=env, timeout=120)
    if p.returncode < 0 or p.returncode == 134:
        assert "val.rs" in p.stderr and "panicked" in p.stderr, p.stderr[-2000:]
        raise StillPresent(f"aborted: {p.returncode}")
