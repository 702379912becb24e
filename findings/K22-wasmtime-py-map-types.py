#!/usr/bin/env python3
"""K22: wasmtime-py cannot use a component function whose type holds a `map<K, V>`: reflecting
its type (Func.type), calling it, and a host function taking one all raise
"TypeError: unknown component value type kind" (valtype_from_ptr knows no map kind), although
Wasmtime compiles and runs such components once `wasm_component_model_map` is on.
pip install wasmtime==50.0.1 && python3 THIS.py -> FAIL (44.0.0..51.0.0: FAIL; before 44 the
map feature cannot be enabled)."""
import base64, sys, wasmtime
from wasmtime.component import Component, Linker
# (component (type $m (map u32 string)) (import "g" (func $g (param "x" $m) (result $m)))
#   ... a libc memory/realloc and a core module forwarding f to g ...
#   (export "f" (func $f (param "x" $m) (result $m)))   ;; f(x) = g(x)
#   (export "h" (func $h)))                              ;; h() = g([(1, "a")]), a map in memory
COMPONENT = base64.b64decode('AGFzbQ0AAQAHCwJjeXNAAQF4AAAACgYBAAFnAQEBegBhc20BAAAAAQkBYAR/f39/AX8DAgEABQMBAAEGBwF/AUGACAsHFAIGbWVtb3J5AgAHcmVhbGxvYwAACh8BHQEBfyMAIAJBAWtqQQAgAmtxIQQgBCADaiQAIAQLABwEbmFtZQAFBExpYmMCBgEAAQQBcAcGAQADdG9wAgQBAAAABhgCAAIBAAZtZW1vcnkAAAEAB3JlYWxsb2MICQEBAAACAwAEAAGLAQBhc20BAAAAARADYAN/f38AYAAAYAJ/fwF/AhkCBGxpYmMGbWVtb3J5AgABBGhvc3QBZwAAAwMCAQIHCQIBaAABAWYAAgoaAgsAQcAAQQFBEBAACwwAIAAgAUEQEABBEAsLFAEAQcAACw0BAAAAYAAAAAEAAABhABIEbmFtZQAFBE1haW4BBAEAAWcCGAIBAQFnAAEAAQIEbGliYxIABGhvc3QSAQcIAUABAXgAAAAGHgMAAAECAWYAAgEABm1lbW9yeQAAAQAHcmVhbGxvYwgKAQAAAgIDAQQDAgsHAQABZgEBAAcFAUAAAQAGBwEAAAECAWgIBgEAAAQAAwsHAQABaAEDAABRDmNvbXBvbmVudC1uYW1lAQoAAAEBBWdfbG93AQ8AEQIABExpYmMBBE1haW4BDwASAgAEbGliYwIEbWFpbgELAQMAAWcBAWYDAWgBBQMBAAFt')
cfg = wasmtime.Config()
if isinstance(getattr(type(cfg), "wasm_component_model_map", None), property):
    cfg.wasm_component_model_map = True
else:
    from wasmtime import _ffi as ffi
    if not hasattr(ffi, "wasmtime_config_wasm_component_model_map_set"):
        sys.exit(print("this release cannot enable component-model maps") or 2)
    ffi.wasmtime_config_wasm_component_model_map_set(cfg.ptr(), True)
engine = wasmtime.Engine(cfg)
linker = Linker(engine)
linker.root().add_func("g", lambda store, x: x)
store = wasmtime.Store(engine)
instance = linker.instantiate(store, Component(engine, COMPONENT))
f, h = instance.get_func(store, "f"), instance.get_func(store, "h")
failed = []
for what, run in [("Func.type(store) of f", lambda: f.type(store).params[0][1]),
                  ("f(store, [(1, 'a')])", lambda: f(store, [(1, "a")])),
                  ("h(store): the guest calls the host's g with a map", lambda: h(store))]:
    try:
        run()
        print(f"OK: {what}")
    except TypeError as e:
        failed.append(what)
        print(f"FAIL: {what}: TypeError: {e}")
sys.exit(1 if failed else 0)
