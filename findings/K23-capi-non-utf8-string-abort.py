#!/usr/bin/env python3
"""K23: Wasmtime's C API aborts the process when a component value holds a string (or an enum,
variant-case, record-field or flag name) that is not UTF-8: crates/c-api/src/component/val.rs
converts it with String::from_utf8(..).unwrap(). Here as an argument of
wasmtime_component_func_call (a host function's result takes the same path).
pip install wasmtime==50.0.1 && python3 THIS.py -> "panicked at .../val.rs:306", abort;
51.0.0: an error ("invalid utf-8 sequence") and the process goes on.
Optional argument: the bytes to pass, in hex (default ff)."""
import base64
import ctypes
import sys

import wasmtime
from wasmtime import _bindings as b
from wasmtime.component import Component, Linker

WAT = """(component
  (core module $m (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64))
    (func (export "f") (param i32 i32)))
  (core instance $i (instantiate $m))
  (func (export "f") (param "s" string)
    (canon lift (core func $i "f") (memory (core memory $i "memory"))
      (realloc (core func $i "realloc")))))"""
# The same component in binary: every wasmtime-py release from 39.0.0 on accepts it.
COMPONENT = base64.b64decode('AGFzbQ0AAQABUwBhc20BAAAAAQ4CYAR/f39/AX9gAn9/AAMDAgABBQMBAAEHGAMGbWVtb3J5AgAHcmVhbGxvYwAAAWYAAQoKAgUAQcAACwIACwAJBG5hbWUAAgFtAgQBAAAABwgBQAEBc3MBAAYeAwAAAQABZgACAQAGbWVtb3J5AAABAAdyZWFsbG9jCAoBAAAAAgMABAEACwcBAAFmAQAAAB8OY29tcG9uZW50LW5hbWUBBgARAQABbQEGABIBAAFp')
raw = bytes.fromhex(sys.argv[1] if len(sys.argv) > 1 else "ff")
engine = wasmtime.Engine()
store = wasmtime.Store(engine)
f = Linker(engine).instantiate(store, Component(engine, COMPONENT)).get_func(store, "f")
arg = b.wasmtime_component_val_t()
arg.kind = 12  # WASMTIME_COMPONENT_STRING (wasmtime/component/val.h)
data = (ctypes.c_uint8 * max(len(raw), 1))(*raw)
b.wasm_byte_vec_new(ctypes.byref(arg.of.string), len(raw), data)
err = b.wasmtime_component_func_call(ctypes.byref(f._func), store._context(), ctypes.byref(arg),
                                     1, None, 0)
if err:
    print("OK: an error:", wasmtime.WasmtimeError._from_ptr(err))
else:
    print("no error: f ran with this string")
