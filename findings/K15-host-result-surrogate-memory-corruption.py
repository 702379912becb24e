#!/usr/bin/env python3
"""K15: a host function whose string result holds a lone surrogate makes wasmtime-py <= 49 corrupt
memory on its error path (segfault, or "double free or corruption"; by allocation luck not on
every release). pip install wasmtime==41.0.0 && python3 THIS.py -> segfault; 50.0.1: it raises
UnicodeEncodeError and the process goes on."""
import sys
import wasmtime
from wasmtime.component import Component, Linker
WAT = """(component
  (import "g" (func $g (result string)))
  (core module $libc (memory (export "memory") 1)
    (global $top (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32) (local.set $p (global.get $top))
      (global.set $top (i32.add (global.get $top) (local.get 3))) (local.get $p)))
  (core instance $libc (instantiate $libc))
  (core func $g_low (canon lower (func $g) (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core module $main (import "" "g" (func $g (param i32)))
    (func (export "f") (call $g (i32.const 16))))
  (core instance $main (instantiate $main (with "" (instance (export "g" (func $g_low))))))
  (func (export "f") (canon lift (core func $main "f"))))"""
import base64
COMPONENT = base64.b64decode("AGFzbQ0AAQAHBQFAAABzCgYBAAFnAQABbgBhc20BAAAAAQkBYAR/f39/AX8DAgEABQMBAAEGBwF/AUGACAsHFAIGbWVtb3J5AgAHcmVhbGxvYwAAChMBEQEBfyMAIQQjACADaiQAIAQLABwEbmFtZQAFBGxpYmMCBgEAAQQBcAcGAQADdG9wAgQBAAAABhgCAAIBAAZtZW1vcnkAAAEAB3JlYWxsb2MICQEBAAACAwAEAAFDAGFzbQEAAAABCAJgAX8AYAAAAgYBAAFnAAADAgEBBwUBAWYAAQoIAQYAQRAQAAsAEgRuYW1lAAUEbWFpbgEEAQABZwINAgEBAWcAAQABAQASAQcFAUAAAQAGBwEAAAECAWYIBgEAAAIAAQsHAQABZgEBAABEDmNvbXBvbmVudC1uYW1lAQoAAAEBBWdfbG93AQ8AEQIABGxpYmMBBG1haW4BDwASAgAEbGliYwIEbWFpbgEFAQEAAWc=")
text = sys.argv[1] if len(sys.argv) > 1 else "\ud800" + "a" * 100
engine = wasmtime.Engine()
store = wasmtime.Store(engine)
linker = Linker(engine)
linker.root().add_func("g", lambda store: text)
instance = linker.instantiate(store, Component(engine, COMPONENT))
try:
    instance.get_func(store, "f")(store)
    print("no error: the host's invalid string was accepted")
except Exception as e:
    print("OK: raised", type(e).__name__, str(e).splitlines()[0][:100])
