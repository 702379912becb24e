"""The on-disk compiled-component cache: a restart loads instead of compiling, a damaged file is
compiled again (never deserialized), the key separates configurations and releases, and compile
errors are classified exactly as without the cache."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import wasmtime
from wasmtime import component as wc

from itfuzz.diskcache import MAGIC
from itfuzz.engines import component_cache
from itfuzz.findings import Finding
from itfuzz.generators.components import component_text
from itfuzz.generators.signatures import decode_roundtrip
from itfuzz.oracles.compile import compile_checked

ROOT = Path(__file__).resolve().parents[2]
TEXT = component_text(decode_roundtrip(bytes(range(7, 90))).sig)


@pytest.fixture
def cache(tmp_path):
    c = component_cache.enable(tmp_path / "components")
    yield c
    component_cache.disable()


@pytest.fixture
def counted(monkeypatch):
    """Counts of Wasmtime compiles and deserializations made through the cache."""
    calls = {"compile": 0, "deserialize": 0}
    compile_component, deserialize = component_cache.compile_component, wc.Component.deserialize

    def compile_counted(engine, text):
        calls["compile"] += 1
        return compile_component(engine, text)

    def deserialize_counted(engine, data):
        calls["deserialize"] += 1
        return deserialize(engine, data)
    monkeypatch.setattr(component_cache, "compile_component", compile_counted)
    monkeypatch.setattr(wc.Component, "deserialize", staticmethod(deserialize_counted))
    return calls


def test_off_by_default_and_on_when_enabled(engine, counted, tmp_path):
    assert component_cache.active() is None
    stats: dict = {}
    component_cache.compile_cached(engine, TEXT, stats)
    component_cache.compile_cached(engine, TEXT, stats)
    assert counted == {"compile": 2, "deserialize": 0} and not stats
    component_cache.enable(tmp_path)
    try:
        component_cache.compile_cached(engine, TEXT, stats)
        component_cache.compile_cached(engine, TEXT, stats)
    finally:
        component_cache.disable()
    assert counted == {"compile": 3, "deserialize": 1} and stats["compile-disk-hits"] == 1


CHILD = """
import json, sys
from itfuzz import targets
from itfuzz.engines import component_cache
component_cache.enable(sys.argv[1])
compiles = [0]
real = component_cache.compile_component
def counted(engine, text):
    compiles[0] += 1
    return real(engine, text)
component_cache.compile_component = counted
target = targets.get("component_roundtrip")
for path in sys.argv[2:]:
    try:
        target.execute(open(path, "rb").read(), skip_known=True)
    except Exception:
        pass
print(json.dumps({"wasmtime_compiles": compiles[0], **target.oracle.stats}))
"""


def _child(directory: Path, inputs: list[Path]) -> dict:
    import json
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run([sys.executable, "-c", CHILD, str(directory), *map(str, inputs)],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_restart_loads_instead_of_compiling(tmp_path):
    inputs = sorted((ROOT / "corpus" / "component_roundtrip").iterdir())[:12]
    first = _child(tmp_path, inputs)
    assert first["wasmtime_compiles"] == first["compiles"] > 0
    assert first.get("compile-disk-hits", 0) == 0
    second = _child(tmp_path, inputs)  # a new process: everything comes from disk
    assert second["compiles"] == first["compiles"]
    assert second["wasmtime_compiles"] == 0
    assert second["compile-disk-hits"] == first["compiles"]
    assert second["calls"] == first["calls"]


@pytest.mark.parametrize("damage", ["truncate", "bitflip"])
def test_a_damaged_file_is_compiled_again_not_deserialized(engine, cache, counted, damage):
    stats: dict = {}
    component_cache.compile_cached(engine, TEXT, stats)
    path = cache.disk.path(component_cache.key(TEXT, "default"))
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:len(data) // 2]
    else:
        data[len(data) // 2] ^= 0x04  # inside the serialized component
    path.write_bytes(bytes(data))
    component_cache.compile_cached(engine, TEXT, stats)
    assert counted == {"compile": 2, "deserialize": 0}
    assert cache.disk.stats["corrupt"] == 1
    assert path.read_bytes().startswith(MAGIC)  # stored again, intact
    component_cache.compile_cached(engine, TEXT, stats)
    assert counted == {"compile": 2, "deserialize": 1} and stats["compile-disk-hits"] == 1


def test_an_intact_file_wasmtime_refuses_is_compiled_again(engine, cache, counted):
    """An entry Wasmtime will not load into this engine (here: a core module's artifact) is a
    miss, then replaced by a good one."""
    module = wasmtime.Module(engine, "(module)").serialize()
    cache.disk.put(component_cache.key(TEXT, "default"), bytes(module))
    stats: dict = {}
    assert isinstance(component_cache.compile_cached(engine, TEXT, stats), wc.Component)
    assert counted["compile"] == 1 and cache.rejected == 1
    component_cache.compile_cached(engine, TEXT, stats)
    assert counted["compile"] == 1 and stats["compile-disk-hits"] == 1


def key_problems(cache: component_cache.ComponentCache, engine, monkeypatch) -> list[str]:
    """What the cache hands out that it must not: a component stored for another engine
    configuration or another release, or nothing where it should hit."""
    component = wc.Component(engine, TEXT)
    cache.store(TEXT, "config-a", component)
    problems = []
    if cache.load(engine, TEXT, "config-b") is not None:
        problems.append("other-config")
    if cache.load(engine, TEXT.replace("libc", "libd"), "config-a") is not None:
        problems.append("other-text")
    with monkeypatch.context() as m:
        m.setattr(component_cache, "wasmtime_version", lambda: "0.0.1-other")
        if cache.load(engine, TEXT, "config-a") is not None:
            problems.append("other-release")
    if cache.load(engine, TEXT, "config-a") is None:
        problems.append("no-hit")
    return problems


def test_key_separates_configurations_releases_and_texts(engine, cache, monkeypatch):
    assert key_problems(cache, engine, monkeypatch) == []


@pytest.mark.parametrize("ignored", ["config", "release"])
def test_planted_key_fault_is_caught(engine, cache, monkeypatch, ignored):
    """A cache that returns the component of another configuration or release is caught."""
    real = component_cache.key

    def faulty(text, config_key, version=None):
        if ignored == "config":
            return real(text, "any", version)
        return real(text, config_key, "any")
    monkeypatch.setattr(component_cache, "key", faulty)
    assert key_problems(cache, engine, monkeypatch) == [f"other-{ignored}"]


@pytest.mark.parametrize("on", [False, True])
def test_compile_errors_are_classified_as_without_the_cache(engine, tmp_path, on):
    """A rejected component is the same finding with the cache on, and is never stored."""
    bad = "(component (core module (func (result i32))))"
    if on:
        component_cache.enable(tmp_path)
    try:
        stats: dict = {}
        with pytest.raises(Finding) as err:
            compile_checked(engine, bad, stats, lambda c, d, m: Finding(c, d, m))
    finally:
        component_cache.disable()
    assert err.value.check == "compile" and stats == {"compiles": 1}
    assert not list(tmp_path.rglob("*.blob"))
