#!/usr/bin/env python3
"""Add resource misuse seeds to host_api_misuse's corpus, deterministically.

Draws resource misuse inputs (`resource_misuse.MAGIC` then bytes from a fixed-seed PRNG) and keeps
each one that adds a resource misuse feature (`res-misuse:SITE:KIND:PARENT:OWNERSHIP`) no earlier
input had and that runs clean. The existing seeds are left as they are (tools/make_corpus.py
writes those). `--known` also keeps inputs whose finding is a known one (for a fuzzing seed
directory: most bad handles in an argument show K9 or K27). Usage:
tools/make_resource_misuse_seeds.py [OUT_DIR] [--known]
"""
from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from itfuzz import targets  # noqa: E402
from itfuzz.engines.resource_misuse import MAGIC  # noqa: E402
from itfuzz.findings import Finding  # noqa: E402
from itfuzz.known_findings import known  # noqa: E402

SEED = 20261205
TRIES = 3000


def make(out: Path, keep_known: bool) -> int:
    target = targets.get("host_api_misuse")
    rng = random.Random(SEED)
    seen: set[str] = set()
    kept = []
    for _ in range(TRIES):
        data = MAGIC + bytes(rng.getrandbits(8) for _ in range(rng.choice((32, 128, 512))))
        new = {f for f in target.corpus_features(target.decode(data)) if f.startswith("res-")}
        if not new - seen:
            continue
        try:
            if target.execute(data).status != "ok":
                continue
        except Finding as f:
            if not (keep_known and known(f.signature, target.name)):
                continue
        seen |= new
        kept.append(data)
    out.mkdir(parents=True, exist_ok=True)
    for data in kept:
        (out / hashlib.sha1(data).hexdigest()).write_bytes(data)
    print(f"host_api_misuse: {len(kept)} resource misuse inputs, {len(seen)} features -> {out}")
    return 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--known"]
    sys.exit(make(Path(args[0]) if args else ROOT / "corpus" / "host_api_misuse",
                  "--known" in sys.argv[1:]))
