"""Our canonical-ABI model, written from CanonicalABI.md (pure Python, no wasmtime).

Sync lifting and lowering for a 32-bit memory, one module per spec section:
`errors` (Trap, REASONS), `context` (Context, ReallocCall, BumpRealloc), `layout`
(alignment, elem_size, flatten_type, flatten_functype, …), `strings` (load_string,
store_string and the transcoders), `load`, `store`, `flat` (lift_flat, lower_flat,
lift_flat_values, lower_flat_values). Function names are the spec's.
"""
from itfuzz.abi.context import BumpRealloc, Context, ReallocCall
from itfuzz.abi.errors import REASONS, Trap
from itfuzz.abi.flat import lift_flat, lift_flat_values, lower_flat, lower_flat_values
from itfuzz.abi.layout import (
                               MAX_FLAT_PARAMS,
                               MAX_FLAT_RESULTS,
                               alignment,
                               discriminant_type,
                               elem_size,
                               flatten_functype,
                               flatten_type,
                               join,
)
from itfuzz.abi.load import load
from itfuzz.abi.store import store
from itfuzz.abi.strings import UTF16_TAG, String, load_string, store_string

__all__ = [
    "BumpRealloc", "Context", "ReallocCall", "REASONS", "Trap", "lift_flat", "lift_flat_values",
    "lower_flat", "lower_flat_values", "MAX_FLAT_PARAMS", "MAX_FLAT_RESULTS", "alignment",
    "discriminant_type", "elem_size", "flatten_functype", "flatten_type", "join", "load", "store",
    "UTF16_TAG", "String", "load_string", "store_string",
]
