#!/usr/bin/env python3
"""K28: a host function whose result is an `own` handle that wasmtime-py cannot convert (a
`ResourceAny` object already passed to Wasm once, so wasmtime-py has consumed it) corrupts memory:
wasmtime-py's `OwnType.convert_to_c` marks the result slot as a resource before taking the
handle's pointer, that raises `ValueError`, and the error path then frees the slot's garbage
pointer ("double free or corruption", SIGABRT or SIGSEGV; in a fuzzer, sometimes a hang).

The component imports host resource `r` and `g: func() -> own<r>`, and exports `consume` (takes
an own and drops it) and `f: func()` (calls `g` and drops what it returns). The host makes an own
handle, moves it into the guest with `consume`, then returns the same Python object from `g`.
Expected: `f` raises (ValueError / WasmtimeError). Seen: the process dies.
pip install wasmtime==50.0.1 && python3 THIS.py  -> the process aborts (exit code != 0, 1)."""
import sys

import wasmtime
from wasmtime.component import Component, Linker, ResourceHost, ResourceType

WAT = """(component
  (import "r" (type $r (sub resource)))
  (import "g" (func $g (result (own $r))))
  (core func $drop (canon resource.drop $r))
  (core func $g_lowered (canon lower (func $g)))
  (core module $M
    (import "r" "drop" (func $drop (param i32)))
    (import "r" "g" (func $g (result i32)))
    (func (export "consume") (param i32) (call $drop (local.get 0)))
    (func (export "f") (call $drop (call $g))))
  (core instance $m (instantiate $M (with "r" (instance
    (export "drop" (func $drop)) (export "g" (func $g_lowered))))))
  (func $consume (param "x" (own $r)) (canon lift (core func $m "consume")))
  (export "consume" (func $consume))
  (func $f (canon lift (core func $m "f")))
  (export "f" (func $f)))"""
TYPE = 0x17F00

engine = wasmtime.Engine()
linker = Linker(engine)
moved = []
with linker.root() as root:
    root.add_resource("r", ResourceType.host(TYPE), lambda store, rep: None)
    root.add_func("g", lambda store: moved[0])
store = wasmtime.Store(engine)
inst = linker.instantiate(store, Component(engine, WAT))
consume, f = inst.get_func(store, "consume"), inst.get_func(store, "f")

x = ResourceHost.own(1, TYPE).to_any(store)
consume(store, x)  # x moves into the guest (wasmtime-py consumes the Python object)
consume.post_return(store)  # required before Wasmtime 42, a no-op after
moved.append(x)
try:
    f(store)
except Exception as e:
    print(f"ok: returning the moved handle raised {type(e).__name__}: {str(e).splitlines()[0]}")
    sys.exit(0)
print("BUG: returning the moved handle was accepted")
sys.exit(1)
