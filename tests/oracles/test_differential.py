"""differential_spec: decoding, agreement on generated modules, and fault injection (a wrong
instruction in the interpreter, a memory byte, a global or a table entry changed behind its back,
trap kinds compared) each surfacing as a Finding."""
from __future__ import annotations

import random

import pytest
from faults import plant_interpreter

from itfuzz import spec, targets
from itfuzz.engines.core_engine import make_core_engine
from itfuzz.findings import Discard, Finding
from itfuzz.generators import core_cases
from itfuzz.generators.core_cases import CoreCall, CoreCase, decode_core_case
from itfuzz.generators.core_modules import bound_memories, component_modules, module_info, smith
from itfuzz.oracles import differential as diff
from itfuzz.oracles.differential import DifferentialOracle
from itfuzz.spec import Value
from itfuzz.spec.tools import wat2wasm
from itfuzz.spec.values import comparable

pytestmark = pytest.mark.spec

KINDS_WAT = """
(module
  (type $ii (func (param i32) (result i32)))
  (table $t 3 3 funcref)
  (memory (export "mem") 1 2)
  (global $g (export "g") (mut i32) (i32.const 5))
  (elem (table $t) (i32.const 0) func $rem $nop)
  (func $rem (export "rem") (type $ii) (i32.rem_s (local.get 0) (i32.const 7)))
  (func $nop)
  (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "set") (param i32) (global.set $g (local.get 0)))
  (func (export "fmin") (param f32 f32) (result f32) (f32.min (local.get 0) (local.get 1)))
  (func (export "unreachable") unreachable)
  (func (export "div_by_zero") (result i32) (i32.div_u (i32.const 1) (i32.const 0)))
  (func (export "int_overflow") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
  (func (export "bad_conversion") (result i32) (i32.trunc_f32_s (f32.const nan)))
  (func (export "oob_memory") (result i32) (i32.load (i32.const 65535)))
  (func (export "call") (param i32) (result i32)
    (call_indirect (type $ii) (i32.const 7) (local.get 0)))
  (func (export "grow") (result i32) (memory.grow (i32.const 1))))
"""
TRAPS = ("unreachable", "div_by_zero", "int_overflow", "bad_conversion", "oob_memory")


def case_of(wat: str, *calls: tuple, engine: str = "cranelift") -> CoreCase:
    wasm = wat2wasm(wat)
    cs = tuple(CoreCall(name, tuple(args)) for name, *args in calls)
    return CoreCase("smith", b"", engine, wasm, module_info(wasm), cs)


@pytest.fixture(scope="module")
def oracle():
    return DifferentialOracle()


def i32(n):
    return Value.i32(n)


def test_decode_is_deterministic_and_total():
    rng = random.Random(3)
    for data in [b"", b"\x07", bytes(3)] + [rng.randbytes(rng.choice((5, 60, 400)))
                                             for _ in range(30)]:
        a, b = decode_core_case(data), decode_core_case(data)
        assert a == b
        assert a.engine in core_cases.ENGINES
        if a.wasm is not None:
            assert {c.name for c in a.calls} >= {f.name for f in a.info.funcs()}


def test_input_layout_header_bytes():
    seed = bytes(range(1, 17))
    base = decode_core_case(bytes([12, 2, 0]) + seed + b"\xff" * 40)
    assert base.source == "smith" and base.engine == "cranelift" and base.seed == seed
    assert decode_core_case(bytes([12, 2, 2]) + seed).engine == "pulley"
    assert decode_core_case(bytes([12, 2, 1]) + seed).engine == "winch"
    other_args = decode_core_case(bytes([12, 2, 0]) + seed + b"\x00" * 40)
    assert other_args.wasm == base.wasm  # argument bytes do not change the module
    assert other_args.calls != base.calls
    by_id = decode_core_case(bytes([8, 5, 0]) + b"\xff" * 40)  # id 5 + 256: no seed bytes in the input
    assert by_id.source == "smith-id" and by_id.note == "module id 261"
    assert decode_core_case(bytes([8, 5, 0]) + b"\x00" * 40).wasm == by_id.wasm
    assert decode_core_case(bytes([8, 6, 0])).wasm != by_id.wasm
    libc, forwarder = decode_core_case(bytes([7, 0, 0])), decode_core_case(bytes([15, 0, 0]))
    assert libc.source == forwarder.source == "component"
    assert not libc.info.imports and forwarder.info.imports  # the forwarder imports


def test_show_prints_wat_and_calls(tmp_path):
    target = targets.get("differential_spec")
    text = target.show(bytes([12, 4, 2]) + bytes(range(40)))
    assert "-- engine: wasmtime/pulley" in text
    assert "-- calls --" in text and "#0: " in text
    assert "(module" in text


def test_smith_modules_are_in_scope():
    """Bounded memories and tables with maxima, no imports, everything exported."""
    rng = random.Random(11)
    for _ in range(25):
        wasm = smith(rng.randbytes(300))
        info = module_info(wasm)
        assert not info.imports
        for e in info.exports:
            if e.kind == "memory":
                assert e.type[1] is not None and e.type[1] <= 10
            if e.kind == "table":
                assert e.type[2] is not None and e.type[2] <= 100
        with _quiet_instance(wasm) as inst:
            if inst is not None:
                for e in info.exports:  # our reader agrees with the interpreter
                    kind, *t = inst.exports()[e.name].type()
                    assert (kind, tuple(t)) == (e.kind, e.type)


class _quiet_instance:
    def __init__(self, wasm):
        try:
            self.inst = spec.instantiate(wasm)
        except spec.Trap:
            self.inst = None

    def __enter__(self):
        return self.inst

    def __exit__(self, *exc):
        if self.inst is not None:
            self.inst.close()


def test_bound_memories_gives_a_maximum():
    wasm = wat2wasm('(module (memory (export "m") 1) (func (export "f")))')
    bounded = bound_memories(wasm, 10)
    assert module_info(bounded).exports[0].type == (1, 10)
    assert bound_memories(wat2wasm("(module (memory 2 3))"), 10) == wat2wasm("(module (memory 2 3))")
    spec.instantiate(bounded).close()


def test_component_core_modules():
    import wasmtime

    from itfuzz.generators.components import component_text
    from itfuzz.generators.signatures import decode_roundtrip
    mods = component_modules(bytes(wasmtime.wat2wasm(component_text(decode_roundtrip(b"").sig))))
    assert len(mods) == 2
    assert [e.name for e in module_info(mods[0]).exports] == ["memory", "count", "realloc", "reset"]


def test_agreement_on_generated_inputs():
    """A few hundred generated modules (all three engines, both sources) agree."""
    target = targets.get("differential_spec")
    rng = random.Random(20261121)
    for i in range(300):
        data = bytes([rng.getrandbits(8), rng.randrange(8, 64), i % 3])
        data += rng.randbytes(rng.choice((64, 256, 512)))
        target.execute(data)  # raises Finding on a disagreement
    stats = target.oracle.stats
    assert target.counts["ok"] >= 270, (target.counts, stats)
    assert min(stats[f"engine:{e}"] for e in core_cases.ENGINES) >= 80
    assert stats["source:component"] >= 15 and stats["calls"] >= 600
    assert stats["call:ok"] >= 300 and sum(n for k, n in stats.items()
                                            if k.startswith("call:") and k != "call:ok") >= 20


@pytest.mark.parametrize("engine", core_cases.ENGINES)
def test_trap_kinds_agree(oracle, engine):
    oracle.run(case_of(KINDS_WAT, *[(t,) for t in TRAPS], ("call", i32(1)), ("call", i32(0)),
                       ("call", i32(3)), ("call", i32(9)), engine=engine))


def test_trap_kinds_are_compared(oracle, monkeypatch):
    monkeypatch.setitem(diff.WASMTIME_KINDS, "INTEGER_DIVISION_BY_ZERO", "int_overflow")
    with pytest.raises(Finding) as e:
        oracle.run(case_of(KINDS_WAT, ("div_by_zero",)))
    assert e.value.signature == "diff-outcome|div_by_zero-vs-int_overflow"


def test_fault_in_interpreter_instruction_is_detected(oracle):
    good = case_of(KINDS_WAT, ("rem", i32(-23)), ("rem", i32(5)))
    oracle.run(good)
    with plant_interpreter("i32.rem_s"), pytest.raises(Finding) as e:
        oracle.run(good)
    assert e.value.check == "diff-return" and '"rem"(i32:-23)' in e.value.message


def test_fault_found_through_generated_modules():
    """The same fault is found by the target's own inputs (no hand-written module)."""
    target = targets.get("differential_spec")
    rng = random.Random(5)
    with plant_interpreter("i32.rem_s"):
        for _ in range(300):
            h = rng.randrange(4) + 8 * rng.randrange(32)  # smith-id modules
            data = bytes([h, rng.randrange(256), rng.randrange(3)]) + rng.randbytes(400)
            try:
                target.execute(data)
            except Finding as f:
                assert f.check.startswith("diff-")
                return
    pytest.fail("i32.rem_s fault not detected in 300 generated inputs")


def tamper_with(kind: str):
    def tamper(side, inst, store):
        ext = inst.exports(store)["mem" if kind == "memory" else "g"]
        if kind == "memory":
            ext.write(store, b"\x2a", 100)
        else:
            ext.set_value(store, 99)
    return tamper


@pytest.mark.parametrize("kind", ["memory", "global"])
def test_state_changed_after_a_call_is_detected(kind):
    case = case_of(KINDS_WAT, ("fmin", Value.f32(0.0), Value.f32(-0.0)))
    DifferentialOracle().run(case)
    with pytest.raises(Finding) as e:
        DifferentialOracle(tamper=tamper_with(kind)).run(case)
    assert e.value.check == f"diff-export-{kind}"
    assert 'after "fmin"(' in e.value.message


def test_memory_written_by_wasm_is_compared():
    """A store the interpreter executes refreshes its snapshot (opcode counts), so equal writes
    agree and a tampered byte at the same place is still caught."""
    case = case_of(KINDS_WAT, ("store", i32(100), i32(7)), ("set", i32(3)), ("grow",))
    DifferentialOracle().run(case)

    def tamper(side, inst, store):
        inst.exports(store)["mem"].write(store, b"\x08", 100)
    with pytest.raises(Finding) as e:
        DifferentialOracle(tamper=tamper).run(case)
    assert "first different byte at 0x64" in e.value.message


def test_table_changed_is_detected():
    wat = """(module (table (export "t") 2 2 funcref) (elem declare func $f) (func $f)
               (func (export "f") (param i32) (result i32) (local.get 0)))"""
    case = case_of(wat, ("f", i32(1)))
    DifferentialOracle().run(case)

    def tamper(side, inst, store):
        ex = inst.exports(store)
        ex["t"].set(store, 0, ex["f"])
    with pytest.raises(Finding) as e:
        DifferentialOracle(tamper=tamper).run(case)
    assert e.value.check == "diff-export-table"


def test_floats_compare_signed_zero_and_nan_class(oracle):
    assert comparable(Value("f32", 0)) != comparable(Value("f32", 0x80000000))
    assert comparable(Value("f32", 0x7FC00000)) == comparable(Value("f32", 0xFFC00001))
    assert comparable(Value("f64", 1)) != comparable(Value("f64", 2))
    oracle.run(case_of(KINDS_WAT, ("fmin", Value.f32(0.0), Value.f32(-0.0)),
                       ("fmin", Value("f32", 0x7FC00000), Value.f32(1.0))))


def test_exhaustion_is_discarded_and_counted():
    wat = '(module (func $r (export "r") (call $r)))'
    o = DifferentialOracle()
    with pytest.raises(Discard):
        o.run(case_of(wat, ("r",)))
    assert o.stats["discard:spec-exhaustion:call"] == 1
    loop = '(module (func (export "l") (loop (br 0))))'
    with pytest.raises(Discard):
        DifferentialOracle(spec_fuel=10_000).run(case_of(loop, ("l",)))


def test_instantiation_outcomes_compared(oracle):
    oob = '(module (memory 1 1) (data (i32.const 65535) "ab") (func (export "f")))'
    oracle.run(case_of(oob, ("f",)))  # both trap: agreement, nothing more to run
    assert oracle.stats["instantiate-trap"] >= 1


def test_host_calls_logged_on_both_sides(oracle):
    case = decode_core_case(bytes([15, 0, 0]))
    assert {i.kind for i in case.info.imports} == {"func", "memory"}
    oracle.run(case)
    log = []

    def tamper(side, inst, store):
        log.append(side)
    DifferentialOracle(tamper=tamper).run(case)
    assert log == ["wasmtime"] * len(case.calls)


def test_seed_corpus_runs_clean_and_covers_engines_and_sources(repo_root):
    target = targets.get("differential_spec")
    files = sorted((repo_root / "corpus" / "differential_spec").iterdir())
    assert any(p.stat().st_size == 0 for p in files)
    seen = set()
    for p in files:
        data = p.read_bytes()
        assert target.execute(data).status == "ok", p.name
        seen |= target.corpus_features(target.decode(data))
    for feature in [f"{s}:{e}" for s in core_cases.SOURCES for e in core_cases.ENGINES] + [
            "export:memory", "export:table", "export:global", "import:func", "import:memory",
            "param:f32", "param:f64", "param:i64", "result:f64"]:
        assert feature in seen, feature


NAN_CONVERSIONS_WAT = """
(module
  (memory (export "m") 1 1)
  (global (export "g32") (mut i32) (i32.const 0))
  (global (export "g64") (mut i64) (i64.const 0))
  (func (export "demote") (param f64) (result i32)
    (global.set 0 (i32.reinterpret_f32 (f32.demote_f64 (f64.const -nan:0xf000000000000))))
    (i32.reinterpret_f32 (f32.demote_f64 (local.get 0))))
  (func (export "promote") (param f32) (result i64)
    (global.set 1 (i64.reinterpret_f64 (f64.promote_f32 (f32.const -nan:0x7ffffc))))
    (f64.store (i32.const 8) (f64.promote_f32 (local.get 0)))
    (i64.reinterpret_f64 (f64.promote_f32 (local.get 0)))))
"""


@pytest.mark.parametrize("engine", core_cases.ENGINES)
def test_nan_conversions_agree(oracle, engine):
    """NaN bits through demote/promote (not canonicalized by wasm-smith) match the interpreter
    on every engine; found as diff-export-global with Wasmtime's NaN canonicalization on."""
    oracle.run(case_of(NAN_CONVERSIONS_WAT, ("demote", Value("f64", 0x7FF8000000000000)),
                       ("demote", Value.f64(1.5)), ("promote", Value("f32", 0x7FC00000)),
                       ("promote", Value.f32(-2.0)), ("promote", Value("f32", 0x7F800001)),
                       ("demote", Value("f64", 0xFFF0000000000001)), engine=engine))  # sNaNs


def test_nan_canonicalizing_wasmtime_differs_on_conversions():
    """Why canonicalization is off: on, Wasmtime's demote of a NaN constant is canonical."""
    with pytest.raises(Finding) as e:
        oracle = DifferentialOracle(nan_canonicalization=True)
        oracle.run(case_of(NAN_CONVERSIONS_WAT, ("demote", Value.f64(1.5))))
    assert e.value.check == "diff-export-global"


def test_each_engine_really_compiles_differently():
    """Winch (strategy 2 through the C API) and Pulley (pulley64 target) are really used: the
    three engines' compiled artifacts differ pairwise, and each runs the module."""
    import wasmtime
    wasm = wat2wasm(KINDS_WAT)
    arts = {}
    for kind in core_cases.ENGINES:
        engine = make_core_engine(kind)
        module = wasmtime.Module(engine, wasm)
        arts[kind] = bytes(module.serialize())
        store = wasmtime.Store(engine)
        assert wasmtime.Instance(store, module, []).exports(store)["rem"](store, -23) == -2
    assert len(set(arts.values())) == 3
    with pytest.raises(ValueError):
        make_core_engine("v8")


def test_interpreter_opcodes_reported_as_features():
    seen = []
    oracle = DifferentialOracle(on_opcodes=lambda counts: seen.append(dict(counts)))
    oracle.run(case_of(KINDS_WAT, ("rem", i32(5)), ("store", i32(1), i32(2))))
    assert len(seen) == 1
    assert seen[0][0x6F] == 1 and seen[0][0x3A] == 1  # i32.rem_s, i32.store8


def test_the_target_hands_its_oracle_the_opcode_reporter():
    from itfuzz.feedback import semantic
    assert targets.get("differential_spec").oracle.on_opcodes is semantic.report_opcodes


def test_throughput_counters_count_modules_and_smith_runs():
    """`distinct` counts modules, not inputs; `smith_runs` is the process's wasm-smith runs (other
    calls on a module made before need none)."""
    target = targets.get("differential_spec")
    head = bytes([8, 77, 0])  # smith-id 333
    target.execute(head + b"\x00" * 8)
    runs = smith.runs
    target.execute(head + b"\xff" * 8)
    stats = target.oracle.stats
    assert stats["inputs"] == 2 and stats["distinct"] == 1
    assert stats["smith_runs"] == smith.runs == runs
    target.execute(bytes([8, 78, 0]))
    assert stats["distinct"] == 2
