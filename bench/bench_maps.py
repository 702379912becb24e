#!/usr/bin/env python3
"""map<K, V> numbers for the round-trip target: the share of inputs whose signature holds a map
(random inputs, and a libFuzzer-like mutation stream from the seed corpus), and warm exec/s of a
mutation stream started from the map seeds next to one from the other seeds.

Usage: bench/bench_maps.py [--seconds S] [--seed N]   (prints numbers; not a test)
"""
from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from mutations import mutate  # noqa: E402

from itfuzz import targets  # noqa: E402
from itfuzz.findings import Finding  # noqa: E402
from itfuzz.generators.signatures import decode_roundtrip  # noqa: E402


def kind_of(data: bytes) -> str:
    """"composed-map", "single-map" or "no-map"."""
    sig = decode_roundtrip(data).sig
    return f"{sig.shape}-map" if sig.has_maps else "no-map"


def shares(inputs) -> dict[str, float]:
    counts = collections.Counter(kind_of(d) for d in inputs)
    total = sum(counts.values())
    return {k: round(v / total, 3) for k, v in sorted(counts.items())}


def stream(seeds: list[bytes], seconds: float, rng: random.Random) -> dict:
    """Mutate-and-run from `seeds` for `seconds` (as libFuzzer would, without coverage)."""
    target = targets.get("component_roundtrip")
    pool = list(seeds)
    outcomes: collections.Counter = collections.Counter()
    kinds: collections.Counter = collections.Counter()
    n, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        data = mutate(rng, rng.choice(pool))
        kinds[kind_of(data)] += 1
        try:
            outcomes[target.execute(data, skip_known=True).status] += 1
        except Finding as f:
            outcomes[f"finding {f.signature}"] += 1
        n += 1
        if len(pool) < 4 * len(seeds):
            pool.append(data)
    elapsed = time.monotonic() - start
    return {"execs": n, "exec_per_s": round(n / elapsed, 1), "outcomes": dict(outcomes),
            "inputs": {k: round(v / n, 3) for k, v in sorted(kinds.items())},
            "compiles": target.oracle.stats.get("compiles", 0)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60, help="seconds per stream")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    rand = [rng.randbytes(rng.choice((8, 32, 128, 512, 1024))) for _ in range(5000)]
    seeds = [p.read_bytes() for p in sorted((ROOT / "corpus" / "component_roundtrip").iterdir())]
    mutated = [mutate(rng, rng.choice(seeds)) for _ in range(5000)]
    print(f"share of random inputs: {shares(rand)}")
    print(f"share of the seeds: {shares(seeds)}")
    print(f"share of one-mutation children of the seeds: {shares(mutated)}")
    map_seeds = [d for d in seeds if kind_of(d) != "no-map"]
    other = [d for d in seeds if kind_of(d) == "no-map"]
    print(f"stream from the {len(map_seeds)} map seeds: {stream(map_seeds, args.seconds, rng)}")
    print(f"stream from the {len(other)} other seeds: {stream(other, args.seconds, rng)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
