#!/usr/bin/env python3
"""What a compiled-component cache miss of `component_roundtrip` costs, stage by stage.

Replays a stream of inputs made by the structure-aware mutator (`generators.mutator`) from the
seed corpus, as a libFuzzer run would make them (new inputs join the pool), without atheris, and
prints per input kind (a miss: the oracle compiled; a hit: it did not) the mean ms per input,
then the mean ms per miss spent in each stage (nested stages are included in their callers):
decoding, component text, making an engine, compiling, converters, linkers, reflection. Also how
many of the structure edits changed the signature, the engine configuration, or only the lane.

Usage: bench/bench_misses.py [--inputs N] [--one-in N] [--seed S] [--profile]
(`--profile`: cProfile of the whole stream, top functions by own time). Not a test.
"""
from __future__ import annotations

import argparse
import collections
import cProfile
import pstats
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from itfuzz import targets  # noqa: E402
from itfuzz.findings import Finding  # noqa: E402
from itfuzz.generators import mutator  # noqa: E402

TIMES: collections.Counter = collections.Counter()
CALLS: collections.Counter = collections.Counter()


def timed(owner, name: str, label: str) -> None:
    """Accumulate the wall time of `owner.name` under `label`."""
    original = getattr(owner, name)

    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            TIMES[label] += time.perf_counter() - t
            CALLS[label] += 1
    setattr(owner, name, wrapper)


def stages() -> None:
    """Wrap the stages of a miss (in the modules that call them)."""
    from wasmtime import component as wc

    from itfuzz.engines import configs
    from itfuzz.engines.capi import lane
    from itfuzz.generators import signatures
    from itfuzz.oracles import capi_lane, compile, roundtrip
    timed(signatures.HEADS, "head_of", "decode head (types, config)")
    timed(roundtrip, "component_text", "component text")
    timed(roundtrip, "for_config", "for_config (page sizes)")
    timed(configs.Engines, "_make", "new engine (+ strategy check)")
    timed(compile, "compile_cached", "compile")
    timed(roundtrip, "dynamic_converters", "wasmtime-py converters")
    timed(roundtrip, "define_resources", "define resources")
    timed(wc, "Linker", "wasmtime-py Linker()")
    timed(roundtrip.RoundTripOracle, "_compile", "_compile (all of the entry)")
    timed(roundtrip.RoundTripOracle, "check_reflection", "reflection check")
    timed(capi_lane.CLaneRunner, "check_reflection", "C lane reflection (+ instantiate)")
    timed(lane, "Linker", "C linker")
    timed(capi_lane, "Plan", "C lane plan (encoders)")
    timed(roundtrip.RoundTripOracle, "prepare_case", "prepare (lookup + miss work)")


def stream(n: int, one_in: int, seed: int, end, sig_end) -> list[tuple[bytes, bytes]]:
    """`n` (parent, mutated input) pairs from the seed corpus; every 8th input joins the pool,
    as one with new coverage would."""
    rng = random.Random(seed)
    pool = seeds()
    out = []
    for i in range(n):
        parent = rng.choice(pool)
        data = mutator.mutate(parent, 4096, rng.getrandbits(32), end, one_in,
                              signature_end=sig_end)
        out.append((parent, data))
        if i % 8 == 0:
            pool.append(data)
    return out


def seeds() -> list[bytes]:
    return [p.read_bytes() for p in sorted((ROOT / "corpus" / "component_roundtrip").iterdir())]


def changes(pairs: list[tuple[bytes, bytes]]) -> collections.Counter:
    """What each mutation changed of its parent's structure: the signature (types, shape,
    encodings), the engine configuration, the lane, or nothing."""
    from itfuzz.generators.signatures import HEADS
    c: collections.Counter = collections.Counter()
    for parent, data in pairs:
        a, b = HEADS.decode(parent)[0], HEADS.decode(data)[0]
        what = [name for name, x, y in (("signature", a.sig, b.sig), ("config", a.config, b.config),
                                        ("lane", a.lane, b.lane)) if x != y]
        c["+".join(what) or "nothing"] += 1
    return c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=int, default=600)
    ap.add_argument("--one-in", type=int, default=mutator.STRUCTURE_ONE_IN)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--disk-cache", action="store_true",
                    help="with a fresh on-disk component cache, as `itfuzz fuzz` runs")
    ap.add_argument("--cache-size", type=int, default=0, help="the oracle's (default: its own)")
    args = ap.parse_args()
    if args.disk_cache:
        from itfuzz.engines import component_cache
        component_cache.enable(tempfile.mkdtemp(prefix="bench-misses-"))
    target = targets.get("component_roundtrip")
    oracle = target.oracle
    assert target.structure_end is not None
    if args.cache_size:
        oracle.cache.size = args.cache_size
    pairs = stream(args.inputs, args.one_in, args.seed, target.structure_end,
                   target.signature_end)
    inputs = [d for _, d in pairs]
    print(f"{len(inputs)} inputs, structure edited in 1 mutation of {args.one_in}; a mutation "
          "changed its parent's:")
    for k, v in changes(pairs).most_common():
        print(f"  {k:42} {v}")
    for data in seeds():  # warm: the seeds' own compiles are not the stream's misses
        try:
            target.execute(data, skip_known=True)
        except Finding:
            pass
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    compiles0 = oracle.stats["compiles"]
    if not args.profile:
        stages()
    per = {"miss": [0.0, 0], "hit": [0.0, 0]}
    findings = collections.Counter()
    prof = cProfile.Profile() if args.profile else None
    for data in inputs:
        before = oracle.stats["compiles"]
        t = time.perf_counter()
        if prof:
            prof.enable()
        try:
            target.execute(data, skip_known=True)
        except Finding as f:
            findings[f.signature] += 1
        finally:
            if prof:
                prof.disable()
        kind = "miss" if oracle.stats["compiles"] != before else "hit"
        per[kind][0] += time.perf_counter() - t
        per[kind][1] += 1
    for kind, (s, n) in per.items():
        print(f"{kind:5} {n:5} inputs  {1000 * s / max(n, 1):7.2f} ms/input")
    misses = max(per["miss"][1], 1)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"max RSS {rss // 1024} MiB, +{(rss - rss0) / max(oracle.stats['compiles'] - compiles0, 1):.0f}"
          f" KiB per compile; cached entries {len(oracle.cache)}, engines {len(oracle.engines.cache)}")
    print(f"engines made {dict(oracle.engines.made)}; calls {oracle.stats['calls']}; "
          f"outcomes {dict(target.counts)}; unknown findings {sum(findings.values())}")
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        return 0
    print("stage (ms per miss; nested stages count in their callers too)")
    for label, s in sorted(TIMES.items(), key=lambda kv: -kv[1]):
        print(f"  {label:40} {1000 * s / misses:7.2f}   ({CALLS[label]} calls)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
