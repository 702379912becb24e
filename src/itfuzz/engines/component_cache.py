"""The on-disk cache of compiled components, shared by restarts and concurrent fuzzing processes.

A component compiled once is stored as `Component.serialize()` output and later loaded with
`Component.deserialize` (~0.1 ms instead of 3–11 ms of compiling). The key is the component text,
the engine configuration's key ("default" for Wasmtime's default engine; a non-default engine
must pass its own) and the wasmtime-py release, so a component is only loaded into the kind of
engine it was compiled for. Deserializing is only safe for bytes Wasmtime serialized itself:
`itfuzz.diskcache` hands out only intact files written under the same key, and a file that
Wasmtime still refuses (an engine it is not compatible with) is compiled again and replaced.
Only successful compiles are stored, so compile errors are classified exactly as without the
cache.

Off unless `enable()` is called: `itfuzz fuzz` turns it on in the fuzzing process
(``ITFUZZ_DISK_CACHE=1``, see `itfuzz.fuzzing`; ``--no-component-cache`` leaves it off); tests
turn it on themselves.
"""
from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from pathlib import Path

import wasmtime
from wasmtime import component as wc

from itfuzz.diskcache import DiskCache, cache_dir
from itfuzz.engines.compat import compile_component
from itfuzz.versions import wasmtime_version

__all__ = ["ComponentCache", "DEFAULT_CONFIG", "active", "compile_cached", "disable", "enable",
           "key"]

DEFAULT_CONFIG = "default"  # the config key of Wasmtime's default engine
DEFAULT_MAX_BYTES = 512 << 20  # ~15–100 KB a component: tens of thousands of components


def key(text: str, config_key: str, version: str | None = None) -> bytes:
    """The cache key of a component: its text's hash, the engine configuration, the release."""
    version = wasmtime_version() if version is None else version
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"component\0{version}\0{config_key}\0{digest}".encode()


class ComponentCache:
    """Compiled components on disk (in `directory`, default ``$ITFUZZ_CACHE/components``)."""

    def __init__(self, directory: str | Path | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.disk = DiskCache(directory if directory is not None else cache_dir() / "components",
                              max_bytes)
        self.rejected = 0  # intact files Wasmtime refused to deserialize

    def load(self, engine: wasmtime.Engine, text: str, config_key: str) -> wc.Component | None:
        """The stored component for this key, deserialized into `engine`, or None."""
        data = self.disk.get(key(text, config_key))
        if data is None:
            return None
        try:
            return wc.Component.deserialize(engine, data)
        except wasmtime.WasmtimeError:
            self.rejected += 1
            return None

    def store(self, text: str, config_key: str, component: wc.Component) -> None:
        self.disk.put(key(text, config_key), bytes(component.serialize()))


_active: list[ComponentCache | None] = [None]


def active() -> ComponentCache | None:
    """The cache compiles go through in this process, or None (off)."""
    return _active[0]


def enable(directory: str | Path | None = None,
           max_bytes: int = DEFAULT_MAX_BYTES) -> ComponentCache:
    _active[0] = ComponentCache(directory, max_bytes)
    return _active[0]


def disable() -> None:
    _active[0] = None


def compile_cached(engine: wasmtime.Engine, text: str, stats: MutableMapping[str, int],
                   config_key: str = DEFAULT_CONFIG) -> wc.Component:
    """`compat.compile_component`, through the active cache when there is one (counted in
    `stats` as "compile-disk-hits"); raises what compiling raises, and stores nothing then."""
    cache = active()
    if cache is None:
        return compile_component(engine, text)
    component = cache.load(engine, text, config_key)
    if component is not None:
        stats["compile-disk-hits"] = stats.get("compile-disk-hits", 0) + 1
        return component
    component = compile_component(engine, text)
    cache.store(text, config_key, component)
    return component
