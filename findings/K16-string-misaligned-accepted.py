#!/usr/bin/env python3
"""K16: Wasmtime <= 43 lifts a latin1+utf16 (or utf16) string from an odd pointer; the Canonical
ABI requires 2-byte alignment there and traps. pip install wasmtime==43.0.0 && python3 THIS.py
-> FAIL (a string comes back); 44.0.0 and later trap: OK."""
import base64, sys, wasmtime
from wasmtime.component import Component, Linker
# (component
#   (core module $m (memory (export "mem") 1)
#     (data (i32.const 16) "\21\00\00\00\02\00\00\00")  ;; (ptr 0x21: odd, 2 latin1 units)
#     (data (i32.const 32) "\00ab")
#     (func (export "f") (result i32) (i32.const 16)))
#   (core instance $i (instantiate $m))
#   (func (export "f") (result string)
#     (canon lift (core func $i "f") (memory (core memory $i "mem")) string-encoding=latin1+utf16)))
COMPONENT = base64.b64decode('AGFzbQ0AAQABUABhc20BAAAAAQUBYAABfwMCAQAFAwEAAQcLAgNtZW0CAAFmAAAKBgEEAEEQCwsWAgBBEAsIIQAAAAIAAAAAQSALAwBhYgAJBG5hbWUAAgFtAgQBAAAABwUBQAAAcwYPAgAAAQABZgACAQADbWVtCAkBAAAAAgMAAgALBwEAAWYBAAAAHw5jb21wb25lbnQtbmFtZQEGABEBAAFtAQYAEgEAAWk=')
engine = wasmtime.Engine()
store = wasmtime.Store(engine)
f = Linker(engine).instantiate(store, Component(engine, COMPONENT)).get_func(store, "f")
try:
    got = f(store)
    f.post_return(store)
except wasmtime.WasmtimeError as e:
    sys.exit(print("OK: trapped:", str(e).splitlines()[0]))
sys.exit(print(f"FAIL: got {got!r} from a misaligned pointer; the spec traps") or 1)
