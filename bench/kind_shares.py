"""Shared by the per-kind benches (bench_maps, bench_resources): the share of round-trip inputs
of each kind (random, seeds, one-mutation children of seeds) and warm mutation streams from the
seeds of a kind and from the others. `kind_of(data)` names an input's kind; `none` is the kind
of inputs without the feature."""
from __future__ import annotations

import collections
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mutations import mutate  # noqa: E402

from itfuzz import targets  # noqa: E402
from itfuzz.findings import Finding  # noqa: E402

KindOf = Callable[[bytes], str]


def shares(kind_of: KindOf, inputs) -> dict[str, float]:
    counts = collections.Counter(kind_of(d) for d in inputs)
    return {k: round(v / len(inputs), 3) for k, v in sorted(counts.items())}


def run(target, data: bytes, outcomes: collections.Counter) -> None:
    """Run one input, counting its outcome (a finding by its signature)."""
    try:
        outcomes[target.execute(data, skip_known=True).status] += 1
    except Finding as f:
        outcomes[f"finding {f.signature}"] += 1


def stream(kind_of: KindOf, seeds: list[bytes], seconds: float, rng: random.Random) -> dict:
    """Mutate-and-run from `seeds` for `seconds` (as libFuzzer would, without coverage)."""
    target = targets.get("component_roundtrip")
    pool, outcomes, kinds = list(seeds), collections.Counter(), collections.Counter()
    n, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        data = mutate(rng, rng.choice(pool))
        kinds[kind_of(data)] += 1
        run(target, data, outcomes)
        n += 1
        if len(pool) < 4 * len(seeds):
            pool.append(data)
    elapsed = time.monotonic() - start
    return {"execs": n, "exec_per_s": round(n / elapsed, 1), "outcomes": dict(outcomes),
            "inputs": {k: round(v / n, 3) for k, v in sorted(kinds.items())},
            "compiles": target.oracle.stats.get("compiles", 0)}


def report(kind_of: KindOf, none: str, label: str, seconds: float, rng: random.Random) -> None:
    """Print the shares and the two streams (`label` names the kind's seeds)."""
    rand = [rng.randbytes(rng.choice((8, 32, 128, 512, 1024))) for _ in range(5000)]
    seeds = [p.read_bytes() for p in sorted((ROOT / "corpus" / "component_roundtrip").iterdir())]
    mutated = [mutate(rng, rng.choice(seeds)) for _ in range(5000)]
    print(f"share of random inputs: {shares(kind_of, rand)}")
    print(f"share of the seeds: {shares(kind_of, seeds)}")
    print(f"share of one-mutation children of the seeds: {shares(kind_of, mutated)}")
    mine = [d for d in seeds if kind_of(d) != none]
    other = [d for d in seeds if kind_of(d) == none]
    print(f"stream from the {len(mine)} {label} seeds: {stream(kind_of, mine, seconds, rng)}")
    print(f"stream from the {len(other)} other seeds: {stream(kind_of, other, seconds, rng)}")
