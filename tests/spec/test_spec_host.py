"""itfuzz.spec: host functions called from Wasm (results, traps, errors, re-entry)."""
import pytest

from itfuzz import spec
from itfuzz.spec import Value
from itfuzz.spec.tools import wat2wasm

pytestmark = pytest.mark.spec

CALLER = wat2wasm("""
(module
  (import "env" "f" (func $f (param i32 f32) (result i32 f32)))
  (func (export "call") (param i32 f32) (result i32 f32)
    local.get 0 local.get 1 call $f)
  (func (export "twice") (param i32 f32) (result i32)
    local.get 0 local.get 1 call $f drop
    local.get 1 call $f drop))
""")


def test_host_function_results_and_nan_bits():
    seen = []

    def f(args):
        seen.append(args)
        return [Value.i32(args[0].signed * 3), args[1]]

    inst = spec.instantiate(CALLER, {("env", "f"): spec.HostFunc(["i32", "f32"], ["i32", "f32"], f)})
    snan = Value("f32", 0x7F800001)
    assert inst.interpret("call", [Value.i32(-4), snan]) == [Value.i32(-12), snan]
    assert seen == [[Value.i32(-4), snan]]
    assert inst.interpret("twice", [Value.i32(2), Value.f32(0.5)]) == [Value.i32(18)]


def test_host_results_may_be_plain_numbers():
    func = spec.HostFunc(["i32", "f32"], ["i32", "f32"], lambda args: (7, 2.5))
    inst = spec.instantiate(CALLER, {("env", "f"): func})
    assert inst.interpret("call", [0, 0.0]) == [Value.i32(7), Value.f32(2.5)]


def test_host_trap_becomes_host_trap():
    def f(args):
        raise spec.Trap("host", "refused")

    inst = spec.instantiate(CALLER, {("env", "f"): spec.HostFunc(["i32", "f32"], ["i32", "f32"], f)})
    with pytest.raises(spec.Trap) as info:
        inst.interpret("call", [1, 1.0])
    assert info.value.kind == "host"
    assert inst.exports()  # still usable


def test_host_python_error_propagates():
    def f(args):
        raise ZeroDivisionError("bug in host")

    inst = spec.instantiate(CALLER, {("env", "f"): spec.HostFunc(["i32", "f32"], ["i32", "f32"], f)})
    with pytest.raises(ZeroDivisionError):
        inst.interpret("call", [1, 1.0])


def test_host_wrong_result_count_is_reported():
    func = spec.HostFunc(["i32", "f32"], ["i32", "f32"], lambda args: [1])
    inst = spec.instantiate(CALLER, {("env", "f"): func})
    with pytest.raises(TypeError):
        inst.interpret("call", [1, 1.0])


def test_host_reenters_interpreter():
    inner = spec.instantiate(wat2wasm(
        '(module (func (export "sq") (param i32) (result i32) local.get 0 local.get 0 i32.mul))'))

    def f(args):
        (sq,) = inner.interpret("sq", [args[0]])
        return [sq, args[1]]

    inst = spec.instantiate(CALLER, {("env", "f"): spec.HostFunc(["i32", "f32"], ["i32", "f32"], f)})
    assert inst.interpret("call", [9, 1.0]) == [Value.i32(81), Value.f32(1.0)]


def test_nested_trap_in_reentry():
    inner = spec.instantiate(wat2wasm('(module (func (export "boom") unreachable))'))

    def f(args):
        with pytest.raises(spec.Trap) as info:
            inner.interpret("boom")
        assert info.value.kind == "unreachable"
        return [1, 1.0]

    inst = spec.instantiate(CALLER, {("env", "f"): spec.HostFunc(["i32", "f32"], ["i32", "f32"], f)})
    assert inst.interpret("call", [0, 0.0]) == [Value.i32(1), Value.f32(1.0)]


def test_host_function_in_start():
    calls = []
    wasm = wat2wasm('(module (import "env" "hello" (func $h)) (start $h))')
    spec.instantiate(wasm, {("env", "hello"): spec.HostFunc([], [], lambda args: calls.append(1))})
    assert calls == [1]


def test_host_function_called_directly():
    func = spec.HostFunc(["i64"], ["i64"], lambda args: [args[0].signed + 1])
    assert func.call([Value.i64(-2)]) == [Value.i64(-1)]
