#!/usr/bin/env python3
"""Static target numbers: warm exec/s over its seed corpus (next to the dynamic target over the
same values), generated package size, package import and full-load time (fresh processes),
and the generation time.

`--kinds N`: instead, N random inputs that pick a resource case (first byte 0x72-0x8e), N that
pick a case with the guest's `gr` (0xa8-0xb5) and N that pick a plain case: outcome counts (ok /
known finding by id / discarded / other), the inputs that took the C-API lane, and exec/s of the
target on each kind, cold (first pass: compiles, disk-cache loads) and warm.

Usage: bench/bench_static.py [--rounds N] [--kinds N]   (prints numbers; not a test)
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from itfuzz import targets  # noqa: E402
from itfuzz.model.case import Call, TestCase  # noqa: E402
from itfuzz.oracles.roundtrip import RoundTripOracle  # noqa: E402
from itfuzz.static import gen as static_gen  # noqa: E402
from itfuzz.static.decode import GUEST_FIRST, RESOURCE_FIRST, default_cases  # noqa: E402
from itfuzz.static.decode import decode_static_case as decode  # noqa: E402


def corpus() -> list[bytes]:
    return [p.read_bytes() for p in sorted((ROOT / "corpus" / "component_static").iterdir())]


def warm_exec_per_sec(run, items, rounds: int) -> str:
    """Executions per wall second and per CPU second (the machine may be shared)."""
    for item in items:
        run(item)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        for item in items:
            run(item)
    n = rounds * len(items)
    return (f"{n / (time.perf_counter() - start):.0f} per wall s, "
            f"{n / (time.process_time() - cpu):.0f} per CPU s")


def as_model(tc) -> TestCase:
    """The dynamic oracle's case for the same values, engine and call costs (`Call.nodes`
    bounds the calls run: without it the dynamic oracle would run more of them)."""
    case = tc.case
    return TestCase(case.sig, tuple(
        Call(tuple(c.to_model(a) for c, a in zip(case.params, call.args)),
             case.result.to_model(call.ret) if case.result is not None else None, call.nodes)
        for call in tc.calls), tc.config)


def fresh_process_seconds(code: str) -> tuple[float, float]:
    """(wall, CPU) seconds of `code` in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(ROOT / "src")})
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def by_kind(n: int) -> int:
    """Resource, gr and plain inputs: outcomes and exec/s of each."""
    rng = random.Random(14)
    plain_first = [b for b in range(256) if b not in RESOURCE_FIRST and b not in GUEST_FIRST]
    kinds = {}
    for kind, firsts in (("resource", list(RESOURCE_FIRST)), ("gr", list(GUEST_FIRST)),
                         ("plain", plain_first)):
        kinds[kind] = [bytes([rng.choice(firsts)]) + rng.randbytes(rng.choice((16, 64, 256)))
                       for _ in range(n)]
    for kind, inputs in kinds.items():
        target = targets.get("component_static")
        outcomes: dict[str, int] = {}
        start, cpu = time.perf_counter(), time.process_time()
        for data in inputs:
            key = outcome(target, data)
            outcomes[key] = outcomes.get(key, 0) + 1
        cold = (n / (time.perf_counter() - start), n / (time.process_time() - cpu))
        calls = target.oracle.stats["calls"]
        clean = [d for d in inputs if outcome(target, d) == "ok"]
        warm = warm_exec_per_sec(target.execute, clean, 1)
        c_lane = sum(decode(d).lane == "c" for d in inputs)
        print(f"{kind} inputs: {n} ({c_lane} on the C-API lane), outcomes "
              f"{dict(sorted(outcomes.items()))}, {calls / n:.1f} calls per input")
        print(f"  exec/s cold (first pass): {cold[0]:.0f} per wall s, {cold[1]:.0f} per CPU s; "
              f"warm (clean inputs again): {warm}")
    return 0


def outcome(target, data: bytes) -> str:
    """ok, discarded, known K<n>, or other (a new finding or a harness error, shown)."""
    try:
        out = target.execute(data, skip_known=True)
    except Exception as e:
        return f"other {type(e).__name__}: {str(e).splitlines()[0][:120]}"
    return out.status if out.status != "known" else f"known {out.detail}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--kinds", type=int, default=0, metavar="N")
    args = ap.parse_args()
    default_cases()  # regenerate first if stale
    if args.kinds:
        return by_kind(args.kinds)
    inputs = corpus()
    target = targets.get("component_static")
    static_eps = warm_exec_per_sec(target.execute, inputs, args.rounds)
    decode_eps = warm_exec_per_sec(decode, inputs, args.rounds)
    dynamic = RoundTripOracle()
    model_cases = [as_model(decode(d)) for d in inputs]
    dynamic_eps = warm_exec_per_sec(dynamic.run, model_cases, args.rounds)

    files = sorted(p for p in static_gen.PACKAGE_DIR.iterdir() if p.is_file())
    size = sum(p.stat().st_size for p in files)
    wat = (static_gen.PACKAGE_DIR / "_wat.zlib").stat().st_size
    timer = ("import time; t, c = time.perf_counter(), time.process_time(); {}; "
             "print(time.perf_counter() - t, time.process_time() - c)")
    default_cases().load_all()  # the .pyc files exist before the import timings
    pkg_import = fresh_process_seconds(timer.format("import itfuzz.static.cases"))
    load_all = fresh_process_seconds(timer.format(
        "import itfuzz.static.cases as s; s.CASES.load_all()"))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        static_gen.write(Path(tmp) / "cases")
        gen_s = time.perf_counter() - start

    print(f"seed corpus: {len(inputs)} inputs")
    print(f"warm exec/s, static target (decode + typed values + checks): {static_eps}")
    print(f"warm exec/s, dynamic oracle on the same values (model in, no decode): "
          f"{dynamic_eps}")
    print(f"static decode only (case pick + typed arbitrary): {decode_eps}")
    print(f"generated package: {len(files)} files, {size / 1e6:.2f} MB "
          f"(component texts zlib-compressed: {wat / 1e6:.2f} MB)")
    print("import itfuzz.static.cases (fresh process, .pyc present): "
          "{:.2f} s wall, {:.2f} s CPU".format(*pkg_import))
    print(f"import + load all {len(default_cases())} cases (fresh process): "
          "%.2f s wall, %.2f s CPU" % load_all)
    print(f"gen-static ({len(default_cases())} cases): {gen_s:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
