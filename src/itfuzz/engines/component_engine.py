"""The Wasmtime engine for component targets and the release under test."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import wasmtime


def make_component_engine() -> wasmtime.Engine:
    """An engine with Wasmtime's default configuration (component model on)."""
    return wasmtime.Engine(wasmtime.Config())


def wasmtime_version() -> str:
    """The installed wasmtime-py release (its version is Wasmtime's), or "?"."""
    try:
        return version("wasmtime")
    except PackageNotFoundError:
        return "?"
