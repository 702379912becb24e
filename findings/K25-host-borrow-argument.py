#!/usr/bin/env python3
"""K25: the embedder cannot pass a borrow of a host resource: converting the `ResourceHost`
borrow to a `ResourceAny` for the call (wasmtime_component_resource_host_to_any, which
wasmtime-py's BorrowType does) panics and aborts the process on 39.0.0-43.0.0
(vm/component/resources.rs:314, component/store.rs:516) and fails with Wasmtime-internal errors
on 44.0.0-49.0.0 ("out of range integral type conversion attempted", "BUG: current thread is not
set", "BUG: no current scope"); fixed in 50.0.1.
pip install wasmtime==49.0.0 && python3 THIS.py  -> WasmtimeError "BUG: no current scope"
pip install wasmtime==50.0.1 && python3 THIS.py  -> "ok, host saw rep [5]"."""
import sys

import wasmtime
from wasmtime.component import Component, Linker, ResourceHost, ResourceType

WAT = """(component
  (import "r" (type $r (sub resource)))
  (import "g" (func $g (param "b" (borrow $r))))
  (core func $drop (canon resource.drop $r))
  (core func $g_low (canon lower (func $g)))
  (core module $M
    (import "h" "g" (func $g (param i32)))
    (import "h" "drop" (func $drop (param i32)))
    (func (export "f") (param i32) (call $g (local.get 0)) (call $drop (local.get 0))))
  (core instance $m (instantiate $M
    (with "h" (instance (export "g" (func $g_low)) (export "drop" (func $drop))))))
  (func (export "f") (param "b" (borrow $r)) (canon lift (core func $m "f"))))"""
rep = int(sys.argv[1]) if len(sys.argv) > 1 else 5
engine = wasmtime.Engine()
component = Component(engine, WAT)
linker = Linker(engine)
seen = []
with linker.root() as root:
    root.add_resource("r", ResourceType.host(1), lambda store, rep: None)
    root.add_func("g", lambda store, b: seen.append(b.to_host(store).rep))
store = wasmtime.Store(engine)
f = linker.instantiate(store, component).get_func(store, "f")
f(store, ResourceHost.borrow(rep, 1))
f.post_return(store)
print("ok, host saw rep", seen)
