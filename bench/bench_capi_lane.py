#!/usr/bin/env python3
"""C-API lane numbers (no instrumentation), all in one run:

- µs per u32 round trip through the C lane (encode, call, host check in C, result check in C)
  next to a bare C-API u32 echo (cffi call of wasmtime_component_func_call, host returns its
  argument, nothing encoded or checked), same component shape and store;
- µs per value node for a list of 16 `record {a: u32, b: s64}` (49 nodes), C lane vs the
  wasmtime-py lane;
- checked round trips per second of whole inputs (`RoundTripOracle.run`: fresh store and
  instance per input) on cached types, C lane vs wasmtime-py lane.

    .venv/bin/python bench/bench_capi_lane.py [--seconds S] [--json]
"""
from __future__ import annotations

import argparse
import json
import time

import wasmtime

from itfuzz.engines.capi import lane
from itfuzz.model.case import Call, Signature
from itfuzz.model.case import TestCase as Case
from itfuzz.model.types import PRIMS, List, Record
from itfuzz.oracles.capi_lane import Plan
from itfuzz.oracles.roundtrip import RoundTripOracle

U32 = PRIMS["u32"]
RECORDS = List(Record((("a", U32), ("b", PRIMS["s64"]))))
NODES = 1 + 16 * 3


def echo(t) -> Signature:
    return Signature((("x", t),), t, echo=True, count_post_return=True)


def timed(fn, seconds: float) -> float:
    """Seconds per call of `fn` (repeated for about `seconds`)."""
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(200):
            fn()
        n += 200
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / n


def lane_call_cost(oracle: RoundTripOracle, sig: Signature, value, seconds: float) -> float:
    """µs per checked round trip of `value` through the C lane (one instance, many calls)."""
    entry = oracle.prepare(sig)
    runner = oracle.c_lane
    store = wasmtime.Store(entry.engine)
    inst = runner.linker(entry).instantiate(store, entry.component)
    f = inst.func("f")
    plan = Plan(sig)
    return 1e6 * timed(lambda: runner.call(inst, f, entry, (value,), value, plan), seconds)


def bare_cost(oracle: RoundTripOracle, seconds: float) -> float:
    entry = oracle.prepare(echo(U32))
    lib, _ = lane.load()
    store = wasmtime.Store(entry.engine)
    inst = lane.Linker(lib, entry.engine, bare=True).instantiate(store, entry.component)
    f = inst.func("f")
    assert inst.bare_call(f, 7) == 7
    return 1e6 * timed(lambda: inst.bare_call(f, 7), seconds)


def py_call_cost(oracle: RoundTripOracle, sig: Signature, value, seconds: float) -> float:
    entry = oracle.prepare(sig)
    store, _, f = oracle.instantiate(entry)
    return 1e6 * timed(lambda: oracle.run_call(store, f, entry, (value,), value), seconds)


def inputs_rate(lane_name: str, seconds: float) -> float:
    """Checked round trips per second of whole inputs (64 calls each) on cached types."""
    o = RoundTripOracle()
    o.c_lane.force = lane_name
    cases = [Case(echo(U32), tuple(Call((i,), i) for i in range(64))),
             Case(echo(RECORDS), tuple(Call((v,), v) for v in [[(j, -j) for j in range(16)]] * 64))]
    for c in cases:
        o.run(c)
    calls0, start = o.stats["calls"], time.perf_counter()
    while time.perf_counter() - start < seconds:
        for c in cases:
            o.run(c)
    return (o.stats["calls"] - calls0) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    lib, note = lane.load()
    if lib is None:
        raise SystemExit(note)
    o, s = RoundTripOracle(), args.seconds
    records = [(i, -i * 1000) for i in range(16)]
    out = {
        "bare_u32_echo_us": bare_cost(o, s),
        "c_lane_u32_us": lane_call_cost(o, echo(U32), 7, s),
        "py_lane_u32_us": py_call_cost(o, echo(U32), 7, s),
        "c_lane_records_us": lane_call_cost(o, echo(RECORDS), records, s),
        "py_lane_records_us": py_call_cost(o, echo(RECORDS), records, s),
    }
    out["c_lane_us_per_node"] = out["c_lane_records_us"] / NODES
    out["py_lane_us_per_node"] = out["py_lane_records_us"] / NODES
    out["c_lane_vs_bare"] = out["c_lane_u32_us"] / out["bare_u32_echo_us"]
    out["c_lane_inputs_round_trips_per_s"] = inputs_rate("c", s)
    out["py_lane_inputs_round_trips_per_s"] = inputs_rate("py", s)
    if args.json:
        print(json.dumps(out, indent=1))
        return
    for k, v in out.items():
        print(f"{k:36} {v:10.2f}")


if __name__ == "__main__":
    main()
