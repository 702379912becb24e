"""itfuzz.spec: errors, traps, NaN bits, exports, imports of globals/memories/tables."""
import pytest

from itfuzz import spec
from itfuzz.spec import Value
from itfuzz.spec.tools import wat2wasm

pytestmark = pytest.mark.spec

TRAPS = wat2wasm("""
(module
  (type $ii (func (param i32) (result i32)))
  (type $v (func))
  (table $t 3 funcref)
  (memory 1)
  (elem (table $t) (i32.const 0) func $id $nop)
  (func $id (type $ii) local.get 0)
  (func $nop (type $v))
  (func (export "unreachable") unreachable)
  (func (export "div_by_zero") (result i32) i32.const 1 i32.const 0 i32.div_s)
  (func (export "int_overflow") (result i32) i32.const 0x80000000 i32.const -1 i32.div_s)
  (func (export "bad_conversion") (result i32) f32.const nan i32.trunc_f32_s)
  (func (export "oob_memory") (result i32) i32.const 65536 i32.load)
  (func (export "oob_table") (result funcref) i32.const 3 table.get $t)
  (func (export "undefined_element") (result i32) i32.const 7 i32.const 5 call_indirect (type $ii))
  (func (export "uninitialized_element") (result i32) i32.const 7 i32.const 2 call_indirect (type $ii))
  (func (export "indirect_type_mismatch") (result i32) i32.const 7 i32.const 1 call_indirect (type $ii))
  (func (export "ok") (result i32) i32.const 7 i32.const 0 call_indirect (type $ii)))
""")


def test_decode_error():
    with pytest.raises(spec.DecodeError):
        spec.instantiate(b"\x00asm\x02\x00\x00\x00")
    with pytest.raises(spec.DecodeError):
        spec.instantiate(b"not wasm at all")


def test_validation_error():
    with pytest.raises(spec.ValidationError):
        spec.instantiate(wat2wasm("(module (func (result i32) i64.const 0))"))


def test_link_errors():
    wasm = wat2wasm('(module (import "env" "f" (func (param i32))))')
    with pytest.raises(spec.LinkError):
        spec.instantiate(wasm)
    wrong = spec.HostFunc(["i64"], [], lambda args: None)
    with pytest.raises(spec.LinkError):
        spec.instantiate(wasm, {("env", "f"): wrong})
    spec.instantiate(wasm, {"env": {"f": spec.HostFunc(["i32"], [], lambda args: None)}})


def test_errors_are_spec_errors():
    for cls in (spec.DecodeError, spec.ValidationError, spec.LinkError, spec.Trap, spec.Exhaustion):
        assert issubclass(cls, spec.SpecError)


@pytest.mark.parametrize("kind", ["unreachable", "div_by_zero", "int_overflow", "bad_conversion",
                                  "oob_memory", "oob_table", "undefined_element",
                                  "uninitialized_element", "indirect_type_mismatch"])
def test_trap_kinds(kind):
    inst = spec.instantiate(TRAPS)
    with pytest.raises(spec.Trap) as info:
        inst.interpret(kind)
    assert info.value.kind == kind
    assert inst.interpret("ok") == [Value.i32(7)]  # the instance survives the trap


def test_start_trap_is_a_trap():
    wasm = wat2wasm("(module (func $s unreachable) (start $s))")
    with pytest.raises(spec.Trap) as info:
        spec.instantiate(wasm)
    assert info.value.kind == "unreachable"


def test_exhaustion_on_infinite_recursion():
    inst = spec.instantiate(wat2wasm(
        '(module (func $f (export "f") (param i32) (result i32) local.get 0 call $f))'))
    for _ in range(3):
        with pytest.raises(spec.Exhaustion):
            inst.interpret("f", [1])


def test_fuel_limit():
    inst = spec.instantiate(wat2wasm('(module (func (export "spin") (loop br 0)))'))
    spec.set_limits(fuel=100_000)
    try:
        with pytest.raises(spec.Exhaustion):
            inst.interpret("spin")
    finally:
        spec.set_limits()


NAN_MODULE = wat2wasm("""
(module
  (global (export "g32") f32 (f32.const nan:0x200001))
  (global (export "g64") f64 (f64.const -nan:0x4000000000001))
  (func (export "id32") (param f32) (result f32) local.get 0)
  (func (export "id64") (param f64) (result f64) local.get 0)
  (func (export "bits32") (param f32) (result i32) local.get 0 i32.reinterpret_f32)
  (func (export "from32") (param i32) (result f32) local.get 0 f32.reinterpret_i32))
""")


@pytest.mark.parametrize("bits", [0x7FA00001, 0xFF800001, 0x7FC00000, 0x7F800000, 0x00000001])
def test_f32_bits_survive(bits):
    inst = spec.instantiate(NAN_MODULE)
    assert inst.interpret("id32", [Value("f32", bits)]) == [Value("f32", bits)]
    assert inst.interpret("bits32", [Value("f32", bits)]) == [Value.i32(bits)]
    assert inst.interpret("from32", [Value.i32(bits)]) == [Value("f32", bits)]


def test_nan_globals_and_f64():
    inst = spec.instantiate(NAN_MODULE)
    assert inst.export("g32") == Value("f32", 0x7FA00001)
    assert inst.export("g64") == Value("f64", 0xFFF4000000000001)
    snan = Value("f64", 0x7FF0000000000001)
    assert inst.interpret("id64", [snan]) == [snan]


def test_plain_python_arguments_are_converted():
    inst = spec.instantiate(NAN_MODULE)
    assert inst.interpret("bits32", [1.5]) == [Value.i32(0x3FC00000)]
    assert inst.interpret("from32", [-1]) == [Value("f32", 0xFFFFFFFF)]


def test_exports_read_back():
    inst = spec.instantiate(wat2wasm("""
    (module
      (memory (export "mem") 1 2)
      (data (i32.const 8) "\\01\\02\\03")
      (global (export "g") (mut i64) (i64.const -5))
      (table (export "t") 2 funcref)
      (elem (i32.const 1) func $f)
      (func $f (export "f") (result i32) i32.const 42)
      (func (export "set") (param i64) local.get 0 global.set 0))
    """))
    assert set(inst.exports()) == {"mem", "g", "t", "f", "set"}
    mem = inst.export("mem")
    assert len(mem) == 65536 and mem[8:11] == b"\x01\x02\x03"
    assert inst.export("g") == Value.i64(-5)
    inst.interpret("set", [Value.i64(1 << 40)])
    assert inst.export("g").signed == 1 << 40
    table = inst.export("t")
    assert [v.type for v in table] == ["funcref", "funcref"]
    assert table[0].bits is None and table[1].bits is not None
    f = inst.export("f")
    assert isinstance(f, spec.Extern) and f.type() == ("func", (), ("i32",))
    assert f.call() == [Value.i32(42)]
    assert inst.exports()["mem"].type() == ("memory", 1, 2)
    with pytest.raises(KeyError):
        inst.export("missing")


def test_host_global_memory_table_imports():
    g = spec.HostGlobal("i32", True, 5)
    mem = spec.HostMemory(1, 3)
    table = spec.HostTable("funcref", 4)
    wasm = wat2wasm("""
    (module
      (import "host" "g" (global $g (mut i32)))
      (import "host" "mem" (memory 1))
      (import "host" "t" (table 4 funcref))
      (elem declare func $f)
      (func $f (result i32) i32.const 9)
      (func (export "run") (result i32)
        global.get $g i32.const 10 i32.add global.set $g
        i32.const 100 i32.const 0xAABBCCDD i32.store
        i32.const 2 ref.func $f table.set 0
        i32.const 1 memory.grow))
    """)
    inst = spec.instantiate(wasm, {"host": {"g": g, "mem": mem, "t": table}})
    assert inst.interpret("run") == [Value.i32(1)]
    assert g.read() == Value.i32(15)
    data = mem.read()
    assert len(data) == 2 * 65536 and data[100:104] == bytes.fromhex("DDCCBBAA")
    assert [v.bits is None for v in table.read()] == [True, True, False, True]
    assert table.type() == ("table", "funcref", 4, None)
    assert g.type() == ("global", "i32", True)


def test_instance_exports_link_into_another_instance():
    a = spec.instantiate(wat2wasm("""
    (module (func (export "double") (param i32) (result i32) local.get 0 i32.const 2 i32.mul)
            (memory (export "m") 1) (global (export "g") (mut i32) (i32.const 0)))"""))
    b = spec.instantiate(wat2wasm("""
    (module (import "a" "double" (func $d (param i32) (result i32)))
            (import "a" "m" (memory 1)) (import "a" "g" (global $g (mut i32)))
            (func (export "run") (param i32) (result i32)
              i32.const 0 local.get 0 call $d i32.store
              local.get 0 global.set $g
              local.get 0 call $d call $d))"""), {"a": a.exports()})
    assert b.interpret("run", [5]) == [Value.i32(20)]
    assert a.export("m")[:4] == (10).to_bytes(4, "little")
    assert a.export("g") == Value.i32(5)


def test_spectest_imports():
    wasm = wat2wasm("""
    (module
      (import "spectest" "print_i32" (func (param i32)))
      (import "spectest" "print_f64_f64" (func (param f64 f64)))
      (import "spectest" "global_i32" (global $gi i32))
      (import "spectest" "global_f32" (global $gf f32))
      (import "spectest" "table" (table 10 20 funcref))
      (import "spectest" "memory" (memory 1 2))
      (func (export "gi") (result i32) i32.const 1 call 0 global.get $gi)
      (func (export "gf") (result f32) global.get $gf))
    """)
    inst = spec.instantiate(wasm, spec.spectest())
    assert inst.interpret("gi") == [Value.i32(666)]
    assert inst.interpret("gf") == [Value("f32", 0x4426A666)]


def test_closed_instance():
    inst = spec.instantiate(wat2wasm('(module (func (export "f")))'))
    f = inst.export("f")
    inst.close()
    with pytest.raises(ValueError):
        inst.exports()
    with pytest.raises(ValueError):
        f.call()


def test_value_helpers():
    assert Value.i32(-1).bits == 0xFFFFFFFF and Value.i32(-1).signed == -1
    assert Value.f32(1.0).bits == 0x3F800000
    assert Value.f32(1e300).bits == 0x7F800000
    assert Value.f64(-0.0).bits == 1 << 63
    assert Value("f32", 0x7FA00001).is_nan()
    assert Value.of("f64", 2) == Value.f64(2.0)
    with pytest.raises(ValueError):
        Value("i32", 1 << 32)
    with pytest.raises(TypeError):
        Value.of("i32", 1.5)
