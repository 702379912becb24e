"""The Wasmtime engine for component targets and the release under test."""
from __future__ import annotations

import wasmtime

from itfuzz.versions import wasmtime_version

__all__ = ["make_component_engine", "wasmtime_version"]


def make_component_engine() -> wasmtime.Engine:
    """An engine with Wasmtime's default configuration (component model on)."""
    return wasmtime.Engine(wasmtime.Config())
