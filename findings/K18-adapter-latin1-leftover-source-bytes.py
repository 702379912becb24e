#!/usr/bin/env python3
"""K18: Wasmtime's fused adapter, transcoding a utf8 string of >= 16 bytes into a latin1+utf16
callee, leaves UTF-8 bytes of the source in the callee's buffer past the Latin-1 text (in the
part realloc takes back when it shrinks the buffer). The Canonical ABI writes only the Latin-1
bytes. The callee shows the 32 bytes at the string's pointer: spec e9 x16 then 16 untouched
zero bytes. pip install wasmtime==50.0.1 && python3 THIS.py -> FAIL."""
import base64, sys, wasmtime
from wasmtime.component import Component, Linker
# (component
#   (import "seen" (func $seen (param "b" (list u8))))
#   (component $callee
#     (import "seen" (func $seen (param "b" (list u8))))
#     (core module $m (memory (export "mem") 1) (global $top (mut i32) (i32.const 1024))
#       (func (export "realloc") (param $o i32) (param $os i32) (param $a i32) (param $n i32) (result i32)
#         (local $p i32)
#         (if (i32.and (i32.ne (local.get $o) (i32.const 0)) (i32.le_u (local.get $n) (local.get $os)))
#           (then (return (local.get $o))))
#         (local.set $p (global.get $top)) (global.set $top (i32.add (local.get $p) (local.get $n)))
#         (local.get $p)))
#     (core instance $m (instantiate $m))
#     (core func $seen_low (canon lower (func $seen) (memory (core memory $m "mem"))))
#     (core module $f (import "" "seen" (func $seen (param i32 i32)))
#       (func (export "f") (param $p i32) (param $n i32) (call $seen (local.get $p) (i32.const 32))))
#     (core instance $f (instantiate $f (with "" (instance (export "seen" (func $seen_low))))))
#     (func (export "f") (param "s" string) (canon lift (core func $f "f") (memory (core memory $m "mem"))
#       (realloc (core func $m "realloc")) string-encoding=latin1+utf16)))
#   (component $caller
#     (import "f" (func $f (param "s" string)))
#     (core module $libc (memory (export "mem") 1)
#       (data (i32.const 16) "\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9"))
#     (core instance $libc (instantiate $libc))
#     (core func $f_low (canon lower (func $f) (memory (core memory $libc "mem"))))
#     (core module $main (import "" "f" (func $f (param i32 i32)))
#       (func (export "run") (call $f (i32.const 16) (i32.const 32))))
#     (core instance $main (instantiate $main (with "" (instance (export "f" (func $f_low))))))
#     (func (export "run") (canon lift (core func $main "run"))))
#   (instance $ce (instantiate $callee (with "seen" (func $seen))))
#   (instance $cr (instantiate $caller (with "f" (func $ce "f"))))
#   (export "run" (func $cr "run")))
COMPONENT = base64.b64decode('AGFzbQ0AAQAHCgJwfUABAWIAAQAKCQEABHNlZW4BAQStAwBhc20NAAEABwoCcH1AAQFiAAEACgkBAARzZWVuAQEBhgEAYXNtAQAAAAEJAWAEf39/fwF/AwIBAAUDAQABBgcBfwFBgAgLBxECA21lbQIAB3JlYWxsb2MAAAokASIBAX8gAEEARyADIAFNcQRAIAAPCyMAIQQgBCADaiQAIAQLACYEbmFtZQACAW0CEwEABQABbwECb3MCAWEDAW4EAXAHBgEAA3RvcAIEAQAAAAYJAQACAQADbWVtCAcBAQAAAQMAAVEAYXNtAQAAAAEGAWACf38AAgkBAARzZWVuAAADAgEABwUBAWYAAQoKAQgAIABBIBAACwAdBG5hbWUAAgFmAQcBAARzZWVuAgkBAQIAAXABAW4CEAIBAQRzZWVuAAAAAQEAEgEHCAFAAQFzcwEABhsDAAABAgFmAAIBAANtZW0AAAEAB3JlYWxsb2MICwEAAAEDAwEEAgICCwcBAAFmAQEAAEcOY29tcG9uZW50LW5hbWUABwZjYWxsZWUBDQAAAQAIc2Vlbl9sb3cBCQARAgABbQEBZgEJABICAAFtAgFmAQgBAQAEc2VlbgTPAgBhc20NAAEABwgBQAEBc3MBAAoGAQABZgEAAUwAYXNtAQAAAAUDAQABBwcBA21lbQIACyYBAEEQCyDDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqQAMBG5hbWUABQRsaWJjAgQBAAAABgkBAAIBAANtZW0IBwEBAAABAwABSABhc20BAAAAAQkCYAJ/fwBgAAACBgEAAWYAAAMCAQEHBwEDcnVuAAEKCgEIAEEQQSAQAAsAEgRuYW1lAAUEbWFpbgEEAQABZgINAgEBAWYAAAABAQASAQcFAUAAAQAGCQEAAAECA3J1bggGAQAAAQABCwkBAANydW4BAQAATQ5jb21wb25lbnQtbmFtZQAHBmNhbGxlcgEKAAABAAVmX2xvdwEPABECAARsaWJjAQRtYWluAQ8AEgIABGxpYmMCBG1haW4BBQEBAAFmBQsBAAABBHNlZW4BAAYGAQEAAAFmBQgBAAEBAWYBAQYIAQEAAQNydW4LCQEAA3J1bgECAAA5DmNvbXBvbmVudC1uYW1lAQgBAQAEc2VlbgESBAIABmNhbGxlZQEGY2FsbGVyAQoFAgACY2UBAmNy')
engine = wasmtime.Engine()
store = wasmtime.Store(engine)
linker = Linker(engine)
seen = []
linker.root().add_func("seen", lambda store, b: seen.append(bytes(b)))
run = linker.instantiate(store, Component(engine, COMPONENT)).get_func(store, "run")
run(store)
run.post_return(store)
got = seen[0]
print("callee memory at the string:", got.hex())
if got != b"\xe9" * 16 + bytes(16):
    sys.exit(print("FAIL: bytes past the Latin-1 text were written") or 1)
print("OK: only the Latin-1 text was written")
