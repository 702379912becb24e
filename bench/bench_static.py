#!/usr/bin/env python3
"""Static target numbers: warm exec/s over its seed corpus (next to the dynamic target over the
same values), generated package size, package import and full-load time (fresh processes),
and the generation time.

Usage: bench/bench_static.py [--rounds N]   (prints numbers; not a test)
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from itfuzz import static_gen, targets  # noqa: E402
from itfuzz.case import Call, TestCase  # noqa: E402
from itfuzz.oracles.roundtrip import RoundTripOracle  # noqa: E402
from itfuzz.oracles.static import decode, default_cases  # noqa: E402


def corpus() -> list[bytes]:
    return [p.read_bytes() for p in sorted((ROOT / "corpus" / "component_static").iterdir())]


def warm_exec_per_sec(run, items, rounds: int) -> float:
    for item in items:
        run(item)
    start = time.perf_counter()
    for _ in range(rounds):
        for item in items:
            run(item)
    return rounds * len(items) / (time.perf_counter() - start)


def as_model(tc) -> TestCase:
    case = tc.case
    return TestCase(case.sig, tuple(
        Call(tuple(c.to_model(a) for c, a in zip(case.params, call.args)),
             case.result.to_model(call.ret) if case.result is not None else None)
        for call in tc.calls))


def fresh_process_seconds(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(ROOT / "src")})
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    default_cases()  # regenerate first if stale
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
    timer = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"
    default_cases().load_all()  # the .pyc files exist before the import timings
    pkg_import = fresh_process_seconds(timer.format("import itfuzz.static_cases"))
    load_all = fresh_process_seconds(timer.format(
        "import itfuzz.static_cases as s; s.CASES.load_all()"))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        static_gen.write(Path(tmp) / "static_cases")
        gen_s = time.perf_counter() - start

    print(f"seed corpus: {len(inputs)} inputs")
    print(f"warm exec/s, static target (decode + typed values + checks): {static_eps:.0f}")
    print(f"warm exec/s, dynamic oracle on the same values (model in, no decode): "
          f"{dynamic_eps:.0f}")
    print(f"static decode only (case pick + typed arbitrary): {decode_eps:.0f}/s")
    print(f"generated package: {len(files)} files, {size / 1e6:.2f} MB "
          f"(component texts zlib-compressed: {wat / 1e6:.2f} MB)")
    print(f"import itfuzz.static_cases (fresh process, .pyc present): {pkg_import:.2f} s")
    print(f"import + load all {static_gen.COUNT} cases (fresh process): {load_all:.2f} s")
    print(f"gen-static ({static_gen.COUNT} cases): {gen_s:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
