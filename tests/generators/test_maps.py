"""map<K, V> in the generators: typegen draws maps only where allowed and with every key kind,
values keep duplicate keys, and map components validate (wasm-tools, feature `cm-map`) and
compile on Cranelift, Winch and Pulley with the host-facing functions free of maps."""
from __future__ import annotations

import random
import re
import subprocess

import pytest
import wasmtime
from wasmtime import component as wc

from itfuzz.engines.compat import enable_maps, set_target
from itfuzz.generators.components import component_text, func_type
from itfuzz.generators.signatures import decode_roundtrip, decode_signature
from itfuzz.generators.typegen import TypeGen
from itfuzz.generators.unstructured import Unstructured
from itfuzz.generators.valuegen import ValueGen
from itfuzz.model.case import Signature
from itfuzz.model.types import MAP_KEY_KINDS, PRIMS, List, Map, Record, Tuple, walk, without_maps


def inputs(n: int, seed: int = 3):
    rng = random.Random(seed)
    for _ in range(n):
        yield rng.randbytes(rng.choice((16, 64, 256, 1024)))


def map_cases(n: int, shape: str = "composed", seed: int = 3):
    """The first `n` decoded round-trip cases of `shape` whose types hold a map."""
    out = []
    for data in inputs(400 * n, seed):
        tc = decode_roundtrip(data)
        if tc.sig.has_maps and tc.sig.shape == shape:
            out.append(tc)
            if len(out) == n:
                return out
    raise AssertionError(f"only {len(out)} {shape} map cases")


def test_typegen_draws_maps_only_when_allowed():
    without, with_maps = 0, 0
    keys = set()
    for data in inputs(3000):
        t_off = TypeGen(Unstructured(data)).gen()
        t_on = TypeGen(Unstructured(data), maps=True).gen()
        without += any(n.kind == "map" for n in walk(t_off))
        for n in walk(t_on):
            if isinstance(n, Map):
                with_maps += 1
                keys.add(n.key.kind)
    assert without == 0
    assert with_maps > 100
    assert keys == set(MAP_KEY_KINDS)  # every allowed key kind, and no other


def test_decode_signature_maps_by_shape():
    """Without `maps` no signature holds one; with it, composed signatures may, and about one
    single-shape signature in 8 (the others never)."""
    plain = [decode_signature(Unstructured(d)) for d in inputs(1500)]
    assert not any(s.has_maps for s in plain)
    sigs = [decode_roundtrip(d).sig for d in inputs(3000)]
    composed = [s for s in sigs if s.shape == "composed"]
    single = [s for s in sigs if s.shape == "single"]
    assert sum(s.has_maps for s in composed) > 0.15 * len(composed)
    assert 0 < sum(s.has_maps for s in single) < 0.1 * len(single)


def test_map_rejects_keys_the_spec_does_not_allow():
    for bad in (PRIMS["f32"], PRIMS["f64"], List(PRIMS["u8"]), Tuple((PRIMS["u8"],))):
        with pytest.raises(ValueError):
            Map(bad, PRIMS["u8"])


def test_values_keep_duplicate_keys_empty_and_large_maps():
    t = Map(PRIMS["u8"], PRIMS["u32"])
    dups = empty = large = 0
    for data in inputs(2000, seed=5):
        v = ValueGen(Unstructured(data)).gen(t)
        assert type(v) is list and all(type(e) is tuple and len(e) == 2 for e in v)
        keys = [k for k, _ in v]
        dups += len(set(keys)) < len(keys)
        empty += not v
        large += len(v) >= 64
    assert dups > 100 and empty > 50 and large > 0


def test_host_facing_functions_hold_no_map():
    """Composed: the outer import `g` and the caller's lifted `f` use list<tuple<K, V>>; the map
    appears in the caller's import and the callee's export (the fused adapter) only."""
    for tc in map_cases(20):
        sig, wat = tc.sig, component_text(tc.sig)
        host, inner = func_type(sig, host=True), func_type(sig)
        assert "(map " not in host and "(map " in wat
        assert f'(import "g" (func $g {host}))' in wat  # outer and callee
        assert f'(import "g" (func $g {inner}))' in wat  # caller
        assert f"(func $f {host}" in wat and f"(func $f {inner}" in wat
        assert not any(n.kind == "map" for t in sig.types() for n in walk(sig.host_type(t)))


def test_without_maps_is_the_list_of_pairs():
    t = Record((("a", Map(PRIMS["string"], Map(PRIMS["u8"], PRIMS["bool"]))),))
    assert without_maps(t) == Record((("a", List(Tuple((
        PRIMS["string"], List(Tuple((PRIMS["u8"], PRIMS["bool"])))))),),))
    plain = List(PRIMS["u8"])
    assert without_maps(plain) is plain


def _validate(wasm_tools, wat: str, tmp_path, features: str) -> subprocess.CompletedProcess:
    src, out = tmp_path / "c.wat", tmp_path / "c.wasm"
    src.write_text(wat)
    subprocess.run([wasm_tools, "parse", str(src), "-o", str(out)], check=True,
                   env={"WAST_STRICT_COMPONENT_INDICES": "1"})
    return subprocess.run([wasm_tools, "validate", f"--features={features}", str(out)],
                          capture_output=True, text=True)


def test_map_components_validate_with_the_map_feature(wasm_tools, tmp_path):
    cases = map_cases(25) + map_cases(5, shape="single")
    for tc in cases:
        wat = component_text(tc.sig)
        v = _validate(wasm_tools, wat, tmp_path, "cm-map")
        assert v.returncode == 0, f"{v.stderr}\n{wat[:3000]}"
    # the flag matters: without it wasm-tools rejects the same component
    v = _validate(wasm_tools, component_text(cases[0].sig), tmp_path, "-cm-map")
    assert v.returncode != 0 and "map" in v.stderr.lower()


def _engine(kind: str) -> wasmtime.Engine:
    cfg = wasmtime.Config()
    assert enable_maps(cfg)
    if kind == "winch":  # wasmtime-py's `strategy` setter knows no Winch: the C API's code 2
        from wasmtime import _ffi as ffi
        ffi.wasmtime_config_strategy_set(cfg.ptr(), 2)
    elif kind == "pulley":
        set_target(cfg, "pulley64")
    return wasmtime.Engine(cfg)


@pytest.mark.parametrize("kind", ["cranelift", "winch", "pulley"])
def test_map_components_compile_on_every_engine(kind):
    engine = _engine(kind)
    for tc in map_cases(8, seed=11):
        wc.Component(engine, component_text(tc.sig))


def test_the_default_engine_rejects_maps_without_the_flag():
    sig = Signature((("x", Map(PRIMS["string"], PRIMS["u8"])),), None, shape="composed",
                    callee_encoding="utf8")
    with pytest.raises(wasmtime.WasmtimeError, match="map"):
        wc.Component(wasmtime.Engine(), component_text(sig))
    assert re.search(r"\(map string u8\)", component_text(sig))
