"""The Wasmtime engine for component targets and the release under test."""
from __future__ import annotations

import wasmtime

from itfuzz.engines.compat import enable_maps
from itfuzz.versions import wasmtime_version

__all__ = ["component_config", "make_component_engine", "wasmtime_version"]


def component_config() -> wasmtime.Config:
    """Wasmtime's default configuration (component model on), plus maps where the release has
    them (`compat.enable_maps`): the base of every component engine (`engines.configs`)."""
    cfg = wasmtime.Config()
    enable_maps(cfg)
    return cfg


def make_component_engine() -> wasmtime.Engine:
    """An engine with the default component configuration (`component_config`)."""
    return wasmtime.Engine(component_config())
