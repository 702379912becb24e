"""Type-reflection check: Wasmtime's `Func.type(store)` against the generated signature."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
import wasmtime
from faults import plant_wasmtime_py
from wasmtime import component as wc

from itfuzz.findings import Finding
from itfuzz.generators.components import component_text
from itfuzz.generators.signatures import decode_roundtrip as decode
from itfuzz.model.case import Call, Signature
from itfuzz.model.case import TestCase as Case
from itfuzz.model.types import PRIMS, Enum, Flags, List, Option, Record, Result, Tuple, Variant
from itfuzz.oracles import reflection
from itfuzz.oracles.roundtrip import RoundTripOracle

ROOT = Path(__file__).resolve().parents[2]
U8, U32, U64, STR = PRIMS["u8"], PRIMS["u32"], PRIMS["u64"], PRIMS["string"]
REC = Record((("a", U32), ("b", List(STR))))
VAR = Variant((("p", Option(U8)), ("q", None)))
RICH = (("r", REC), ("v", VAR), ("e", Enum(("x", "y"))), ("fl", Flags(("m", "n", "o"))),
        ("t", Tuple((U64, Result(None, STR)))))


def reflected(sig: Signature, engine):
    store = wasmtime.Store(engine)
    linker = wc.Linker(engine)
    linker.root().add_func("g", lambda store, *a: None)
    inst = linker.instantiate(store, wc.Component(engine, component_text(sig)))
    return inst.get_func(store, "f").type(store)


@pytest.mark.parametrize("shape", ["single", "composed"])
def test_rich_signature_reflects_exactly(engine, shape):
    sig = Signature(RICH, REC, "utf8", shape=shape,
                    callee_encoding="utf16" if shape == "composed" else None)
    assert reflection.mismatch(sig, reflected(sig, engine)) is None


@pytest.mark.parametrize("changed, detail", [
    ((("r", Record((("a", U64), ("b", List(STR))))),) + RICH[1:], "kind:u64->u32"),
    ((("r", Record((("b", List(STR)), ("a", U32)))),) + RICH[1:], "record:field-names"),
    (RICH[:1] + (("v", Variant((("p", Option(U8)), ("q", U8)))),) + RICH[2:],
     "variant:case-presence"),
    (RICH[:1] + (("v", Variant((("p", Option(U32)), ("q", None)))),) + RICH[2:], "kind:u32->u8"),
    (RICH[:2] + (("e", Enum(("y", "x"))),) + RICH[3:], "enum:names"),
    (RICH[:3] + (("fl", Flags(("n", "m", "o"))),) + RICH[4:], "flags:names"),
    (RICH[:4] + (("t", Tuple((U64, Result(U8, STR)))),), "result:ok-presence"),
    (RICH[:4] + (("t", Tuple((U64,))),), "tuple:arity"),
    (RICH[1:] + RICH[:1], "func:param-names"),
])
def test_planted_differences_are_named(engine, changed, detail):
    """Fault injection: the check is handed a signature other than the compiled one."""
    good = Signature(RICH, REC)
    m = reflection.mismatch(replace(good, params=changed), reflected(good, engine))
    assert m is not None and m.detail == detail, m


def test_result_presence(engine):
    good = Signature(RICH, REC)
    m = reflection.mismatch(replace(good, result=None), reflected(good, engine))
    assert m.detail == "func:result-presence"
    m = reflection.mismatch(replace(good, result=U32), reflected(good, engine))
    assert m.detail == "kind:u32->record"


def test_oracle_reports_a_planted_reflection(monkeypatch):
    """Fault injection in the oracle: a doctored `Func.type` is a `type-reflection` finding."""
    sig = Signature((("x", U32),), U32, echo=True)
    def fake(real, self, store):
        return SimpleNamespace(params=[("x", wc.U64())], result=real(self, store).result)
    plant_wasmtime_py(monkeypatch, wc.Func, "type", fake)
    with pytest.raises(Finding) as e:
        RoundTripOracle(cache_size=4).run(Case(sig, (Call((7,), 7),)))
    assert e.value.signature == "type-reflection|kind:u32->u64"
    assert "param x" in e.value.message


def test_checked_once_per_component(monkeypatch):
    checks = []
    real = reflection.mismatch
    monkeypatch.setattr(reflection, "mismatch", lambda *a: checks.append(1) or real(*a))
    oracle = RoundTripOracle(cache_size=4)
    case = Case(Signature((("x", U32),), U32, echo=True), (Call((7,), 7),))
    oracle.run(case)
    oracle.run(case)
    assert len(checks) == 1


def test_corpus_reflects_exactly(roundtrip_target):
    """Every seed's signature (single and composed) passes the check in the oracle."""
    shapes = set()
    for p in sorted((ROOT / "corpus" / "component_roundtrip").iterdir()):
        sig = decode(p.read_bytes()).sig
        shapes.add(sig.shape)
        if sig.has_maps and sig.shape == "single":
            continue  # a map at the host: wasmtime-py cannot reflect it (K22; the C lane runs it)
        entry = roundtrip_target.oracle.prepare(sig)
        store = wasmtime.Store(roundtrip_target.oracle.engine)
        f = entry.linker.instantiate(store, entry.component).get_func(store, "f")
        assert reflection.mismatch(sig, f.type(store)) is None, sig.wit()
    assert shapes == {"single", "composed"}
