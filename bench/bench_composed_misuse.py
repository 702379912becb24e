#!/usr/bin/env python3
"""Composed shape and host-API misuse: warm exec/s of both targets over their seed corpora (the
round trip split by component shape), cold compile ms per shape, and the share of inputs per
string-encoding pair (caller->callee) in the seed corpus and in random inputs.

Usage: bench/bench_composed_misuse.py [--rounds N]   (prints numbers; not a test)
"""
from __future__ import annotations

import argparse
import collections
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import wasmtime  # noqa: E402

from itfuzz import targets  # noqa: E402
from itfuzz.generators.components import component_text  # noqa: E402


def corpus(name: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted((ROOT / "corpus" / name).iterdir())]


def warm_exec_per_sec(name: str, inputs: list[bytes], rounds: int) -> float:
    target = targets.get(name)
    for data in inputs:  # compile every component once
        target.execute(data, skip_known=True)
    start = time.perf_counter()
    for _ in range(rounds):
        for data in inputs:
            target.execute(data, skip_known=True)
    return rounds * len(inputs) / (time.perf_counter() - start)


def cold_compile_ms(sigs) -> list[float]:
    engine = wasmtime.Engine()
    out = []
    for sig in sigs:
        wat = component_text(sig)
        start = time.perf_counter()
        wasmtime.component.Component(engine, wat)
        out.append((time.perf_counter() - start) * 1000)
    return out


def same_signature_us(repeat: int = 2000) -> dict[str, float]:
    """Median µs of one checked round trip of `f(x: string) -> string` ("h\xe9llo \u20ac"),
    single (utf8) against composed (utf8 caller, utf16 callee: transcoding both ways)."""
    from itfuzz.model.case import Signature
    from itfuzz.model.types import PRIMS
    from itfuzz.oracles.roundtrip import RoundTripOracle
    oracle, s, out = RoundTripOracle(), PRIMS["string"], {}
    for name, kw in (("single", {}), ("composed", {"shape": "composed",
                                                     "callee_encoding": "utf16"})):
        sig = Signature((("x", s),), s, "utf8", echo=True, count_post_return=True, **kw)
        entry = oracle.prepare(sig)
        store = wasmtime.Store(oracle.engine)
        f = entry.linker.instantiate(store, entry.component).get_func(store, "f")
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            oracle.run_call(store, f, entry, ("h\xe9llo \u20ac",), "h\xe9llo \u20ac")
            samples.append((time.perf_counter() - start) * 1e6)
        out[name] = statistics.median(samples)
    return out


def pair_shares(sigs) -> dict[str, float]:
    pairs = collections.Counter("->".join(s.encoding_pair) for s in sigs if s.shape == "composed")
    total = sum(pairs.values()) or 1
    return {p: n / total for p, n in sorted(pairs.items())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    rt = targets.get("component_roundtrip")
    inputs = corpus("component_roundtrip")
    by_shape = collections.defaultdict(list)
    for data in inputs:
        by_shape[rt.decode(data).sig.shape].append(data)
    print(f"component_roundtrip seed corpus: {len(inputs)} inputs "
          f"({len(by_shape['single'])} single, {len(by_shape['composed'])} composed)")
    for shape in ("single", "composed"):
        eps = warm_exec_per_sec("component_roundtrip", by_shape[shape], args.rounds)
        ms = cold_compile_ms([rt.decode(d).sig for d in by_shape[shape]])
        print(f"  {shape:8s}: warm exec/s {eps:7.0f}; cold compile ms median "
              f"{statistics.median(ms):.1f}, max {max(ms):.1f}")
    eps = warm_exec_per_sec("component_roundtrip", inputs, args.rounds)
    print(f"  all     : warm exec/s {eps:7.0f}")
    us = same_signature_us()
    print(f"  same string echo: single {us['single']:.1f} us, composed (utf8->utf16) "
          f"{us['composed']:.1f} us per round trip")

    misuse = corpus("host_api_misuse")
    eps = warm_exec_per_sec("host_api_misuse", misuse, args.rounds)
    print(f"host_api_misuse seed corpus: {len(misuse)} inputs; warm exec/s {eps:.0f}")

    print("encoding pairs (caller->callee), share of composed inputs:")
    seed = pair_shares([rt.decode(d).sig for d in inputs])
    rng = random.Random(1)
    rand = pair_shares([rt.decode(rng.randbytes(rng.choice((8, 64, 512)))).sig
                        for _ in range(20000)])
    for pair in sorted(set(seed) | set(rand)):
        print(f"  {pair:28s} seed corpus {seed.get(pair, 0):6.1%}   random inputs "
              f"{rand.get(pair, 0):6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
