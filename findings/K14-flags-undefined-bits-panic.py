#!/usr/bin/env python3
"""K14: Wasmtime <= 43 panics lifting `flags` with bits past its last label (the Canonical ABI
ignores them). pip install wasmtime==43.0.0 && python3 THIS.py  -> process abort
(values.rs: out of bounds index); 44.0.0 and later print frozen/empty flags."""
import base64, wasmtime
from wasmtime.component import Component, Linker
# (component (type $f (flags "a")) (import "f" (type $t (eq $f)))
#   (core module $m (func (export "f") (result i32) (i32.const 0x0fffffff)))
#   (core instance $i (instantiate $m))
#   (func (export "f") (result $t) (canon lift (core func $i "f"))))
COMPONENT = base64.b64decode('AGFzbQ0AAQAHBQFuAQFhCgcBAAFmAwAAATEAYXNtAQAAAAEFAWAAAX8DAgEABwUBAWYAAAoKAQgAQf////8ACwAJBG5hbWUAAgFtAgQBAAAABwUBQAAAAQYHAQAAAQABZggGAQAAAAACCwcBAAFmAQAAACkOY29tcG9uZW50LW5hbWUBBgARAQABbQEGABIBAAFpAQgDAgABZgEBdA==')
engine = wasmtime.Engine()
store = wasmtime.Store(engine)
f = Linker(engine).instantiate(store, Component(engine, COMPONENT)).get_func(store, "f")
print("f() =", f(store))
