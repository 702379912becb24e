#!/usr/bin/env python3
"""Cost of semantic feature reporting: exec/s of each target with and without it, on the same
inputs (the seed corpus plus seeded mutations of it, components warm in the cache), and µs per
input for extracting and reporting the features (atheris's real counters); with `--atheris`,
also the instrumented fuzz target's exec/s under libFuzzer replaying the same inputs.

Usage: bench/bench_semantic.py [--rounds N] [--mutants M] [--targets a,b] [--atheris]
(prints numbers; not a test)
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import atheris  # noqa: E402

from itfuzz import targets  # noqa: E402
from itfuzz.feedback import semantic  # noqa: E402
from itfuzz.findings import Finding  # noqa: E402


def inputs(name: str, mutants: int) -> list[bytes]:
    seeds = [p.read_bytes() for p in sorted((ROOT / "corpus" / name).iterdir())]
    rnd = random.Random(7)
    out = list(seeds)
    for _ in range(mutants):
        b = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randrange(1, 4)):
            if b:
                b[rnd.randrange(len(b) // 2, len(b))] = rnd.randrange(256)  # mostly values
        out.append(bytes(b))
    return out


def run(target, datas, reporter) -> float:
    """Seconds for one pass; with `reporter`, features are reported as in `fuzzing.main`."""
    start = time.perf_counter()
    for d in datas:
        try:
            o = target.execute(d, skip_known=True)
            outcome = semantic.outcome_class(o.status, o.detail)
        except Finding as f:
            outcome = "finding:" + f.check
        if reporter is not None:
            reporter.report(target.features(target.last_case, outcome))
    return time.perf_counter() - start


def under_atheris(name: str, datas: list[bytes], runs: int) -> tuple[float, float]:
    """exec/s of the real fuzz target (instrumented, libFuzzer replaying the same files `runs`
    times each) with semantic reporting off and on; start-up is measured apart and removed."""
    import os
    import subprocess
    import tempfile
    script = ROOT / "fuzz_targets" / f"{name}.py"
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, d in enumerate(datas):
            (Path(tmp) / f"in{i}").write_bytes(d)
            files.append(str(Path(tmp) / f"in{i}"))

        def wall(semantic: str, args: list[str]) -> float:
            env = dict(os.environ, ITFUZZ_SEMANTIC=semantic,
                       PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
            start = time.perf_counter()
            subprocess.run([sys.executable, str(script), *args], env=env, cwd=tmp,
                           capture_output=True, check=False)
            return time.perf_counter() - start
        rates: dict[str, list[float]] = {"0": [], "1": []}
        for _ in range(5):  # alternating, median: the machine's load drifts
            for setting in ("0", "1"):
                base = wall(setting, [f"-runs={runs}", files[0]])
                total = wall(setting, [f"-runs={runs}", *files])
                rates[setting].append(runs * (len(files) - 1) / (total - base))
    return statistics.median(rates["0"]), statistics.median(rates["1"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mutants", type=int, default=200)
    ap.add_argument("--targets", default="component_roundtrip,host_api_misuse,component_static")
    ap.add_argument("--atheris", action="store_true",
                    help="also measure the instrumented fuzz target under libFuzzer")
    args = ap.parse_args()
    reporter = semantic.Reporter(atheris._reserve_counter, atheris._trace_branch)
    print(f"{'target':22} {'inputs':>6} {'exec/s off':>10} {'exec/s on':>10} {'overhead':>9} "
          f"{'features us':>11} {'features/input':>14}")
    for name in args.targets.split(","):
        target = targets.get(name)
        datas = inputs(name, args.mutants)
        run(target, datas, reporter)  # warm: compile every component, load static shards
        off = on = 0.0
        for _ in range(args.rounds):  # interleaved, so both see the same machine
            off += run(target, datas, None)
            on += run(target, datas, reporter)
        n = len(datas) * args.rounds
        cases = [target.decode(d) for d in datas]
        start = time.perf_counter()
        count = 0
        for c in cases:
            f = target.features(c, "ok")
            reporter.report(f)
            count += len(f)
        feat_us = (time.perf_counter() - start) / len(cases) * 1e6
        print(f"{name:22} {len(datas):6} {n / off:10.1f} {n / on:10.1f} "
              f"{(on - off) / off * 100:8.1f}% {feat_us:11.0f} {count / len(cases):14.1f}")
        if args.atheris:
            a_off, a_on = under_atheris(name, datas, args.rounds)
            print(f"{'  under atheris':22} {len(datas):6} {a_off:10.1f} {a_on:10.1f} "
                  f"{(a_off / a_on - 1) * 100:8.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
