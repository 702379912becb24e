#!/usr/bin/env python3
"""component_hostile speed and verdict mix: warm exec/s over the seed corpus, over a random-input
stream and over a libFuzzer-like mutation stream of the seeds, per direction (the three single
shapes and the adapter), with the compile-cache hit rate of each stream; the share of trap and
value verdicts and the count per trap reason over random inputs; the model's µs per case
(decoding, which computes the verdict).

Usage: bench/bench_hostile.py [--rounds N] [--random N] [--mutations N] [--verdicts N]
(prints numbers; not a test)
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mutations import mutate  # noqa: E402

from itfuzz import targets  # noqa: E402
from itfuzz.abi.errors import REASONS  # noqa: E402
from itfuzz.findings import Finding  # noqa: E402
from itfuzz.generators.hostile import DIRECTIONS, decode_hostile_case  # noqa: E402
from itfuzz.oracles.hostile import HostileOracle  # noqa: E402

TARGET = "component_hostile"
SIZES = (8, 32, 128, 512, 1024)  # tools/make_corpus.py's input sizes


def corpus() -> list[bytes]:
    return [p.read_bytes() for p in sorted((ROOT / "corpus" / TARGET).iterdir())]


def random_inputs(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(rng.choice(SIZES)) for _ in range(n)]


class Stream:
    """Runs inputs through one target and keeps wall time and outcomes per direction."""

    def __init__(self, cache_size: int = 256) -> None:
        self.target = targets.get(TARGET)
        self.target.make_oracle = lambda: HostileOracle(cache_size)
        self.seconds: Counter = Counter()
        self.count: Counter = Counter()
        self.outcomes: Counter = Counter()

    @property
    def stats(self) -> Counter:
        return self.target.oracle.stats

    def lookups(self) -> int:
        """Cases that reached the compile cache (not discarded before it)."""
        return sum(self.stats[f"direction:{d}"] for d in DIRECTIONS)

    def run(self, inputs: list[bytes]) -> None:
        t = self.target
        for data in inputs:
            start = time.perf_counter()
            try:
                self.outcomes[t.execute(data).status] += 1
            except Finding as f:
                self.outcomes["finding"] += 1
                print(f"    finding {f.signature} on input {data.hex()}")
            d = t.last_case.direction
            self.seconds[d] += time.perf_counter() - start
            self.count[d] += 1

    def reset_clock(self) -> None:
        self.seconds.clear()
        self.count.clear()
        self.outcomes.clear()

    def line(self) -> str:
        parts = []
        for d in DIRECTIONS:
            if self.count[d]:
                parts.append(f"{d} {self.count[d] / self.seconds[d]:6.0f}")
        total = sum(self.count.values()) / sum(self.seconds.values())
        return f"all {total:6.0f} | " + ", ".join(parts)


def hit_rate(stream: Stream, lookups0: int, compiles0: int) -> str:
    lookups = stream.lookups() - lookups0
    compiles = stream.stats["compiles"] - compiles0
    rate = 1 - compiles / lookups if lookups else 0.0
    return f"compile-cache hit rate {rate:6.1%} ({compiles} compiles for {lookups} cases)"


def exec_section(args) -> None:
    seeds = corpus()
    by_dir = Counter(decode_hostile_case(d).direction for d in seeds)
    print(f"seed corpus: {len(seeds)} inputs ("
          + ", ".join(f"{by_dir[d]} {d}" for d in DIRECTIONS) + ")")
    s = Stream()
    s.run(seeds)  # compile every component once
    s.reset_clock()
    l0, c0 = s.lookups(), s.stats["compiles"]
    for _ in range(args.rounds):
        s.run(seeds)
    print(f"  warm exec/s over the seeds ({args.rounds} rounds): {s.line()}")
    print(f"  {hit_rate(s, l0, c0)}")

    inputs = random_inputs(args.random, seed=7)
    s = Stream(cache_size=args.random + 1)
    s.run(inputs)
    print(f"random inputs: {args.random} (first pass: a new component almost every input)")
    print(f"  exec/s, first pass (compiles included): {s.line()}")
    print(f"  {hit_rate(s, 0, 0)}; outcomes {dict(s.outcomes)}")
    s.reset_clock()
    l0, c0 = s.lookups(), s.stats["compiles"]
    s.run(inputs)
    print(f"  warm exec/s, second pass (every component cached): {s.line()}")
    print(f"  {hit_rate(s, l0, c0)}")

    rng = random.Random(11)
    muts = [mutate(rng, rng.choice(seeds)) for _ in range(args.mutations)]
    s = Stream()
    s.run(seeds)
    s.reset_clock()
    l0, c0 = s.lookups(), s.stats["compiles"]
    s.run(muts)
    print(f"mutation stream: {args.mutations} single mutations of seeds (libFuzzer-like), "
          f"seeds compiled before")
    print(f"  exec/s (compiles included): {s.line()}")
    print(f"  {hit_rate(s, l0, c0)}; outcomes {dict(s.outcomes)}")


def verdict_section(args) -> None:
    inputs = random_inputs(args.verdicts, seed=13)
    per_dir: dict[str, Counter] = defaultdict(Counter)
    reasons: Counter = Counter()
    reasons_by_dir: dict[str, Counter] = defaultdict(Counter)
    us: dict[str, list[float]] = defaultdict(list)
    us_valid: list[float] = []
    for data in inputs:
        start = time.perf_counter()
        case = decode_hostile_case(data)
        us[case.direction].append((time.perf_counter() - start) * 1e6)
        start = time.perf_counter()
        decode_hostile_case(data, hostile=False)
        us_valid.append((time.perf_counter() - start) * 1e6)
        v = case.expected
        kind = "no-case" if case.note else "trap" if v.trap else "value"
        per_dir[case.direction][kind] += 1
        per_dir["all"][kind] += 1
        if v.trap and not case.note:
            reasons[v.trap] += 1
            reasons_by_dir[case.direction][v.trap] += 1
    n = len(inputs)
    print(f"verdicts over {n} random inputs (decode only):")
    for d in DIRECTIONS + ("all",):
        c = per_dir[d]
        tot = sum(c.values())
        print(f"  {d:12s} {tot:6d} inputs: value {c['value'] / tot:6.1%}, trap "
              f"{c['trap'] / tot:6.1%}, no case {c['no-case'] / tot:5.1%}")
    print("  per trap reason (count; per direction):")
    for r in REASONS:
        by = ", ".join(f"{d} {reasons_by_dir[d][r]}" for d in DIRECTIONS if reasons_by_dir[d][r])
        print(f"    {r:20s} {reasons[r]:5d}" + (f"  ({by})" if by else ""))
    print("model µs per case (decode_hostile_case: types, values, valid lowering, mutations, "
          "verdict):")
    every = [x for d in DIRECTIONS for x in us[d]]
    print(f"  all          median {statistics.median(every):7.0f}  mean "
          f"{statistics.fmean(every):7.0f}  p99 {sorted(every)[int(0.99 * len(every))]:8.0f}")
    for d in DIRECTIONS:
        print(f"  {d:12s} median {statistics.median(us[d]):7.0f}  mean "
              f"{statistics.fmean(us[d]):7.0f}")
    print(f"  hostile=False (layout-agreement cases): median {statistics.median(us_valid):.0f}, "
          f"mean {statistics.fmean(us_valid):.0f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--random", type=int, default=2000)
    ap.add_argument("--mutations", type=int, default=4000)
    ap.add_argument("--verdicts", type=int, default=10000)
    args = ap.parse_args()
    exec_section(args)
    verdict_section(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
