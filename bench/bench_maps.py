#!/usr/bin/env python3
"""map<K, V> numbers for the round-trip target: the share of inputs whose signature holds a map
(random inputs, and a libFuzzer-like mutation stream from the seed corpus), and warm exec/s of a
mutation stream started from the map seeds next to one from the other seeds.

Usage: bench/bench_maps.py [--seconds S] [--seed N]   (prints numbers; not a test)
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from kind_shares import report  # noqa: E402

from itfuzz.generators.signatures import decode_roundtrip  # noqa: E402


def kind_of(data: bytes) -> str:
    """"composed-map", "single-map" or "no-map"."""
    sig = decode_roundtrip(data).sig
    return f"{sig.shape}-map" if sig.has_maps else "no-map"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60, help="seconds per stream")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    report(kind_of, "no-map", "map", args.seconds, random.Random(args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
