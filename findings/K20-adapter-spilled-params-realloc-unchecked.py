#!/usr/bin/env python3
"""K20: Wasmtime <= 44's fused adapter does not check the callee realloc's answer for the
spilled-parameters tuple (19 flat params: 16 u8 and an option<option<u8>>, 19 bytes):
realloc(0, 0, 1, 19) answering 0xffef (the tuple would end at 0x10002, past the callee's 64 KiB
memory) is passed to the callee as its params pointer, because the bytes it writes for the
value (p16 = none) happen to fit; the Canonical ABI traps. pip install wasmtime==44.0.0 && python3 THIS.py -> FAIL; 45.0.0 and
later trap: OK."""
import base64, sys, wasmtime
from wasmtime.component import Component, Linker
# (component
#   (import "seen" (func $seen (param "p" u32)))
#   (component $callee
#     (import "seen" (func $seen (param "p" u32)))
#     (core module $m (memory (export "mem") 1)
#       (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 0xffef)))
#     (core instance $m (instantiate $m))
#     (core func $seen_low (canon lower (func $seen)))
#     (core module $f (import "" "seen" (func $seen (param i32)))
#       (func (export "f") (param i32) (call $seen (local.get 0))))
#     (core instance $f (instantiate $f (with "" (instance (export "seen" (func $seen_low))))))
#     (func (export "f") (param "p0" u8) (param "p1" u8) (param "p2" u8) (param "p3" u8) (param "p4" u8) (param "p5" u8) (param "p6" u8) (param "p7" u8) (param "p8" u8) (param "p9" u8) (param "p10" u8) (param "p11" u8) (param "p12" u8) (param "p13" u8) (param "p14" u8) (param "p15" u8) (param "p16" (option (option u8)))
#       (canon lift (core func $f "f") (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))
#   (component $caller
#     (import "f" (func $f (param "p0" u8) (param "p1" u8) (param "p2" u8) (param "p3" u8) (param "p4" u8) (param "p5" u8) (param "p6" u8) (param "p7" u8) (param "p8" u8) (param "p9" u8) (param "p10" u8) (param "p11" u8) (param "p12" u8) (param "p13" u8) (param "p14" u8) (param "p15" u8) (param "p16" (option (option u8)))))
#     (core module $libc (memory (export "mem") 1) (data (i32.const 16) "abcdefghijklmnop\00"))
#     (core instance $libc (instantiate $libc))
#     (core func $f_low (canon lower (func $f) (memory (core memory $libc "mem"))))
#     (core module $main (import "" "f" (func $f (param i32)))
#       (func (export "run") (call $f (i32.const 16))))
#     (core instance $main (instantiate $main (with "" (instance (export "f" (func $f_low))))))
#     (func (export "run") (canon lift (core func $main "run"))))
#   (instance $ce (instantiate $callee (with "seen" (func $seen))))
#   (instance $cr (instantiate $caller (with "f" (func $ce "f"))))
#   (export "run" (func $cr "run")))
COMPONENT = base64.b64decode('AGFzbQ0AAQAHCAFAAQFweQEACgkBAARzZWVuAQAEmAMAYXNtDQABAAcIAUABAXB5AQAKCQEABHNlZW4BAAFEAGFzbQEAAAABCQFgBH9/f38BfwMCAQAFAwEAAQcRAgNtZW0CAAdyZWFsbG9jAAAKCAEGAEHv/wMLAAkEbmFtZQACAW0CBAEAAAAIBQEBAAAAAUMAYXNtAQAAAAEFAWABfwACCQEABHNlZW4AAAMCAQAHBQEBZgABCggBBgAgABAACwASBG5hbWUAAgFmAQcBAARzZWVuAhACAQEEc2VlbgAAAAEBABIBB1QDa31rAUARAnAwfQJwMX0CcDJ9AnAzfQJwNH0CcDV9AnA2fQJwN30CcDh9AnA5fQNwMTB9A3AxMX0DcDEyfQNwMTN9A3AxNH0DcDE1fQNwMTYCAQAGGwMAAAECAWYAAgEAA21lbQAAAQAHcmVhbGxvYwgKAQAAAQIDAAQCAwsHAQABZgEBAABHDmNvbXBvbmVudC1uYW1lAAcGY2FsbGVlAQ0AAAEACHNlZW5fbG93AQkAEQIAAW0BAWYBCQASAgABbQIBZgEIAQEABHNlZW4EiQMAYXNtDQABAAdUA2t9awBAEQJwMH0CcDF9AnAyfQJwM30CcDR9AnA1fQJwNn0CcDd9AnA4fQJwOX0DcDEwfQNwMTF9A3AxMn0DcDEzfQNwMTR9A3AxNX0DcDE2AQEACgYBAAFmAQIBPQBhc20BAAAABQMBAAEHBwEDbWVtAgALFwEAQRALEWFiY2RlZmdoaWprbG1ub3AAAAwEbmFtZQAFBGxpYmMCBAEAAAAGCQEAAgEAA21lbQgHAQEAAAEDAAFFAGFzbQEAAAABCAJgAX8AYAAAAgYBAAFmAAADAgEBBwcBA3J1bgABCggBBgBBEBAACwASBG5hbWUABQRtYWluAQQBAAFmAg0CAQEBZgAAAAEBABIBBwUBQAABAAYJAQAAAQIDcnVuCAYBAAABAAMLCQEAA3J1bgEBAABNDmNvbXBvbmVudC1uYW1lAAcGY2FsbGVyAQoAAAEABWZfbG93AQ8AEQIABGxpYmMBBG1haW4BDwASAgAEbGliYwIEbWFpbgEFAQEAAWYFCwEAAAEEc2VlbgEABgYBAQAAAWYFCAEAAQEBZgEBBggBAQABA3J1bgsJAQADcnVuAQIAADkOY29tcG9uZW50LW5hbWUBCAEBAARzZWVuARIEAgAGY2FsbGVlAQZjYWxsZXIBCgUCAAJjZQECY3I=')
engine = wasmtime.Engine()
store = wasmtime.Store(engine)
linker = Linker(engine)
seen = []
linker.root().add_func("seen", lambda store, p: seen.append(p))
run = linker.instantiate(store, Component(engine, COMPONENT)).get_func(store, "run")
try:
    run(store)
except wasmtime.WasmtimeError as e:
    sys.exit(print("OK: trapped:", str(e).splitlines()[0]))
sys.exit(print(f"FAIL: no trap; the callee got its params at {[hex(p) for p in seen]}") or 1)
