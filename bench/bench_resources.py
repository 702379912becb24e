#!/usr/bin/env python3
"""Resource numbers for the round-trip target: the share of inputs whose signature holds
`own`/`borrow` handles (random inputs, the seeds, one-mutation children of the seeds), warm exec/s
of a libFuzzer-like mutation stream from the resource seeds next to one from the other seeds, and
a count of decoded resource cases run with their outcomes (`--cases N`: the ≥ 2,000 of issue 14),
and per lane (C-API, wasmtime-py) the CPU-time rate of inputs and checked round trips of the
same one-mutation children of the resource seeds (`--lane-inputs N`, after a warm-up of 100).

Usage: bench/bench_resources.py [--seconds S] [--cases N] [--lane-inputs N] [--seed N]
(numbers; not a test)
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

from kind_shares import report, run  # noqa: E402
from mutations import mutate  # noqa: E402

from itfuzz import targets  # noqa: E402
from itfuzz.generators.signatures import decode_roundtrip  # noqa: E402
from itfuzz.model.resources import has_borrow, resource_ids  # noqa: E402


def kind_of(data: bytes) -> str:
    """"borrow" (handles, some borrowed), "own" (owned handles only) or "none" (handles of host
    resources or of the guest's `gr`)."""
    sig = decode_roundtrip(data).sig
    if not resource_ids(sig.types()) and not sig.guest:
        return "none"
    return "borrow" if any(has_borrow(t) for _, t in sig.params) else "own"


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


def per_lane(n: int, rng: random.Random) -> dict:
    """Inputs and round trips per CPU-second of `n` mutants of the resource seeds, per lane."""
    seeds = [p.read_bytes() for p in sorted((ROOT / "corpus" / "component_roundtrip").iterdir())]
    seeds = [d for d in seeds if kind_of(d) != "none"]
    inputs = [mutate(rng, rng.choice(seeds)) for _ in range(n + 100)]
    out = {}
    for lane in ("c", "py"):
        target = targets.get("component_roundtrip")  # a new one each time
        target.oracle.c_lane.force = lane
        outcomes: collections.Counter = collections.Counter()
        for data in inputs[:100]:  # warm-up: compiles
            run(target, data, outcomes)
        calls, start = target.oracle.stats["calls"], time.process_time()
        for data in inputs[100:]:
            run(target, data, outcomes)
        cpu = time.process_time() - start
        out[lane] = {"inputs_per_cpu_s": round(n / cpu, 1),
                     "round_trips_per_cpu_s": round((target.oracle.stats["calls"] - calls) / cpu),
                     "lanes": dict(target.oracle.stats["lanes"]), "outcomes": dict(outcomes)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60, help="seconds per stream")
    ap.add_argument("--cases", type=int, default=2000, help="resource cases to run (0: none)")
    ap.add_argument("--lane-inputs", type=int, default=1000,
                    help="resource mutants run on each lane (0: none)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    report(kind_of, "none", "resource", args.seconds, rng)
    if args.cases:
        print(f"decoded resource cases: {cases(args.cases, rng)}")
    if args.lane_inputs:
        print(f"resource mutants per lane: {per_lane(args.lane_inputs, rng)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
