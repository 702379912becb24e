#!/usr/bin/env python3
"""K29: Wasmtime 45.0.0 rejects a valid component whose canonical option `memory` (of a `canon
lift` or `canon lower`) names a core memory with a custom page size, on an engine with custom
page sizes enabled: "failed to parse WebAssembly module / Caused by: mismatch in page size for
memories (at offset 0x..)". The same memory without a canonical `memory` option compiles; the
Explainer only asks that memory be a 32-bit memory. Fine on 39.0.0-44.0.0 and 46.0.1-51.0.0.

The component (binary, made by `wasm-tools parse` + `strip --all`, so every release reads it):
  (component
    (core module $m
      (memory (export "mem") 1 (pagesize 1))
      (func (export "f") (result i32) i32.const 0))
    (core instance $i (instantiate $m))
    (func (export "f") (result string)
      (canon lift (core func $i "f") (memory (core memory $i "mem")))))
pip install wasmtime==45.0.0 && python3 THIS.py  -> BUG: ..., exit 1."""
import base64
import ctypes
import sys

import wasmtime
from wasmtime import _ffi
from wasmtime.component import Component

WASM = base64.b64decode(
    "AGFzbQ0AAQABLgBhc20BAAAAAQUBYAABfwMCAQAFBAEIAQAHCwIDbWVtAgABZgAACgYBBABBAAsCBAEAAAAHBQFAAABz"
    "Bg8CAAABAAFmAAIBAANtZW0ICAEAAAABAwAACwcBAAFmAQAA")
config = wasmtime.Config()
_ffi.dll.wasmtime_config_wasm_custom_page_sizes_set(config.ptr(), ctypes.c_bool(True))
try:
    Component(wasmtime.Engine(config), WASM)
except wasmtime.WasmtimeError as e:
    print("BUG: Wasmtime rejected a valid component:", str(e).replace("\n", " | "))
    sys.exit(1)
print("OK: compiled")
