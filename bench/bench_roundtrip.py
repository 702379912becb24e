#!/usr/bin/env python3
"""Round-trip target speed: warm exec/s over the seed corpus, cold compile ms per component, and
µs per round trip next to a bare u32 echo measured in the same run; then a table per engine
(the default engine, Cranelift, Winch, Pulley: the seed corpus with its configuration replaced)
and the share of random inputs that decode to each engine.

Usage: bench/bench_roundtrip.py [--rounds N] [--engines-only]   (prints numbers; not a test)
"""
from __future__ import annotations

import argparse
import collections
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import wasmtime  # noqa: E402

from itfuzz import targets  # noqa: E402
from itfuzz.engines.configs import make_engine  # noqa: E402
from itfuzz.findings import Discard, Finding  # noqa: E402
from itfuzz.generators.components import component_text  # noqa: E402
from itfuzz.model.case import Call, Signature, TestCase  # noqa: E402
from itfuzz.model.engine_config import EngineConfig  # noqa: E402
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


ENGINES = {"default": None, "cranelift": EngineConfig("cranelift"),
           "winch": EngineConfig("winch"), "pulley": EngineConfig("pulley")}


def engine_row(config: EngineConfig | None, cases: list[TestCase], rounds: int) -> str:
    """Warm exec/s of the corpus cases on one engine, cold compile ms, µs of a u32 echo call."""
    oracle = RoundTripOracle()
    cases = [replace(c, config=config) for c in cases]

    def run_all() -> None:
        for case in cases:
            try:
                oracle.run(case)
            except (Discard, Finding):
                pass
    run_all()  # compiles
    start = time.perf_counter()
    for _ in range(rounds):
        run_all()
    eps = rounds * len(cases) / (time.perf_counter() - start)
    engine = oracle.engines.get(config)
    compile_ms = []
    for case in cases:
        wat = component_text(case.sig)
        start = time.perf_counter()
        wasmtime.component.Component(engine, wat)
        compile_ms.append((time.perf_counter() - start) * 1000)
    u32 = PRIMS["u32"]
    echo = TestCase(Signature((("x", u32),), u32, "utf8", echo=True), (Call((7,), 7),), config)
    oracle.run(echo)
    entry = oracle.prepare(echo.sig, config)
    store = wasmtime.Store(engine)
    f = entry.linker.instantiate(store, entry.component).get_func(store, "f")
    samples = []
    for _ in range(2000):
        start = time.perf_counter()
        oracle.run_call(store, f, entry, (7,), 7)
        samples.append((time.perf_counter() - start) * 1e6)
    return (f"{'default' if config is None else config.strategy:>9}  {eps:>8.0f}  "
            f"{statistics.median(compile_ms):>10.1f}  {max(compile_ms):>8.1f}  "
            f"{statistics.median(samples):>10.1f}")


def engine_shares(n: int = 20000, seed: int = 14) -> str:
    """How random inputs (lengths as libFuzzer's early corpus) spread over the engines."""
    rng = random.Random(seed)
    decode = targets.get("component_roundtrip").decode
    counts: collections.Counter = collections.Counter()
    for _ in range(n):
        config = decode(rng.randbytes(rng.choice((16, 64, 256)))).config
        counts["default" if config is None else config.strategy] += 1
        if config is not None and config.pooling:
            counts["(pooling)"] += 1
    return ", ".join(f"{k} {100 * v / n:.1f}%" for k, v in sorted(counts.items()))


def engine_table(inputs: list[bytes], rounds: int) -> None:
    decode = targets.get("component_roundtrip").decode
    cases = [decode(d) for d in inputs]
    for config in ENGINES.values():
        if config is not None:
            make_engine(config)  # Discard here: this release cannot make it
    print(f"{'engine':>9}  {'exec/s':>8}  {'compile ms':>10}  {'max ms':>8}  {'u32 echo us':>10}")
    for config in ENGINES.values():
        print(engine_row(config, cases, rounds), flush=True)
    print(f"share of random inputs per engine: {engine_shares()}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--engines-only", action="store_true", help="only the per-engine table")
    args = ap.parse_args()
    inputs = corpus()
    if args.engines_only:
        engine_table(inputs, args.rounds)
        return 0
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
    engine_table(inputs, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
