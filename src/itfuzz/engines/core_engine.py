"""Core Wasm on Wasmtime (Cranelift, Winch, Pulley) with raw bits: engines, calls through the C API,
globals, tables and memories read without wasmtime-py's float conversions."""
from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import wasmtime
from wasmtime import WasmtimeError
from wasmtime import _ffi as ffi
from wasmtime._func import enter_wasm

from itfuzz.engines.compat import WINCH_SINCE, release, set_nan_canonicalization, set_target
from itfuzz.findings import Discard
from itfuzz.spec.values import Value, comparable

# Wasmtime trap codes by name -> the spec interpreter's kinds ("undefined_element", a call_indirect
# index past the table's end, is Wasmtime's table-out-of-bounds).
WASMTIME_KINDS = {
    "UNREACHABLE": "unreachable", "INTEGER_DIVISION_BY_ZERO": "div_by_zero",
    "INTEGER_OVERFLOW": "int_overflow", "BAD_CONVERSION_TO_INTEGER": "bad_conversion",
    "MEMORY_OUT_OF_BOUNDS": "oob_memory", "TABLE_OUT_OF_BOUNDS": "oob_table",
    "INDIRECT_CALL_TO_NULL": "uninitialized_element", "BAD_SIGNATURE": "indirect_type_mismatch",
}
SPEC_KINDS = {"undefined_element": "oob_table"}
# Wasmtime outcomes that depend on the machine or on limits, not on the module: discarded.
WASMTIME_DISCARD = ("STACK_OVERFLOW", "OUT_OF_FUEL", "INTERRUPT", "ALLOCATION_TOO_LARGE")
# Compile errors that mean "this engine does not implement that" (Winch has no GC heap, so no
# externref), not "Wasmtime rejects a valid module".
UNSUPPORTED = {"cranelift": ("unsupported", "not supported"),
               "pulley": ("unsupported", "not supported"),
               "winch": ("unsupported", "not supported", "gc types are disallowed")}


def make_core_engine(kind: str, nan_canonicalization: bool = False):
    """A Wasmtime engine for ``kind``.

    Wasmtime's NaN canonicalization stays off: wasm-smith's ``--canonicalize-nans`` canonicalizes
    arithmetic results but not ``f32.demote_f64`` / ``f64.promote_f32`` of a NaN constant, whose
    result the spec leaves open (any arithmetic NaN). Wasmtime with canonicalization makes it
    0x7fc00000 while the interpreter keeps sign and payload (as the hardware does), and the bits
    escape through ``reinterpret`` into integers and memory. Without it, all three engines and
    the interpreter agree (tests/oracles/test_differential.py: test_nan_conversions_agree)."""
    cfg = wasmtime.Config()
    set_nan_canonicalization(cfg, nan_canonicalization)
    if kind == "winch" and release() < WINCH_SINCE:
        # the C API's strategy enum has no WINCH yet: the value 2 silently means Cranelift
        raise Discard("unsupported:winch")
    if kind == "winch":
        # wasmtime-py's `strategy` knows "auto" and "cranelift" only; 2 is WASMTIME_WINCH
        ffi.wasmtime_config_strategy_set(cfg.ptr(), 2)
    elif kind == "pulley":
        set_target(cfg, "pulley64")  # (before 45 only through the C API: see compat)
    elif kind != "cranelift":
        raise ValueError(f"unknown engine {kind!r}")
    return wasmtime.Engine(cfg)


def core_value_from_wasmtime(t: str, x: Any) -> Value:
    if t in ("funcref", "externref"):
        null = x is None or (isinstance(x, wasmtime.Val) and x.value is None)
        return Value(t, None if null else 0)
    return Value.of(t, x)


def core_value_to_wasmtime(v: Value) -> Any:
    return None if v.bits is None else v.to_py()



def memory_bytes(store, memory) -> bytes:
    """A memory's whole contents."""
    return ctypes.string_at(memory.data_ptr(store), memory.data_len(store))


def raw_caller(store, func, params: tuple[str, ...], results: tuple[str, ...]) -> Callable:
    """``call(args) -> results`` through the C API with raw bits both ways (wasmtime-py's
    ``Func.__call__`` rebuilds the function type and converts floats through C floats)."""
    kind = {"i32": ffi.WASMTIME_I32, "i64": ffi.WASMTIME_I64, "f32": ffi.WASMTIME_F32,
            "f64": ffi.WASMTIME_F64, "funcref": ffi.WASMTIME_FUNCREF,
            "externref": ffi.WASMTIME_EXTERNREF}
    pkinds = [kind[t].value for t in params]
    narrow = [t in ("i32", "f32") for t in params]
    pt, rt = ffi.wasmtime_val_t * max(len(params), 1), ffi.wasmtime_val_t * max(len(results), 1)
    ctx, ref, np, nr = store._context(), ctypes.byref(func._func), len(params), len(results)

    def call(args: tuple[Value, ...]) -> tuple[Value, ...]:
        ps, rs = pt(), rt()
        for p, k, small, v in zip(ps, pkinds, narrow, args):
            p.kind = k
            if v.bits is None:
                continue  # a null reference: all-zero payload
            if small:
                p.of.i32 = v.bits - (1 << 32) if v.bits >> 31 else v.bits
            else:
                p.of.i64 = v.bits - (1 << 64) if v.bits >> 63 else v.bits
        with enter_wasm(store) as trap:
            error = ffi.wasmtime_func_call(ctx, ref, ps, np, rs, nr, trap)
            if error:
                raise WasmtimeError._from_ptr(error)
        out = []
        for t, r in zip(results, rs):
            if t in ("i32", "f32"):
                out.append(Value(t, r.of.i32 & 0xFFFFFFFF))
            elif t in ("i64", "f64"):
                out.append(Value(t, r.of.i64 & 0xFFFFFFFFFFFFFFFF))
            else:
                null = (r.of.funcref if t == "funcref" else r.of.externref).store_id == 0
                ffi.wasmtime_val_unroot(ctypes.byref(r))
                out.append(Value(t, None if null else 0))
        return tuple(out)
    return call


def global_value(store, glob, t: str) -> Value:
    """A global's value as raw bits (numbers) or null-ness (references)."""
    if t in ("funcref", "externref"):
        return core_value_from_wasmtime(t, glob.value(store))
    raw = ffi.wasmtime_val_t()
    ffi.wasmtime_global_get(store._context(), ctypes.byref(glob._global), ctypes.byref(raw))
    if t in ("i32", "f32"):
        return Value(t, raw.of.i32 & 0xFFFFFFFF)
    return Value(t, raw.of.i64 & 0xFFFFFFFFFFFFFFFF)


def table_state(store, table, reftype: str) -> tuple:
    """Null-ness of every element (funcref read raw: one FFI call per element, no wrapper)."""
    if reftype != "funcref":
        return tuple(comparable(core_value_from_wasmtime(reftype, table.get(store, i)))
                     for i in range(table.size(store)))
    raw = ffi.wasmtime_val_t()
    ctx, ref, out = store._context(), ctypes.byref(table._table), ctypes.byref(raw)
    null, nonnull = ("funcref", "null"), ("funcref", "ref")
    items = []
    for i in range(table.size(store)):
        ffi.wasmtime_table_get(ctx, ref, i, out)
        items.append(nonnull if raw.of.funcref.store_id else null)
    return tuple(items)


