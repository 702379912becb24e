"""Bytes → engine configuration (`itfuzz.model.engine_config`), read right after the signature.

The first choice picks Wasmtime's default engine (None; also what zero bytes decode to) or a
strategy; then each setting is left at Wasmtime's default or set. Only valid combinations are
made: Winch never gets signals-based traps off, exceptions on or an opt level; pooling only gets
the reservations its memories can grow in. The decoding does not depend on the release (a
setting a release cannot make is the engine layer's "unsupported" discard), so an input means the
same configuration on every release.
"""
from __future__ import annotations

from itfuzz.generators.unstructured import Unstructured
from itfuzz.model.engine_config import (
    GUARD_SIZES,
    OPT_LEVELS,
    POOL_RESERVATIONS,
    RESERVATIONS,
    STRATEGIES,
    EngineConfig,
)

TRI = (None, True, False)


def decode_config(u: Unstructured) -> EngineConfig | None:
    """None (the default engine) for a quarter of the first byte's values, else a configuration."""
    pick = u.choose_index(len(STRATEGIES) + 1)
    if pick == 0:
        return None
    strategy = STRATEGIES[pick - 1]
    winch = strategy == "winch"
    opt_level = None if winch else u.choose((None,) + OPT_LEVELS)
    pooling = u.bool()
    reservation = u.choose((None,) + (POOL_RESERVATIONS if pooling else RESERVATIONS))
    guard = u.choose((None,) + GUARD_SIZES)
    signals = u.choose((None, True) if winch else TRI)
    concurrency = u.choose(TRI)
    exceptions = u.choose((None, False) if winch else TRI)
    page_sizes = u.choose(TRI)
    return EngineConfig(strategy, opt_level, pooling, reservation, guard, signals, concurrency,
                        exceptions, page_sizes)
