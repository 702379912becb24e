#!/usr/bin/env python3
"""Write the seed corpus of a target, deterministically.

Draws inputs from a fixed-seed PRNG and keeps each one that adds a feature no earlier input had
(type kinds, string encodings, call shapes, flat-count and case/flag-count boundaries) and that
runs clean (no finding). Usage: tools/make_corpus.py [TARGET] [OUT_DIR]
"""
from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from itfuzz import targets  # noqa: E402
from itfuzz.findings import Finding  # noqa: E402

SEED = 20261121
TRIES = 20000
TRIES_BY_TARGET = {"differential_spec": 800}  # each new module seed runs wasm-smith


def make(target_name: str, out: Path) -> int:
    target = targets.get(target_name)
    rng = random.Random(SEED)
    seen: set[str] = set()
    kept = []
    for _ in range(TRIES_BY_TARGET.get(target_name, TRIES)):
        data = bytes(rng.getrandbits(8) for _ in range(rng.choice((8, 32, 128, 512, 1024))))
        new = target.corpus_features(target.decode(data)) - seen
        if not new:
            continue
        try:
            if target.execute(data).status != "ok":
                continue
        except Finding:
            continue
        seen |= new
        kept.append(data)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    for data in [b""] + kept:
        (out / hashlib.sha1(data).hexdigest()).write_bytes(data)
    print(f"{target_name}: {len(kept) + 1} inputs, {len(seen)} features -> {out}")
    return 0


if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) > 1 else "component_roundtrip"
    sys.exit(make(name, Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "corpus" / name))
