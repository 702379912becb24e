#!/usr/bin/env python3
"""Which lane the round-trip target's inputs and calls run on, and why a case that chose the
C-API lane ran on wasmtime-py (`forced_py`: no-lane, transform, unsupported-kind), in a
libFuzzer-like mutation stream from the shipped corpus (no coverage, one mutation per input,
children kept as parents up to 4x the seeds).

Usage: bench/lane_shares.py [--seconds S] [--seed N] [--json]   (numbers; not a test)
"""
from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from kind_shares import run  # noqa: E402
from mutations import mutate  # noqa: E402

from itfuzz import targets  # noqa: E402


def stream(seconds: float, rng: random.Random) -> dict:
    target = targets.get("component_roundtrip")
    seeds = [p.read_bytes() for p in sorted((ROOT / "corpus" / "component_roundtrip").iterdir())]
    pool, outcomes = list(seeds), collections.Counter()
    inputs: collections.Counter = collections.Counter()
    n, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        data = mutate(rng, rng.choice(pool))
        run(target, data, outcomes)
        lane = target.oracle.c_lane
        chose = getattr(target.last_case, "lane", "py")
        inputs[f"py:{lane.why_py}" if lane.why_py else chose] += 1
        n += 1
        if len(pool) < 4 * len(seeds):
            pool.append(data)
    stats = target.oracle.stats
    calls = sum(stats["lanes"].values()) or 1
    return {"execs": n, "inputs": {k: round(v / n, 3) for k, v in sorted(inputs.items())},
            "calls": dict(stats["lanes"]),
            "call_shares": {k: round(v / calls, 3) for k, v in stats["lanes"].items()},
            "forced_py_calls": {k: round(v / calls, 3)
                                for k, v in sorted(stats["forced_py"].items())},
            "outcomes": dict(outcomes)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    r = stream(args.seconds, random.Random(args.seed))
    if args.json:
        print(json.dumps(r))
    else:
        for k, v in r.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
