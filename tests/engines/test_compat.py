"""engines/compat: the release differences, including the paths older releases take."""
from __future__ import annotations

import wasmtime

from itfuzz.engines import compat

MODULE = '(module (func (export "f") (result i32) i32.const 1))'


def machine(engine) -> int:
    """The ELF machine of a compiled module (x86-64 0x3e natively; Pulley otherwise)."""
    art = wasmtime.Module(engine, MODULE).serialize()
    return int.from_bytes(art[18:20], "little")


class BareConfig:
    """A Config as wasmtime-py before 45 has it: no `target` / NaN-canonicalization property."""

    def __init__(self) -> None:
        self.cfg = wasmtime.Config()

    def ptr(self):
        return self.cfg.ptr()


def test_target_is_really_set_without_a_property():
    native = machine(wasmtime.Engine())
    with_property = wasmtime.Config()
    compat.set_target(with_property, "pulley64")
    bare = BareConfig()
    compat.set_target(bare, "pulley64")
    assert not hasattr(bare, "target")  # the old failure: a plain attribute, silently ignored
    pulley = machine(wasmtime.Engine(with_property))
    assert pulley != native
    assert machine(wasmtime.Engine(bare.cfg)) == pulley


def test_nan_canonicalization_without_a_property():
    bare = BareConfig()
    compat.set_nan_canonicalization(bare, True)
    assert not hasattr(bare, "cranelift_nan_canonicalization")
    wasmtime.Engine(bare.cfg)  # a valid configuration


def test_release_limits_only_below_their_release(monkeypatch):
    err = wasmtime.WasmtimeError("function parameter name `q-0-z` is not in kebab case")
    monkeypatch.setattr(compat, "release", lambda: (39, 0, 0))
    assert compat.release_limitation(err) == "is-not-in-kebab-case"
    monkeypatch.setattr(compat, "release", lambda: (44, 0, 0))
    assert compat.release_limitation(err) is None  # a finding there
    assert compat.release_limitation(wasmtime.WasmtimeError("other")) is None


def test_newer_rules_only_from_their_release(monkeypatch):
    """51 refuses handles in map values, which the spec revision we model allows: a limit of
    51 and later, a finding before (an older release that refused it would be wrong)."""
    err = wasmtime.WasmtimeError("map value type cannot contain a handle (at offset 0x2f)")
    monkeypatch.setattr(compat, "release", lambda: (51, 0, 0))
    assert compat.release_limitation(err) == "map-value-type-cannot-contain-a-handle"
    monkeypatch.setattr(compat, "release", lambda: (50, 0, 1))
    assert compat.release_limitation(err) is None


ADDER = """(component
  (core module $m
    (global $g (mut i32) (i32.const 0))
    (func (export "add") (param i32) (result i32)
      global.get $g local.get 0 i32.add global.set $g global.get $g))
  (core instance $i (instantiate $m))
  (func (export "add") (param "x" u32) (result u32) (canon lift (core func $i "add"))))"""


class CountingInstance:
    """An instance that counts its `get_func` lookups."""

    def __init__(self, store, component) -> None:
        self.inst = wasmtime.component.Linker(store.engine).instantiate(store, component)
        self.lookups = 0

    def get_func(self, store, name):
        self.lookups += 1
        return self.inst.get_func(store, name)


def test_typed_func_calls_like_the_plain_one():
    engine = wasmtime.Engine()
    component = compat.compile_component(engine, ADDER)
    store = wasmtime.Store(engine)
    inst = CountingInstance(store, component)
    plain = inst.get_func(store, "add")
    typed = compat.typed_func(store, plain)
    assert [compat.call_func(store, f, 5) for f in (plain, typed, plain, typed)] == [5, 10, 15, 20]
    want = plain.type(store)
    assert [type(t) for _, t in typed.type(store).params] == [type(t) for _, t in want.params]
    assert type(typed.type(store).result) is type(want.result)


def test_instance_funcs_look_up_once_per_instance_object():
    engine = wasmtime.Engine()
    component = compat.compile_component(engine, ADDER)
    funcs = compat.InstanceFuncs()
    store1 = wasmtime.Store(engine)
    inst1 = CountingInstance(store1, component)
    add1 = funcs.get(store1, inst1, "add")
    assert funcs.get(store1, inst1, "add") is add1 and inst1.lookups == 1
    assert compat.call_func(store1, add1, 3) == 3
    assert funcs.get(store1, inst1, "missing") is None and inst1.lookups == 2
    # a new instance (its own store) is a new key: its own function, its own state
    store2 = wasmtime.Store(engine)
    inst2 = CountingInstance(store2, component)
    add2 = funcs.get(store2, inst2, "add")
    assert add2 is not add1 and inst2.lookups == 1
    assert compat.call_func(store2, add2, 4) == 4
    # the old instance again: looked up again (only the newest instance is kept)
    assert compat.call_func(store1, funcs.get(store1, inst1, "add"), 1) == 4
    assert inst1.lookups == 3
