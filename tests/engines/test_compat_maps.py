"""engines/compat and maps: the feature is turned on where the release has it (C API from 44,
Config property from 45) and a map component's rejection below 44 is a release limit."""
from __future__ import annotations

import wasmtime
from wasmtime import component as wc

from itfuzz.engines import compat

MAP_COMPONENT = '(component (type $m (map string u8)) (import "g" (func (param "x" $m))))'


def test_enable_maps_on_the_pinned_release():
    cfg = wasmtime.Config()
    assert compat.enable_maps(cfg)
    wc.Component(wasmtime.Engine(cfg), compat.component_bytes(MAP_COMPONENT))


def test_no_maps_before_44(monkeypatch):
    monkeypatch.setattr(compat, "release", lambda: (43, 0, 0))
    assert compat.enable_maps(wasmtime.Config()) is False


def test_map_rejections_are_release_limits_only_below_44(monkeypatch):
    errors = [wasmtime.WasmtimeError("failed to parse WebAssembly module\n\nCaused by:\n    "
                                     "Maps require the component model map feature (at offset 0xb)"),
              wasmtime.WasmtimeError("invalid leading byte (0x63) for component defined type")]
    for rel, limited in (((39, 0, 0), True), ((43, 0, 0), True), ((44, 0, 0), False)):
        monkeypatch.setattr(compat, "release", lambda rel=rel: rel)
        assert all((compat.release_limitation(e) is not None) == limited for e in errors)


def test_the_default_engine_refuses_maps():
    """Without the flag Wasmtime rejects maps: an engine missing it would look like a finding."""
    try:
        wc.Component(wasmtime.Engine(), MAP_COMPONENT)
    except wasmtime.WasmtimeError as e:
        assert "map" in str(e).lower()
    else:
        raise AssertionError("the default engine accepted a map type")
