"""The component_static target: every case compiles, values round-trip, the outcome agrees with
the dynamic oracle, and injected faults (in the generated converters or the host) are reported."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
import wasmtime
from faults import plant_static_converters, typed_path
from resource_cases import outcome
from wasmtime import component as wc

from itfuzz import targets
from itfuzz.cli import main as cli_main
from itfuzz.engines.wasmtime_values import ambiguities
from itfuzz.findings import Finding
from itfuzz.known_findings import known
from itfuzz.model.case import Call
from itfuzz.model.case import TestCase as DynamicCase
from itfuzz.model.types import Enum, Prim, Record
from itfuzz.oracles.roundtrip import RoundTripOracle
from itfuzz.oracles.static import StaticOracle
from itfuzz.static.decode import StaticTestCase, case_prefix
from itfuzz.static.decode import decode_static_case as decode

ROOT = Path(__file__).resolve().parents[2]


def input_for(index: int, table, rest: bytes) -> bytes:
    """Bytes whose case index (the input's first bytes) selects case `index` of `table`."""
    return case_prefix(index, table) + rest


def model_case(case, tc: StaticTestCase) -> DynamicCase:
    """The dynamic oracle's test case for the same values (static → model), engine and call
    costs (`Call.nodes` bounds how many calls run)."""
    calls = []
    for call in tc.calls:
        args = tuple(c.to_model(a) for c, a in zip(case.params, call.args))
        ret = case.result.to_model(call.ret) if case.result is not None else None
        calls.append(Call(args, ret, call.nodes))
    return DynamicCase(case.sig, tuple(calls), tc.config)


@pytest.mark.slow
def test_every_case_compiles(cases):
    engine = wasmtime.Engine()
    for i in range(len(cases)):
        try:
            wc.Component(engine, cases[i].wat)
        except wasmtime.WasmtimeError as e:
            pytest.fail(f"static case {i} does not compile: {e}")


def test_values_round_trip_and_agree_with_the_dynamic_oracle(cases):
    """A sample of cases (among them every kind of untagged ambiguity, where wasmtime-py's known
    bugs K1/K2 show) gives the same outcome through both oracles; only known findings occur."""
    rng = random.Random(11)
    ambiguous = [i for i in range(len(cases)) if ambiguities(cases[i].sig.types())]
    picks = sorted(set(rng.sample(range(len(cases)), 40) + ambiguous[:15]))
    static, dynamic = typed_path(StaticOracle()), RoundTripOracle()
    seen = set()
    for i in picks:
        for size in (8, 300):
            data = input_for(i, cases, rng.randbytes(size))
            tc = decode(data)
            assert tc.case.index == i
            got = outcome(static, tc)
            assert got == outcome(dynamic, model_case(tc.case, tc)), (i, data.hex())
            assert got in ("ok", "discarded") or known(got), (i, got, data.hex())
            seen.add(got)
    assert "ok" in seen and len(seen) > 1, seen  # the sample does hit known findings


def test_decode_is_total_and_deterministic(cases):
    for data in (b"", b"\xff" * 3, bytes(range(256))):
        a, b = decode(data), decode(data)
        assert a.case.index == b.case.index and repr(a.calls) == repr(b.calls)
    assert decode(b"").case.index == 0


# -- fault injection ------------------------------------------------------------------------
def first_case(table, pred):
    for i in range(len(table)):
        if pred(table[i].sig):
            return table[i]
    pytest.skip("no such case among the generated ones")


def run_first_call(table, case, oracle):
    data = input_for(case.index, table, b"\x00" * 64)
    return oracle.run(decode(data, table))


def test_converter_dropping_a_field_is_reported(tmp_path):
    table = plant_static_converters(tmp_path, "drop-field")
    case = first_case(table, lambda s: any(isinstance(t, Record) for _, t in s.params))
    with pytest.raises(Finding) as e:
        run_first_call(table, case, typed_path(StaticOracle()))
    f = e.value
    assert f.target == "component_static" and f.check == "call-error"
    assert "AttributeError" in f.signature
    report = f.report()
    assert "-- signature (WIT) --" in report and "-- values --" in report and "(component" in report


def test_wrong_enum_mapping_is_reported(tmp_path):
    table = plant_static_converters(tmp_path, "enum-shift")
    case = first_case(table, lambda s: any(isinstance(t, Enum) and len(t.names_) > 1
                                           for _, t in s.params))
    with pytest.raises(Finding) as e:
        run_first_call(table, case, typed_path(StaticOracle()))
    assert e.value.check == "host-arg-mismatch"
    assert e.value.detail.startswith("enum:value")
    assert "host saw a different argument" in e.value.report()


def test_host_returning_a_modified_value_is_reported(cases):
    case = first_case(cases, lambda s: not s.echo and isinstance(s.result, Prim)
                      and s.result.name in ("u8", "u16", "u32", "s32", "s64", "u64"))

    def modified(entry):
        convert = entry.result_in
        entry.result_in = lambda v: convert(v ^ 1)
    with pytest.raises(Finding) as e:
        run_first_call(cases, case, StaticOracle(transform=modified))
    assert e.value.check == "result-mismatch"
    assert "f returned a different value than the host" in e.value.report()


def test_clean_generation_has_no_fault(cases):
    case = first_case(cases, lambda s: any(isinstance(t, Record) for _, t in s.params))
    run_first_call(cases, case, typed_path(StaticOracle()))  # the unfaulted converters pass


# -- target, repro, show --------------------------------------------------------------------
def test_target_repro_and_show(cases, capsys):
    target = targets.get("component_static")
    corpus = sorted((ROOT / "corpus" / "component_static").iterdir())
    assert len(corpus) > 10
    for path in corpus[:20]:
        assert target.execute(path.read_bytes()).status == "ok", path.name
    assert cli_main(["repro", "component_static", str(corpus[1])]) == 0
    assert cli_main(["show", "component_static", str(corpus[1])]) == 0
    out = capsys.readouterr().out
    assert "-- static case" in out and "-- component (WAT) --" in out and "(component" in out
