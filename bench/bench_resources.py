#!/usr/bin/env python3
"""Resource numbers for the round-trip target: the share of inputs whose signature holds
`own`/`borrow` handles (random inputs, the seeds, one-mutation children of the seeds), warm exec/s
of a libFuzzer-like mutation stream from the resource seeds next to one from the other seeds, and
a count of decoded resource cases run with their outcomes (`--cases N`: the ≥ 2,000 of issue 14).

Usage: bench/bench_resources.py [--seconds S] [--cases N] [--seed N]   (numbers; not a test)
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
from itfuzz.model.resources import has_borrow, resource_ids  # noqa: E402


def kind_of(data: bytes) -> str:
    """"borrow" (handles, some borrowed), "own" (owned handles only) or "none"."""
    sig = decode_roundtrip(data).sig
    if not resource_ids(sig.types()):
        return "none"
    return "borrow" if any(has_borrow(t) for _, t in sig.params) else "own"


def shares(inputs) -> dict[str, float]:
    counts = collections.Counter(kind_of(d) for d in inputs)
    return {k: round(v / len(inputs), 3) for k, v in sorted(counts.items())}


def run(target, data: bytes, outcomes: collections.Counter) -> None:
    try:
        outcomes[target.execute(data, skip_known=True).status] += 1
    except Finding as f:
        outcomes[f"finding {f.signature}"] += 1


def stream(seeds: list[bytes], seconds: float, rng: random.Random) -> dict:
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
            "inputs": {k: round(v / n, 3) for k, v in sorted(kinds.items())}}


def cases(n: int, rng: random.Random) -> dict:
    """`n` decoded inputs that use resources (first byte 0x80-0x9f), run once each."""
    target = targets.get("component_roundtrip")
    outcomes: collections.Counter = collections.Counter()
    done, start = 0, time.monotonic()
    while done < n:
        data = bytes([rng.randrange(0x80, 0xA0)]) + rng.randbytes(rng.choice((16, 64, 256)))
        if kind_of(data) == "none":
            continue
        run(target, data, outcomes)
        done += 1
    return {"cases": done, "exec_per_s": round(done / (time.monotonic() - start), 1),
            "outcomes": dict(outcomes)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60, help="seconds per stream")
    ap.add_argument("--cases", type=int, default=2000, help="resource cases to run (0: none)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    rand = [rng.randbytes(rng.choice((8, 32, 128, 512, 1024))) for _ in range(5000)]
    seeds = [p.read_bytes() for p in sorted((ROOT / "corpus" / "component_roundtrip").iterdir())]
    mutated = [mutate(rng, rng.choice(seeds)) for _ in range(5000)]
    print(f"share of random inputs: {shares(rand)}")
    print(f"share of the seeds: {shares(seeds)}")
    print(f"share of one-mutation children of the seeds: {shares(mutated)}")
    res = [d for d in seeds if kind_of(d) != "none"]
    other = [d for d in seeds if kind_of(d) == "none"]
    print(f"stream from the {len(res)} resource seeds: {stream(res, args.seconds, rng)}")
    print(f"stream from the {len(other)} other seeds: {stream(other, args.seconds, rng)}")
    if args.cases:
        print(f"decoded resource cases: {cases(args.cases, rng)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
