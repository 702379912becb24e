#!/usr/bin/env python3
"""Round-trip target speed: warm exec/s over the seed corpus, cold compile ms per component, and
µs per round trip next to a bare u32 echo measured in the same run.

Usage: bench/bench_roundtrip.py [--rounds N]   (prints numbers; not a test)
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import wasmtime  # noqa: E402

from itfuzz import targets  # noqa: E402
from itfuzz.generators.components import component_text  # noqa: E402
from itfuzz.model.case import Call, Signature, TestCase  # noqa: E402
from itfuzz.model.types import PRIMS  # noqa: E402
from itfuzz.oracles.roundtrip import RoundTripOracle  # noqa: E402


def corpus() -> list[bytes]:
    return [p.read_bytes() for p in sorted((ROOT / "corpus" / "component_roundtrip").iterdir())]


def warm_exec_per_sec(inputs: list[bytes], rounds: int) -> float:
    target = targets.get("component_roundtrip")
    for data in inputs:
        target.execute(data)
    start = time.perf_counter()
    for _ in range(rounds):
        for data in inputs:
            target.execute(data)
    return rounds * len(inputs) / (time.perf_counter() - start)


def simple_exec_per_sec(n: int = 3000) -> float:
    """exec/s of the whole target on one cached input: a single-shape u32 echo, one call."""
    target = targets.get("component_roundtrip")
    data = bytes([0, 0, 0, 0, 6, 0, 7, 0, 0, 0])
    assert target.decode(data).sig.wit().endswith("f: func(x: u32) -> u32;")
    for _ in range(100):
        target.execute(data)
    start = time.perf_counter()
    for _ in range(n):
        target.execute(data)
    return n / (time.perf_counter() - start)


def cold_compile_ms(inputs: list[bytes]) -> list[float]:
    target = targets.get("component_roundtrip")
    engine = wasmtime.Engine()
    out = []
    for data in inputs:
        wat = component_text(target.decode(data).sig)
        start = time.perf_counter()
        wasmtime.component.Component(engine, wat)
        out.append((time.perf_counter() - start) * 1000)
    return out


def per_call_us(oracle: RoundTripOracle, case: TestCase, repeat: int) -> float:
    """Median µs of one checked round trip (host checks included) for the case's first call."""
    entry = oracle.prepare(case.sig)
    store = wasmtime.Store(oracle.engine)
    f = entry.linker.instantiate(store, entry.component).get_func(store, "f")
    call = case.calls[0]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        oracle.run_call(store, f, entry, call.args, call.ret)
        samples.append((time.perf_counter() - start) * 1e6)
    return statistics.median(samples)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    inputs = corpus()
    eps = warm_exec_per_sec(inputs, args.rounds)
    compile_ms = cold_compile_ms(inputs)
    oracle = RoundTripOracle()
    u32 = PRIMS["u32"]
    echo = TestCase(Signature((("x", u32),), u32, "utf8", echo=True), (Call((7,), 7),))
    bare = per_call_us(oracle, echo, 2000)
    decode = targets.get("component_roundtrip").decode
    calls = [per_call_us(oracle, decode(d), 50) for d in inputs]
    print(f"seed corpus: {len(inputs)} inputs")
    print(f"warm exec/s (whole target, cached components): {eps:.0f}")
    print(f"warm exec/s on a cached u32 echo input (one call): {simple_exec_per_sec():.0f}")
    print(f"cold compile ms per component: median {statistics.median(compile_ms):.1f}, "
          f"max {max(compile_ms):.1f}")
    print(f"bare u32 echo: {bare:.1f} us per round trip")
    print(f"corpus round trips: median {statistics.median(calls):.1f} us "
          f"({statistics.median(calls) / bare:.2f}x bare), max {max(calls):.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
