#!/usr/bin/env python3
"""K19: Wasmtime <= 44's fused adapter does not check the answer of the final, shrinking realloc
when it transcodes utf8 -> latin1+utf16 and the text needs UTF-16: realloc(1024, 8, 2, 4)
answering 0xfffffff8 (end far past the callee's memory) is used as the string's pointer; the
Canonical ABI traps. pip install wasmtime==44.0.0 && python3 THIS.py -> FAIL (the callee gets
ptr 0xfffffff8); 45.0.0 and later trap: OK."""
import base64, sys, wasmtime
from wasmtime.component import Component, Linker
# (component
#   (import "seen" (func $seen (param "p" u32) (param "n" u32)))
#   (component $callee
#     (import "seen" (func $seen (param "p" u32) (param "n" u32)))
#     (core module $m (memory (export "mem") 1) (global $k (mut i32) (i32.const 0))
#       (func (export "realloc") (param i32 i32 i32 i32) (result i32)
#         (global.set $k (i32.add (global.get $k) (i32.const 1)))
#         (select (i32.const 0xfffffff8) (i32.const 1024) (i32.eq (global.get $k) (i32.const 3)))))
#     (core instance $m (instantiate $m))
#     (core func $seen_low (canon lower (func $seen)))
#     (core module $f (import "" "seen" (func $seen (param i32 i32)))
#       (func (export "f") (param i32 i32) (call $seen (local.get 0) (local.get 1))))
#     (core instance $f (instantiate $f (with "" (instance (export "seen" (func $seen_low))))))
#     (func (export "f") (param "s" string) (canon lift (core func $f "f") (memory (core memory $m "mem"))
#       (realloc (core func $m "realloc")) string-encoding=latin1+utf16)))
#   (component $caller
#     (import "f" (func $f (param "s" string)))
#     (core module $libc (memory (export "mem") 1) (data (i32.const 16) "a\e2\82\ac"))
#     (core instance $libc (instantiate $libc))
#     (core func $f_low (canon lower (func $f) (memory (core memory $libc "mem"))))
#     (core module $main (import "" "f" (func $f (param i32 i32)))
#       (func (export "run") (call $f (i32.const 16) (i32.const 4))))
#     (core instance $main (instantiate $main (with "" (instance (export "f" (func $f_low))))))
#     (func (export "run") (canon lift (core func $main "run"))))
#   (instance $ce (instantiate $callee (with "seen" (func $seen))))
#   (instance $cr (instantiate $caller (with "f" (func $ce "f"))))
#   (export "run" (func $cr "run")))
COMPONENT = base64.b64decode('AGFzbQ0AAQAHCwFAAgFweQFueQEACgkBAARzZWVuAQAE7wIAYXNtDQABAAcLAUACAXB5AW55AQAKCQEABHNlZW4BAAFgAGFzbQEAAAABCQFgBH9/f38BfwMCAQAFAwEAAQYGAX8BQQALBxECA21lbQIAB3JlYWxsb2MAAAoWARQAIwBBAWokAEF4QYAIIwBBA0YbCwAPBG5hbWUAAgFtBwQBAAFrAgQBAAAACAUBAQAAAAFGAGFzbQEAAAABBgFgAn9/AAIJAQAEc2VlbgAAAwIBAAcFAQFmAAEKCgEIACAAIAEQAAsAEgRuYW1lAAIBZgEHAQAEc2VlbgIQAgEBBHNlZW4AAAABAQASAQcIAUABAXNzAQAGGwMAAAECAWYAAgEAA21lbQAAAQAHcmVhbGxvYwgLAQAAAQMDAAQCAgELBwEAAWYBAQAARw5jb21wb25lbnQtbmFtZQAHBmNhbGxlZQENAAABAAhzZWVuX2xvdwEJABECAAFtAQFmAQkAEgIAAW0CAWYBCAEBAARzZWVuBLMCAGFzbQ0AAQAHCAFAAQFzcwEACgYBAAFmAQABMABhc20BAAAABQMBAAEHBwEDbWVtAgALCgEAQRALBGHigqwADARuYW1lAAUEbGliYwIEAQAAAAYJAQACAQADbWVtCAcBAQAAAQMAAUgAYXNtAQAAAAEJAmACf38AYAAAAgYBAAFmAAADAgEBBwcBA3J1bgABCgoBCABBEEEEEAALABIEbmFtZQAFBG1haW4BBAEAAWYCDQIBAQFmAAAAAQEAEgEHBQFAAAEABgkBAAABAgNydW4IBgEAAAEAAQsJAQADcnVuAQEAAE0OY29tcG9uZW50LW5hbWUABwZjYWxsZXIBCgAAAQAFZl9sb3cBDwARAgAEbGliYwEEbWFpbgEPABICAARsaWJjAgRtYWluAQUBAQABZgULAQAAAQRzZWVuAQAGBgEBAAABZgUIAQABAQFmAQEGCAEBAAEDcnVuCwkBAANydW4BAgAAOQ5jb21wb25lbnQtbmFtZQEIAQEABHNlZW4BEgQCAAZjYWxsZWUBBmNhbGxlcgEKBQIAAmNlAQJjcg==')
engine = wasmtime.Engine()
store = wasmtime.Store(engine)
linker = Linker(engine)
seen = []
linker.root().add_func("seen", lambda store, p, n: seen.append((p, n)))
run = linker.instantiate(store, Component(engine, COMPONENT)).get_func(store, "run")
try:
    run(store)
except wasmtime.WasmtimeError as e:
    sys.exit(print("OK: trapped:", str(e).splitlines()[0]))
sys.exit(print(f"FAIL: no trap; the callee got (ptr, len) = {[(hex(p), hex(n)) for p, n in seen]}") or 1)
