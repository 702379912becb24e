#!/usr/bin/env python3
"""K13: wasmtime-py <= 43 loses the case of option/result/variant payloads that are themselves
variant-like (ValType.add_classes shadows VariantLikeType.add_classes, so they add no classes
to the tagging decision): a guest returning some(a) for option<variant{a}> reaches Python as
None, i.e. none. pip install wasmtime==43.0.0 && python3 THIS.py -> FAIL; 44.0.0 and later: OK."""
import base64, sys, wasmtime
from wasmtime.component import Component, Linker, Variant
# (component (type $v (variant (case "a"))) (import "v" (type $t (eq $v)))
#   (core module $m (memory (export "mem") 1) (data (i32.const 16) "\01\00")
#     (func (export "f") (result i32) (i32.const 16)))
#   (core instance $i (instantiate $m))
#   (func (export "f") (result (option $t))
#     (canon lift (core func $i "f") (memory (core memory $i "mem")))))
COMPONENT = base64.b64decode('AGFzbQ0AAQAHBwFxAQFhAAAKBwEAAXYDAAABQgBhc20BAAAAAQUBYAABfwMCAQAFAwEAAQcLAgNtZW0CAAFmAAAKBgEEAEEQCwsIAQBBEAsCAQAACQRuYW1lAAIBbQIEAQAAAAcHAmsBQAAAAgYPAgAAAQABZgACAQADbWVtCAgBAAAAAQMAAwsHAQABZgEAAAApDmNvbXBvbmVudC1uYW1lAQYAEQEAAW0BBgASAQABaQEIAwIAAXYBAXQ=')
engine = wasmtime.Engine()
store = wasmtime.Store(engine)
f = Linker(engine).instantiate(store, Component(engine, COMPONENT)).get_func(store, "f")
got = f(store)
f.post_return(store)
if got is None:
    sys.exit(print("FAIL: the guest returned some(a); the host got None (none)") or 1)
print("OK: got", got)
