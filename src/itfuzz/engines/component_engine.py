"""The Wasmtime engine for component targets and the release under test."""
from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TypeVar

import wasmtime

from itfuzz.engines.compat import enable_maps
from itfuzz.versions import wasmtime_version

__all__ = ["component_config", "instantiate_pooled", "make_component_engine", "wasmtime_version"]

T = TypeVar("T")
# How Wasmtime says a pooling allocator has no free slot.
POOL_FULL = "maximum concurrent"


def component_config() -> wasmtime.Config:
    """Wasmtime's default configuration (component model on), plus maps where the release has
    them (`compat.enable_maps`): the base of every component engine (`engines.configs`).
    Functions are compiled on the calling thread (`parallel_compilation` off: the same code;
    measured on the 2-core machine, a generated component compiles in 10–25 % less wall time
    for the same CPU time, and `-fork`/`-jobs` workers use the cores already)."""
    cfg = wasmtime.Config()
    cfg.parallel_compilation = False
    enable_maps(cfg)
    return cfg


def make_component_engine() -> wasmtime.Engine:
    """An engine with the default component configuration (`component_config`)."""
    return wasmtime.Engine(component_config())


def instantiate_pooled(make: Callable[[], T]) -> T:
    """`make()` (an instantiation); when a pooling engine has no free slot, collect garbage
    and try once more. A store kept alive by a reference cycle (a traceback that holds it)
    keeps its pool slots until the collector runs: without this, such leftovers of earlier
    inputs would fail a later input, a harness artefact rather than an outcome of the input."""
    try:
        return make()
    except Exception as e:  # wasmtime.WasmtimeError, or the C lane's LaneError
        if POOL_FULL not in str(e):
            raise
    gc.collect()
    return make()
