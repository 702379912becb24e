#!/usr/bin/env python3
"""Numbers for the guest's `gr` inside `f`'s types (round-trip target): the share of inputs whose
signature holds `gr` handles (random inputs, the seeds, one-mutation children of the seeds), warm
exec/s of a mutation stream from the `gr` seeds next to one from the other seeds, and `--cases N`
decoded `gr` cases (first byte 0xa0-0xbe, even) run once each, with their outcomes and the `gr`
handles that crossed (own and borrow params, own results), on the lane each input picks or on
the one `--lane` forces.

Usage: bench/bench_guest_handles.py [--seconds S] [--cases N] [--lane c|py] [--seed N]
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

from itfuzz import targets  # noqa: E402
from itfuzz.generators.signatures import decode_roundtrip  # noqa: E402
from itfuzz.model.resources import GuestHandle, handles  # noqa: E402


def kind_of(data: bytes) -> str:
    return "gr" if decode_roundtrip(data).sig.guest else "none"


def cases(n: int, rng: random.Random, lane: str | None = None) -> dict:
    """`n` decoded inputs with `gr` in their types, run once each."""
    target = targets.get("component_roundtrip")
    target.oracle.c_lane.force = lane
    outcomes: collections.Counter = collections.Counter()
    crossed: collections.Counter = collections.Counter()
    done, start = 0, time.monotonic()
    while done < n:
        data = bytes([rng.randrange(0xA0, 0xC0, 2)]) + rng.randbytes(rng.choice((16, 64, 256)))
        tc = decode_roundtrip(data)
        if not tc.sig.guest:
            continue
        for call in tc.calls:
            for (_, t), a in zip(tc.sig.params, call.args):
                crossed.update(f"{h.kind}-param" for h, _ in handles(t, a, GuestHandle))
            if tc.sig.result is not None:
                crossed["own-result"] += len(handles(tc.sig.result, call.ret, GuestHandle))
        run(target, data, outcomes)
        done += 1
    return {"cases": done, "exec_per_s": round(done / (time.monotonic() - start), 1),
            "gr_handles_decoded": dict(crossed), "calls": target.oracle.stats["calls"],
            "lanes": dict(target.oracle.stats["lanes"]),
            "outcomes": dict(outcomes)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60, help="seconds per stream (0: none)")
    ap.add_argument("--cases", type=int, default=2000, help="gr cases to run (0: none)")
    ap.add_argument("--lane", choices=("c", "py"), help="run every case on this lane")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    if args.seconds:
        report(kind_of, "none", "gr", args.seconds, rng)
    if args.cases:
        print(f"decoded gr cases: {cases(args.cases, rng, args.lane)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
