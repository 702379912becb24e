#!/usr/bin/env python3
"""Bug-finding benchmark: how fast does fuzzing from the seed corpus find each planted bug
(`bench/planted.py`), with semantic coverage feedback on and off?

For every planted bug and each target it applies to, RUNS fuzzing runs per feedback setting
(libFuzzer seeds 1..RUNS, a fresh corpus directory plus the seed corpus minus the seeds that
already detect the bug), each until the plant is detected or LIMIT seconds; prints one table
of median time and executions to detection (a run that never detects counts as infinite:
`>LIMIT` when most runs miss).

    bench/bench_bugfinding.py [--limit S] [--runs N] [--jobs J] [--plants a,b] [--targets t,u] [--disk-cache]
                              [--feedback on|off|both] [--json FILE]
    bench/bench_bugfinding.py --before A.json [...] --after B.json [...]  # one before|after table
    bench/bench_bugfinding.py --find-triggers   # (re)write bench/planted_triggers/<plant>.bin

`--before`/`--after` read the `--json` files of runs made on two checkouts (e.g. a git worktree
of an older commit running its own copy of this script) and print one table of both.

Not a test and not part of CI; `tests/test_bugbench.py` checks that every planted bug's trigger
is detected when replayed, so the benchmark measures search, not oracle blindness.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))

import planted  # noqa: E402

TRIGGERS = HERE / "planted_triggers"
ENTRY = HERE / "bugbench_fuzz.py"


def clean_seeds(plant: str, target_name: str, dest: Path) -> int:
    """Copy into `dest` the seed corpus of `target_name` minus the inputs that already detect
    `plant` (so a run starts without the answer); returns how many were left out."""
    from itfuzz import targets
    from itfuzz.findings import Finding
    p = planted.PLANTS[plant]
    dest.mkdir(parents=True)
    undo = p.patch()
    dropped = 0
    try:
        target = targets.get(target_name)
        for f in sorted((ROOT / "corpus" / target_name).iterdir()):
            data = f.read_bytes()
            try:
                target.execute(data)
            except Finding as e:
                if p.detects(e.signature):
                    dropped += 1
                    continue
            (dest / f.name).write_bytes(data)
    finally:
        undo()
    return dropped


def one_run(plant: str, target: str, semantic: bool, seed: int, limit: float,
            seeds: Path, disk_cache: bool = False, jobs: int = 1) -> dict:
    """One fuzzing run in a subprocess; {"found", "seconds", "execs", "signature"}
    (`disk_cache`: with a fresh on-disk cache and its precompile helper, as `itfuzz fuzz` with
    `jobs` fuzzing processes: no helpers when they fill the cores)."""
    with tempfile.TemporaryDirectory(prefix="bugbench-") as tmp:
        out = Path(tmp) / "result.json"
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        env = dict(os.environ, ITFUZZ_PLANT=plant, ITFUZZ_BENCH_OUT=str(out),
                   ITFUZZ_BENCH_LIMIT=str(limit),
                   ITFUZZ_SEMANTIC="1" if semantic else "0", PYTHONHASHSEED="0",
                   PYTHONPATH=os.pathsep.join([str(ROOT / "src"),
                                               os.environ.get("PYTHONPATH", "")]))
        env["ITFUZZ_DISK_CACHE"] = "1" if disk_cache else "0"
        if disk_cache:
            env["ITFUZZ_CACHE"] = str(Path(tmp) / "cache")
            from itfuzz.fuzzing import PRECOMPILE_ENV
            from itfuzz.ops import libfuzzer
            if libfuzzer.fills_the_cores(jobs):  # as `itfuzz fuzz` with that many workers
                env.setdefault(PRECOMPILE_ENV, "0")
        cmd = [sys.executable, str(ENTRY), target, f"-seed={seed}",
               f"-max_total_time={int(limit) + 600}", "-timeout=300", "-rss_limit_mb=4096",
               f"-artifact_prefix={tmp}/", "-print_final_stats=1", str(corpus), str(seeds)]
        start = time.monotonic()
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp,
                           timeout=limit + 900)
        wall = time.monotonic() - start
        if not out.exists():
            tail = "\n".join(p.stderr.splitlines()[-15:])
            raise RuntimeError(f"{plant}/{target} seed {seed}: exit {p.returncode} without "
                               f"a result:\n{tail}")
        r = json.loads(out.read_text())
        if not r["found"]:
            r["seconds"] = float("inf")
        r["wall"] = wall
        r["limit"] = limit
        return r


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def fmt_time(s: float, limit: float) -> str:
    return f">{limit:.0f}" if s == float("inf") else f"{s:.1f}"


def fmt_execs(found: list[dict]) -> str:
    xs = [r["execs"] if r["found"] else float("inf") for r in found]
    m = median(xs)
    if m == float("inf"):
        return ">" + str(int(median([r["execs"] for r in found])))
    return str(int(m))


def cell(rs: list[dict], limit: float, width: int = 9) -> str:
    """`found/runs  median s  median execs` of one setting's runs."""
    found = sum(bool(r["found"]) for r in rs)
    t = median([r["seconds"] if r["found"] else float("inf") for r in rs])
    return (f"{found}/{len(rs)}".rjust(width) + " " + fmt_time(t, limit).rjust(9) + " "
            + fmt_execs(rs).rjust(8))


def compare(before: list[dict], after: list[dict]) -> str:
    """One table of two result lists (`--json` records): per planted bug, target and feedback
    setting, found/runs, median seconds and executions to detection before | after."""
    groups: dict[tuple, dict[str, list[dict]]] = {}
    for side, records in (("before", before), ("after", after)):
        for r in records:
            groups.setdefault((r["plant"], r["target"], r["semantic"]), {}).setdefault(
                side, []).append(r)
    limit = max([r.get("limit", 0.0) for r in before + after] or [0.0])
    head = (f"{'planted bug':22} {'target':20} {'fb':3} {'before':>9} {'median s':>9} "
            f"{'execs':>8}  {'after':>9} {'median s':>9} {'execs':>8}")
    lines = [f"median per side (a miss counts as infinite; limit {limit:.0f} s)", head,
             "-" * len(head)]
    order = {name: i for i, name in enumerate(planted.PLANTS)}
    for key in sorted(groups, key=lambda k: (order.get(k[0], len(order)), k[0], k[1], not k[2])):
        sides = groups[key]
        cells = [cell(sides[s], limit) if s in sides else "-".rjust(9) + " " * 19
                 for s in ("before", "after")]
        lines.append(f"{key[0]:22} {key[1]:20} {'on' if key[2] else 'off':3} "
                     f"{cells[0]}  {cells[1]}")
    return "\n".join(lines)


def load_results(paths: list[str]) -> list[dict]:
    """The records of several `--json` files, concatenated."""
    return [r for p in paths for r in json.loads(Path(p).read_text())]


def benchmark(args) -> int:
    plants = args.plants.split(",") if args.plants else list(planted.PLANTS)
    wanted = set(args.targets.split(",")) if args.targets else None
    settings = {"both": (True, False), "on": (True,), "off": (False,)}[args.feedback]
    jobs = []
    for name in plants:
        for target in planted.PLANTS[name].targets:
            if wanted and target not in wanted:
                continue
            for seed in range(args.seed_base, args.seed_base + args.runs):
                for semantic in settings:  # interleaved: both see the same machine load
                    jobs.append((name, target, semantic, seed))
    print(f"bugbench: {len(jobs)} runs, limit {args.limit:.0f} s each, {args.jobs} in parallel",
          flush=True)
    results: dict[tuple, list[dict]] = {}
    work_dir = Path(tempfile.mkdtemp(prefix="bugbench-seeds-"))
    seed_dirs = {}
    for name, target in sorted({j[:2] for j in jobs}):
        seed_dirs[name, target] = work_dir / f"{name}-{target}"
        dropped = clean_seeds(name, target, seed_dirs[name, target])
        print(f"  seeds for {name} on {target}: {dropped} seed(s) that already detect it left out",
              flush=True)

    def work(job):
        r = one_run(*job, limit=args.limit, seeds=seed_dirs[job[:2]],
                    disk_cache=args.disk_cache, jobs=args.jobs)
        name, target, semantic, seed = job
        print(f"  {name:22} {target:20} semantic={'on ' if semantic else 'off'} seed={seed}: "
              + (f"found in {r['seconds']:.1f} s, {r['execs']} execs ({r['signature']})"
                 if r["found"] else f"not found ({r['execs']} execs)"), flush=True)
        return job, r

    with ThreadPoolExecutor(args.jobs) as pool:
        for job, r in pool.map(work, jobs):
            results.setdefault(job[:3], []).append(r)
    if args.json:
        Path(args.json).write_text(json.dumps(
            [{"plant": k[0], "target": k[1], "semantic": k[2], **r}
             for k, rs in results.items() for r in rs], default=str, indent=1))

    head = f"{'planted bug':22} {'target':20}" + "".join(
        f" {'on: found' if s else 'off: found':>10} {'median s':>9} {'execs':>8} "
        for s in settings)
    print(f"\nmedian over {args.runs} runs, limit {args.limit:.0f} s (a miss counts as infinite)")
    print(head)
    print("-" * len(head))
    for name in plants:
        for target in planted.PLANTS[name].targets:
            if (name, target, settings[0]) not in results:
                continue
            print(f"{name:22} {target:20}" + "".join(
                " " + cell(results[(name, target, s)], args.limit, 10) + " " for s in settings))
    shutil.rmtree(work_dir, ignore_errors=True)
    return 0


# -- triggers ----------------------------------------------------------------------------------
def find_trigger(name: str, target_name: str, tries: int, seed: int) -> bytes | None:
    """A small input on which `target_name` detects plant `name` (corpus first, then seeded
    random mutations of it); the plant is applied only while searching."""
    from itfuzz import targets
    from itfuzz.findings import Finding
    plant = planted.PLANTS[name]
    undo = plant.patch()
    try:
        target = targets.get(target_name)
        seeds = [p.read_bytes() for p in sorted((ROOT / "corpus" / target_name).iterdir())]
        rnd = random.Random(seed)
        candidates = iter(seeds)
        for i in range(tries):
            data = next(candidates, None)
            if data is None:
                base = bytearray(rnd.choice(seeds) if rnd.random() < 0.7 else
                                 rnd.randbytes(rnd.randrange(1, 400)))
                for _ in range(rnd.randrange(1, 8)):
                    if base:
                        base[rnd.randrange(len(base))] = rnd.randrange(256)
                base += rnd.randbytes(rnd.randrange(0, 200))
                data = bytes(base)
            try:
                target.execute(data)
            except Finding as f:
                if plant.detects(f.signature):
                    print(f"{name}: {target_name} input #{i} ({len(data)} bytes): {f.signature}")
                    return data
        return None
    finally:
        undo()


def find_triggers(args) -> int:
    TRIGGERS.mkdir(exist_ok=True)
    missing = 0
    for name in (args.plants.split(",") if args.plants else planted.PLANTS):
        data = find_trigger(name, planted.PLANTS[name].targets[0], args.tries, seed=1)
        if data is None:
            print(f"{name}: no trigger in {args.tries} tries")
            missing += 1
            continue
        (TRIGGERS / f"{name}.bin").write_bytes(data)
    return 1 if missing else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=float, default=300, help="seconds per run (default 300)")
    ap.add_argument("--runs", type=int, default=3, help="runs per bug, target and setting")
    ap.add_argument("--disk-cache", action="store_true",
                    help="each run with a fresh on-disk component cache and the precompile "
                         "helper, as `itfuzz fuzz` runs (default: neither, as older checkouts)")
    ap.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2)),
                    help="runs in parallel (default: CPU count)")
    ap.add_argument("--plants", default="", help="comma-separated planted bugs (default all)")
    ap.add_argument("--targets", default="", help="comma-separated targets (default all)")
    ap.add_argument("--seed-base", type=int, default=1, help="first libFuzzer -seed")
    ap.add_argument("--json", default="", help="also write every run's result to this file")
    ap.add_argument("--feedback", choices=("both", "on", "off"), default="both",
                    help="semantic feedback settings to run (default both)")
    ap.add_argument("--before", nargs="+", default=[], metavar="JSON",
                    help="with --after: print one before|after table of these --json files")
    ap.add_argument("--after", nargs="+", default=[], metavar="JSON")
    ap.add_argument("--find-triggers", action="store_true",
                    help="search and write bench/planted_triggers/<plant>.bin instead")
    ap.add_argument("--tries", type=int, default=20000, help="inputs per trigger search")
    args = ap.parse_args()
    if args.before or args.after:
        if not (args.before and args.after):
            ap.error("--before and --after go together")
        print(compare(load_results(args.before), load_results(args.after)))
        return 0
    return find_triggers(args) if args.find_triggers else benchmark(args)


if __name__ == "__main__":
    sys.exit(main())
