"""Engines for `EngineConfig`s (`itfuzz.model.engine_config`): the `wasmtime.Config` of each, one
cached engine per configuration, the check that an engine compiles with the strategy it was asked
for, and the start-up feature probe (`itfuzz features`).

Every setting goes through the C API's setter (`wasmtime._bindings`): wasmtime-py has no property
for Winch, pooling or concurrency support, and one path serves every release. A setting whose
setter the release lacks makes the configuration unsupported there: inputs choosing it are
discarded as `unsupported:SETTING` (counted), never run on another configuration.
"""
from __future__ import annotations

import ctypes
from collections.abc import Callable
from dataclasses import replace

import wasmtime
from wasmtime import _bindings as capi

from itfuzz.engines.compat import CONCURRENCY_SINCE, WINCH_SINCE, compile_component, release
from itfuzz.engines.component_engine import component_config
from itfuzz.findings import Discard
from itfuzz.lru import LRU
from itfuzz.model.engine_config import EXCLUDED, EngineConfig
from itfuzz.versions import wasmtime_version

STRATEGY_CODES = {"cranelift": 1, "winch": 2}  # wasmtime_strategy_t (pulley: a target)
OPT_CODES = {"none": 0, "speed": 1, "speed_and_size": 2}  # wasmtime_opt_level_t
# The C API setter each setting needs (field name → binding); a release without it cannot
# make the setting.
SETTERS = {
    "opt_level": "wasmtime_config_cranelift_opt_level_set",
    "pooling": "wasmtime_pooling_allocation_strategy_set",
    "memory_reservation": "wasmtime_config_memory_reservation_set",
    "guard_size": "wasmtime_config_memory_guard_size_set",
    "signals_based_traps": "wasmtime_config_signals_based_traps_set",
    "concurrency": "wasmtime_config_concurrency_support_set",
    "exceptions": "wasmtime_config_wasm_exceptions_set",
    "custom_page_sizes": "wasmtime_config_wasm_custom_page_sizes_set",
}
# Pool sizes: an input's store holds at most 4 memories (hostile guests: 2 per module) and 6 core
# instances and is freed before the next input, so a few slots suffice; small totals keep the
# reserved address space small (cached components keep their engines, and so their pools, alive).
POOL_LIMITS = {"total_component_instances": 8, "total_core_instances": 32,
               "total_memories": 16, "total_tables": 8, "total_stacks": 8,
               "max_memories_per_module": 2}
PROBE_VALUES = {"opt_level": "speed", "pooling": True, "memory_reservation": 1 << 32,
                "guard_size": 0, "signals_based_traps": True, "concurrency": True,
                "exceptions": True, "custom_page_sizes": True}  # a setting each, for `probe`
PROBE_MODULE = '(module (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add))'
TINY_COMPONENT = "(component (core module $m) (core instance (instantiate $m)))"


def engine_name(config: EngineConfig | None) -> str:
    """How findings name the engine (`Finding.engine`, what triage groups by): the release only,
    so one bug on several configurations stays one group; the configuration is `Finding.config`,
    a line of the report."""
    return f"wasmtime {wasmtime_version()}"


class StrategyMismatch(Exception):
    """An engine does not compile with the strategy its configuration asked for."""


def unsupported(config: EngineConfig) -> str | None:
    """The first setting of `config` this release cannot make, or None. A setting switched off
    that the release does not have at all (no setter) is what the release is: supported."""
    if config.strategy == "winch" and release() < WINCH_SINCE:
        return "strategy:winch"
    if config.concurrency and release() < CONCURRENCY_SINCE:
        return "concurrency"
    for name, setter in SETTERS.items():
        value = getattr(config, name)
        if value is not None and value is not False and not hasattr(capi, setter):
            return name
    return None


def setter_calls(config: EngineConfig) -> list[tuple[str, int | bool | bytes]]:
    """The C API calls that make `config`, as (setter, value): each setter takes the
    `wasm_config_t` pointer and the value (bytes: a C string). Reproducer scripts make the same
    calls (`ops.script_parts`)."""
    calls: list[tuple[str, int | bool | bytes]] = []
    if config.strategy == "pulley":
        calls.append(("wasmtime_config_target_set", b"pulley64"))
    else:
        calls.append(("wasmtime_config_strategy_set", STRATEGY_CODES[config.strategy]))
    if config.opt_level is not None:
        calls.append((SETTERS["opt_level"], OPT_CODES[config.opt_level]))
    for name in ("memory_reservation", "guard_size", "signals_based_traps", "concurrency",
                 "exceptions", "custom_page_sizes"):
        value = getattr(config, name)
        if value is not None:
            calls.append((SETTERS[name], value))
    return calls


def pool_calls(config: EngineConfig) -> list[tuple[str, int]]:
    """The pooling allocator's settings (setters taking the pooling config), [] for on-demand."""
    if not config.pooling:
        return []
    calls = [(f"wasmtime_pooling_allocation_config_{name}_set", n) for name, n in POOL_LIMITS.items()]
    if config.memory_reservation is not None:  # the pool refuses a max size above it
        calls.append(("wasmtime_pooling_allocation_config_max_memory_size_set",
                      config.memory_reservation))
    return calls


def wasmtime_config(config: EngineConfig, base: wasmtime.Config | None = None) -> wasmtime.Config:
    """`base` (by default the one of every component engine: `component_config`) with every
    setting of `config` made."""
    cfg = base if base is not None else component_config()
    ptr = cfg.ptr()
    for setter, value in setter_calls(config):
        if isinstance(value, bytes):
            error = getattr(capi, setter)(ptr, ctypes.c_char_p(value))
            if error:
                raise wasmtime.WasmtimeError._from_ptr(error)
        elif hasattr(capi, setter) or value is not False:
            getattr(capi, setter)(ptr, value)
    if config.pooling:
        pool = capi.wasmtime_pooling_allocation_config_new()
        try:
            for setter, n in pool_calls(config):
                getattr(capi, setter)(pool, n)
            capi.wasmtime_pooling_allocation_strategy_set(ptr, pool)  # copies the pool config
        finally:
            capi.wasmtime_pooling_allocation_config_delete(pool)
    return cfg


def make_engine(config: EngineConfig) -> wasmtime.Engine:
    """A new engine for `config` (`Discard` when this release cannot make it)."""
    missing = unsupported(config)
    if missing:
        raise Discard(f"unsupported:{missing}")
    return wasmtime.Engine(wasmtime_config(config))


def artifact(engine: wasmtime.Engine) -> bytes:
    """A small core module compiled on `engine` and serialized (an ELF file)."""
    return bytes(wasmtime.Module(engine, PROBE_MODULE).serialize())


def check_strategy(engine: wasmtime.Engine, config: EngineConfig) -> None:
    """Raise `StrategyMismatch` unless `engine` compiles with `config.strategy`: Pulley emits
    Pulley bytecode (ELF machine 0xF3, not the host's), and Winch's code differs from what the
    same configuration makes with Cranelift."""
    art = artifact(engine)
    pulley = int.from_bytes(art[18:20], "little") == 0xF3
    if pulley != (config.strategy == "pulley"):
        raise StrategyMismatch(f"{config.text()}: the engine compiles "
                               f"{'Pulley bytecode' if pulley else 'native code'}")
    if config.strategy == "winch":
        cranelift = make_engine(replace(config, strategy="cranelift"))
        if artifact(cranelift) == art:
            raise StrategyMismatch(f"{config.text()}: the engine compiles exactly as Cranelift")


class Engines:
    """One engine per configuration, the default engine for None; each new engine's strategy is
    checked once (`check_strategy`). At most `size` configurations keep an engine (LRU): making
    one more first evicts the least recently used one and calls `on_evict(config)`, where the
    owner drops what it holds of that engine (its compiled components), so no more than `size`
    configured engines stay alive (a pooling engine reserves up to ~100 GiB of address space)."""

    def __init__(self, default: wasmtime.Engine, size: int = 32,
                 on_evict: Callable[[EngineConfig], None] | None = None) -> None:
        self.default = default
        self.cache: LRU = LRU(size)
        self.on_evict = on_evict
        self.made: dict[str, int] = {}  # engines made per strategy

    def get(self, config: EngineConfig | None) -> wasmtime.Engine:
        """Raises `Discard` (unsupported here) or `StrategyMismatch`."""
        if config is None:
            return self.default
        return self.cache.get_or_make(config, lambda: self._make(config))

    def touch(self, config: EngineConfig | None) -> None:
        """`config`'s engine was used (a cache hit on one of its components): the least recently
        *used* engine is the one evicted, not the least recently compiled with."""
        if config is not None and config in self.cache:
            self.cache.move_to_end(config)

    def _make(self, config: EngineConfig) -> wasmtime.Engine:
        engine = make_engine(config)
        check_strategy(engine, config)
        self.made[config.strategy] = self.made.get(config.strategy, 0) + 1
        while len(self.cache) >= self.cache.size:
            old, _ = self.cache.popitem(last=False)
            if self.on_evict is not None:
                self.on_evict(old)
        return engine


# -- the start-up feature probe ---------------------------------------------------------------

def _strategy_works(strategy: str) -> str | None:
    """None when a tiny component compiles on that strategy here, else the error's first line."""
    try:
        engine = make_engine(EngineConfig(strategy))
        check_strategy(engine, EngineConfig(strategy))
        compile_component(engine, TINY_COMPONENT)
    except (wasmtime.WasmtimeError, Discard, StrategyMismatch) as e:
        return str(e).strip().splitlines()[0]
    return None


def fixed_length_lists() -> str:
    """Whether `list<T, N>` can be enabled on this release, in words."""
    setter = [n for n in dir(capi) if "fixed_length_list" in n]
    if setter:
        return f"possible: the C API has {setter[0]} (add list<T, N> to the type model)"
    try:
        compile_component(wasmtime.Engine(), "(component (type $t (list u8 4)))")
    except wasmtime.WasmtimeError as e:
        return ("no: no setter in wasmtime-py's C API and the default engine refuses them "
                f"({str(e).strip().splitlines()[-1].strip()})")
    return "on by default in this release (add list<T, N> to the type model)"


def probe() -> list[str]:
    """One line per feature: whether this release supports it (printed by `itfuzz fuzz` at start
    and by `itfuzz features`), then the combinations the configurations never use."""
    lines = []
    for strategy in ("cranelift", "winch", "pulley"):
        error = _strategy_works(strategy)
        lines.append(f"strategy {strategy}: {'yes' if error is None else 'no: ' + error}")
    for name in SETTERS:
        why = unsupported(EngineConfig(**{name: PROBE_VALUES[name]}))
        lines.append(f"{name}: " + ("yes" if why is None else
                                    f"no ({why}: inputs choosing it are discarded)"))
    lines.append(f"fixed-length lists list<T, N>: {fixed_length_lists()}")
    lines += [f"never combined: {what} ({why})" for what, why in EXCLUDED]
    return lines


