"""The C lane's value layout against wasmtime-py's ctypes definitions of the same structs.

The lane's declarations (`lane.h`) are ours, written from the C API's documentation; the
release's own layout is in the `wasmtime._bindings` it ships. Any difference means the lane
would misread values, so it refuses to run.
"""
from __future__ import annotations

import ctypes

# The order of `itl_layout`'s output in lane.c.
KEYS = ("val.size", "val.of", "union.size", "name.size", "vec.size", "vec.data", "entry.size",
        "entry.val", "variant.size", "variant.val", "result.size", "result.val", "func.size",
        "instance.size")
# Opaque handles the lane only passes by pointer to the library: its buffers must be big enough.
AT_LEAST = ("func.size", "instance.size")


class LayoutMismatch(Exception):
    """The lane's struct layout differs from the release's."""


def python_layout() -> dict[str, int]:
    """The layout wasmtime-py's ctypes definitions give (every vector kind must agree)."""
    from wasmtime import _bindings as b
    vecs = {ctypes.sizeof(getattr(b, f"wasmtime_component_val{v}_t"))
            for v in ("list", "record", "tuple", "flags")}
    offsets = {getattr(b, f"wasmtime_component_val{v}_t").data.offset
               for v in ("list", "record", "tuple", "flags")}
    return {
        "val.size": ctypes.sizeof(b.wasmtime_component_val_t),
        "val.of": b.wasmtime_component_val_t.of.offset,
        "union.size": ctypes.sizeof(b.wasmtime_component_valunion_t),
        "name.size": ctypes.sizeof(b.wasm_name_t),
        "vec.size": vecs.pop() if len(vecs) == 1 else -1,
        "vec.data": offsets.pop() if len(offsets) == 1 else -1,
        "entry.size": ctypes.sizeof(b.wasmtime_component_valrecord_entry_t),
        "entry.val": b.wasmtime_component_valrecord_entry_t.val.offset,
        "variant.size": ctypes.sizeof(b.wasmtime_component_valvariant_t),
        "variant.val": b.wasmtime_component_valvariant_t.val.offset,
        "result.size": ctypes.sizeof(b.wasmtime_component_valresult_t),
        "result.val": b.wasmtime_component_valresult_t.val.offset,
        "func.size": ctypes.sizeof(b.wasmtime_component_func_t),
        "instance.size": ctypes.sizeof(b.wasmtime_component_instance_t),
    }


def c_layout(ffi, lib) -> dict[str, int]:
    out = ffi.new("size_t[]", len(KEYS))
    lib.itl_layout(out)
    return dict(zip(KEYS, out))


def check(c: dict[str, int], py: dict[str, int]) -> None:
    """Raises `LayoutMismatch` naming every field where the two layouts differ."""
    bad = [f"{k}: lane {c.get(k)} vs wasmtime-py {py.get(k)}" for k in KEYS
           if (c[k] < py[k] if k in AT_LEAST else c[k] != py[k])]
    if bad:
        raise LayoutMismatch("the C lane's value layout differs from this wasmtime-py release's "
                             "(" + "; ".join(bad) + "): the C lane is off")
