"""A pooling engine whose slots are held by unreachable stores still instantiates."""
import gc

import pytest
import wasmtime
from wasmtime import component as wc

from itfuzz.engines.component_engine import POOL_FULL, instantiate_pooled
from itfuzz.engines.configs import POOL_LIMITS, make_engine
from itfuzz.model.engine_config import EngineConfig

COMPONENT = "(component (core module $m) (core instance (instantiate $m)))"


def _leak_stores(engine, component, linker, n):
    """n stores, each with an instance, kept alive only by reference cycles."""
    for _ in range(n):
        store = wasmtime.Store(engine)
        linker.instantiate(store, component)
        cycle = [store]
        cycle.append(cycle)


def test_full_pool_is_freed_by_collecting_garbage():
    engine = make_engine(EngineConfig("cranelift", pooling=True, memory_reservation=64 << 20))
    component, linker = wc.Component(engine, COMPONENT), wc.Linker(engine)
    gc.disable()
    try:
        _leak_stores(engine, component, linker, POOL_LIMITS["total_component_instances"])
        with pytest.raises(wasmtime.WasmtimeError, match=POOL_FULL):  # the pool really is full
            linker.instantiate(wasmtime.Store(engine), component)
        store = wasmtime.Store(engine)
        assert instantiate_pooled(lambda: linker.instantiate(store, component)) is not None
    finally:
        gc.enable()


def test_other_errors_are_not_retried():
    calls = []

    def make():
        calls.append(1)
        raise wasmtime.WasmtimeError("unknown import")
    with pytest.raises(wasmtime.WasmtimeError, match="unknown import"):
        instantiate_pooled(make)
    assert calls == [1]
