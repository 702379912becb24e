#!/usr/bin/env python3
"""Write the seed corpus of a target, deterministically.

Draws inputs from a fixed-seed PRNG and keeps each one that adds a feature no earlier input had
(type kinds, string encodings, call shapes, flat-count and case/flag-count boundaries) and that
runs clean (no finding). Usage: tools/make_corpus.py [TARGET] [OUT_DIR]

`--add FIRST-LAST` (hex bytes) keeps the existing seeds and adds inputs starting with a byte in
that range that add features the corpus does not have yet (how a new kind of input gets seeds
while the shipped ones keep their meaning), e.g. `tools/make_corpus.py component_static --add
72-8e` for the static target's resource cases.
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


def make(target_name: str, out: Path, first: range | None = None) -> int:
    target = targets.get(target_name)
    rng = random.Random(SEED)
    seen: set[str] = set()
    if first is not None:  # adding: what the corpus has counts as seen
        for old in sorted(out.iterdir()):
            seen |= target.corpus_features(target.decode(old.read_bytes()))
    kept = []
    for _ in range(TRIES_BY_TARGET.get(target_name, TRIES)):
        data = bytes(rng.getrandbits(8) for _ in range(rng.choice((8, 32, 128, 512, 1024))))
        if first is not None:
            data = bytes([first[rng.randrange(len(first))]]) + data
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
    if first is None:
        for old in out.iterdir():
            old.unlink()
        kept = [b""] + kept
    for data in kept:
        (out / hashlib.sha1(data).hexdigest()).write_bytes(data)
    print(f"{target_name}: {len(kept)} inputs {'added' if first else ''}, {len(seen)} features "
          f"-> {out}")
    return 0


if __name__ == "__main__":
    argv = sys.argv[1:]
    add = None
    if "--add" in argv:
        i = argv.index("--add")
        lo, hi = (int(x, 16) for x in argv[i + 1].split("-"))
        add = range(lo, hi + 1)
        del argv[i:i + 2]
    name = argv[0] if argv else "component_roundtrip"
    sys.exit(make(name, Path(argv[1]) if len(argv) > 1 else ROOT / "corpus" / name, add))
