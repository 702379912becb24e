#!/usr/bin/env python3
"""K24: a resource handle of one store, dropped through another store, is accepted there and
drops that store's resource at the same table index (its destructor runs), instead of raising.

Two stores, one instance each of a component defining resource `gr` (its destructor counts runs).
Store A makes one `gr` (host table index 1); store B makes four. `a.drop(store_b)` should raise
(the handle is not B's); it returns normally, B's destructor runs for B's resource, and B's
handle at that index is gone.
pip install wasmtime==50.0.1 && python3 THIS.py  -> "BUG: ..." and exit 1."""
import sys

import wasmtime
from wasmtime.component import Component, Linker

WAT = """(component
  (core module $D
    (global $n (mut i32) (i32.const 0))
    (func (export "dtor") (param i32) (global.set $n (i32.add (global.get $n) (i32.const 1))))
    (func (export "count") (result i32) (global.get $n)))
  (core instance $d (instantiate $D))
  (core func $dtor (alias core export $d "dtor"))
  (type $GR (resource (rep i32) (dtor DTOR)))
  (core func $new (canon resource.new $GR))
  (core module $M
    (import "r" "new" (func $new (param i32) (result i32)))
    (func (export "new") (param i32) (result i32) (call $new (local.get 0))))
  (core instance $m (instantiate $M (with "r" (instance (export "new" (func $new))))))
  (export $gr "gr" (type $GR))
  (func $f (param "rep" u32) (result (own $gr)) (canon lift (core func $m "new")))
  (export "gr-new" (func $f))
  (func $c (result u32) (canon lift (core func $d "count")))
  (export "dtor-count" (func $c)))"""

engine = wasmtime.Engine()
try:  # the text syntax of 48 and later, else the older one
    component = Component(engine, WAT.replace("DTOR", "(core func $dtor)"))
except wasmtime.WasmtimeError:
    component = Component(engine, WAT.replace("DTOR", "(func $dtor)"))
linker = Linker(engine)


def instance():
    store = wasmtime.Store(engine)
    inst = linker.instantiate(store, component)
    funcs = inst.get_func(store, "gr-new"), inst.get_func(store, "dtor-count")

    def call(f, *args):  # post_return: required before Wasmtime 42, a no-op after
        out = f(store, *args)
        f.post_return(store)
        return out
    return store, lambda rep: call(funcs[0], rep), lambda: call(funcs[1])


store_a, new_a, _ = instance()
a = new_a(7)
store_b, new_b, count_b = instance()
b = [new_b(100 + i) for i in range(4)]
try:
    a.drop(store_b)
except wasmtime.WasmtimeError as e:
    print(f"ok: Wasmtime refused the other store's handle: {e}")
    sys.exit(0)
print(f"BUG: store A's handle was dropped through store B without an error; B's destructor ran "
      f"{count_b()} time(s)")
try:
    b[0].drop(store_b)
    print("  (B's own first handle still drops)")
except wasmtime.WasmtimeError as e:
    print(f"  and B's own handle at that index is gone: {e}")
sys.exit(1)
