#!/usr/bin/env python3
"""differential_spec speed and shares: warm exec/s over the seed corpus (modules cached), exec/s
on a libFuzzer-like mutation stream (uniform byte mutations of corpus inputs, so some hit the
module seed and run wasm-smith) and on a stream of the target's structure-keeping mutator
(`generators.mutator`, as `itfuzz fuzz` mutates), optionally a real libFuzzer run; plus the
share of inputs discarded, per engine and per source, and the wasm-smith cache hit rate.

Usage: bench/bench_differential.py [--rounds N] [--mutations N] [--libfuzzer SECONDS]
(prints numbers; not a test). Rates are per wall second and per CPU second (this process and
its wasm-smith children), since the machine may be shared.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mutations import mutate  # noqa: E402

from itfuzz import targets  # noqa: E402
from itfuzz.findings import Finding  # noqa: E402
from itfuzz.generators.core_cases import ENGINES, SOURCES  # noqa: E402
from itfuzz.generators.core_modules import smith  # noqa: E402
from itfuzz.generators.mutator import STRUCTURE_ONE_IN  # noqa: E402
from itfuzz.generators.mutator import mutate as keep_structure  # noqa: E402

TARGET = "differential_spec"


def cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def corpus() -> list[bytes]:
    return [p.read_bytes() for p in sorted((ROOT / "corpus" / TARGET).iterdir())]


def run(target, inputs, label: str) -> None:
    counts: Counter = Counter()
    modules, calls = set(), set()
    runs0 = smith.runs
    start, c0 = time.perf_counter(), cpu()
    for data in inputs:
        try:
            counts[target.execute(data).status] += 1
        except Finding as f:
            counts["finding"] += 1
            print(f"  finding: {f.signature}")
        modules.add(target.last_case.wasm)
        calls.add((target.last_case.wasm, target.last_case.calls))
    wall, used = time.perf_counter() - start, cpu() - c0
    n = len(inputs)
    print(f"{label}: {n} inputs, {n / wall:.0f} exec/s wall, {n / used:.0f} per CPU s; "
          f"wasm-smith runs {smith.runs - runs0} ({(smith.runs - runs0) / n:.1%} of inputs); "
          f"{len(modules)} distinct modules, {len(calls)} distinct cases; "
          f"discarded {counts['discarded'] / n:.1%}; {dict(counts)}")


def shares(stats: Counter) -> None:
    n = stats["inputs"]
    ran = sum(stats[f"engine:{e}"] for e in ENGINES) or 1
    print("per engine: " + ", ".join(f"{e} {stats[f'engine:{e}'] / ran:.1%}" for e in ENGINES))
    print("per source: " + ", ".join(f"{s} {stats[f'source:{s}'] / ran:.1%}" for s in SOURCES))
    discards = {k.split(":", 1)[1]: v for k, v in stats.items() if k.startswith("discard:")}
    print(f"discarded: {sum(discards.values()) / max(n, 1):.2%} of {n} inputs {discards}")
    calls = {k.split(":", 1)[1]: v for k, v in stats.items() if k.startswith("call:")}
    print(f"calls: {stats['calls']} ({stats['calls'] / max(n, 1):.1f} per input), "
          f"outcomes {dict(sorted(calls.items(), key=lambda kv: -kv[1]))}")


def libfuzzer(seconds: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-diff-"))
    try:
        shutil.copytree(ROOT / "corpus" / TARGET, work / "corpus")
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        start, c0 = time.perf_counter(), cpu()
        out = subprocess.run([sys.executable, str(ROOT / "fuzz_targets" / f"{TARGET}.py"),
                              str(work / "corpus"), f"-max_total_time={seconds}",
                              "-print_final_stats=1", f"-artifact_prefix={work}/"],
                             capture_output=True, text=True, env=env)
        wall, used = time.perf_counter() - start, cpu() - c0
        execs = re.search(r"stat::number_of_executed_units:\s*(\d+)", out.stderr)
        n = int(execs.group(1)) if execs else 0
        print(f"libFuzzer ({seconds} s from the seed corpus): {n} execs, "
              f"{n / wall:.0f} exec/s wall, {n / max(used, 1e-9):.0f} per CPU s"
              + ("" if execs else f"\n{out.stderr[-2000:]}"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--mutations", type=int, default=2000)
    ap.add_argument("--libfuzzer", type=int, default=0, metavar="SECONDS")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    seeds = corpus()
    target = targets.get(TARGET)
    run(target, seeds, "cold (seed corpus, first run: wasm-smith + compile)")
    run(target, seeds * args.rounds, f"warm (seed corpus x {args.rounds})")
    rng = random.Random(1)
    stream, parents = [], list(seeds)
    for _ in range(args.mutations):
        child = mutate(rng, rng.choice(parents))
        stream.append(child)
        if rng.random() < 0.05:  # libFuzzer keeps some children as new parents
            parents.append(child)
    run(target, stream, "mutation stream (1 mutation per input, uniform position)")
    rng = random.Random(1)
    stream, parents = [], list(seeds)
    for _ in range(args.mutations):
        child = keep_structure(rng.choice(parents), 4096, rng.getrandbits(32),
                               target.structure_end, STRUCTURE_ONE_IN, target.read_end)
        stream.append(child)
        if rng.random() < 0.05:
            parents.append(child)
    run(target, stream, f"structure-keeping mutator stream (structure in 1 of {STRUCTURE_ONE_IN})")
    shares(target.oracle.stats)
    if args.libfuzzer:
        libfuzzer(args.libfuzzer)


if __name__ == "__main__":
    main()
