#!/usr/bin/env python3
"""K17: Wasmtime <= 43's fused adapter does not check the callee realloc's answer when transcoding
utf8 -> latin1+utf16 grows the buffer: realloc(0xffd0, 48, 2, 96) returns 0xffd0, whose end
0x10030 is past the callee's 64 KiB memory; the Canonical ABI traps (realloc result out of
bounds), Wasmtime enters the callee. pip install wasmtime==43.0.0 && python3 THIS.py -> FAIL;
44.0.0 and later trap: OK."""
import base64, sys, wasmtime
from wasmtime.component import Component, Linker
# (component
#   (component $callee
#     (core module $m (memory (export "mem") 1)
#       (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 0xffd0))
#       (func (export "f") (param i32 i32)))
#     (core instance $i (instantiate $m))
#     (func (export "f") (param "s" string) (canon lift (core func $i "f")
#       (memory (core memory $i "mem")) (realloc (core func $i "realloc")) string-encoding=latin1+utf16)))
#   (component $caller
#     (import "f" (func $f (param "s" string)))
#     (core module $libc (memory (export "mem") 1)
#       (data (i32.const 16) "\c4\80aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
#     (core instance $libc (instantiate $libc))
#     (core func $f_low (canon lower (func $f) (memory (core memory $libc "mem"))))
#     (core module $main (import "" "f" (func $f (param i32 i32)))
#       (func (export "run") (call $f (i32.const 16) (i32.const 48))))
#     (core instance $main (instantiate $main (with "" (instance (export "f" (func $f_low))))))
#     (func (export "run") (canon lift (core func $main "run"))))
#   (instance $ce (instantiate $callee))
#   (instance $cr (instantiate $caller (with "f" (func $ce "f"))))
#   (export "run" (func $cr "run")))
COMPONENT = base64.b64decode('AGFzbQ0AAQAEyAEAYXNtDQABAAFRAGFzbQEAAAABDgJgBH9/f38Bf2ACf38AAwMCAAEFAwEAAQcVAwNtZW0CAAdyZWFsbG9jAAABZgABCgsCBgBB0P8DCwIACwAJBG5hbWUAAgFtAgQBAAAABwgBQAEBc3MBAAYbAwAAAQABZgACAQADbWVtAAABAAdyZWFsbG9jCAsBAAAAAwMABAECAAsHAQABZgEAAAAoDmNvbXBvbmVudC1uYW1lAAcGY2FsbGVlAQYAEQEAAW0BBgASAQABaQTfAgBhc20NAAEABwgBQAEBc3MBAAoGAQABZgEAAVwAYXNtAQAAAAUDAQABBwcBA21lbQIACzYBAEEQCzDEgGFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWEADARuYW1lAAUEbGliYwIEAQAAAAYJAQACAQADbWVtCAcBAQAAAQMAAUgAYXNtAQAAAAEJAmACf38AYAAAAgYBAAFmAAADAgEBBwcBA3J1bgABCgoBCABBEEEwEAALABIEbmFtZQAFBG1haW4BBAEAAWYCDQIBAQFmAAAAAQEAEgEHBQFAAAEABgkBAAABAgNydW4IBgEAAAEAAQsJAQADcnVuAQEAAE0OY29tcG9uZW50LW5hbWUABwZjYWxsZXIBCgAAAQAFZl9sb3cBDwARAgAEbGliYwEEbWFpbgEPABICAARsaWJjAgRtYWluAQUBAQABZgUEAQAAAAYGAQEAAAFmBQgBAAEBAWYBAAYIAQEAAQNydW4LCQEAA3J1bgEBAAAvDmNvbXBvbmVudC1uYW1lARIEAgAGY2FsbGVlAQZjYWxsZXIBCgUCAAJjZQECY3I=')
engine = wasmtime.Engine()
store = wasmtime.Store(engine)
run = Linker(engine).instantiate(store, Component(engine, COMPONENT)).get_func(store, "run")
try:
    run(store)
except wasmtime.WasmtimeError as e:
    sys.exit(print("OK: trapped:", str(e).splitlines()[0]))
sys.exit(print("FAIL: no trap; the spec traps on realloc's out-of-bounds answer") or 1)
