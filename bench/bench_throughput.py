#!/usr/bin/env python3
"""Throughput of a REAL libFuzzer run of a target, as `itfuzz fuzz` runs it (the executable
`fuzz_targets/TARGET.py` with `itfuzz fuzz`'s defaults and environment), from a fresh temporary
working corpus seeded from `corpus/TARGET`, with a fresh compiled-component cache directory.

Usage: bench/bench_throughput.py [--seconds N] [--target T] [--json] [--no-component-cache]
                                 [--restart] [--fork-compare] [--seed S]

Prints (from the fuzzing process's `stat::` lines at exit and the wall/CPU time it took):
round_trips_per_s (checked calls/s), exec_per_s, cache_hit_rate (inputs that needed no compile:
1 - compiles/inputs), disk_hit_rate (compiles served by the on-disk cache), signatures_per_min
(distinct components compiled per minute; differential_spec: distinct core modules run),
smith_hit_rate (differential_spec: inputs that needed no wasm-smith process), cov and ft
(libFuzzer's coverage and features at the end), lanes (calls per lane: the oracle's
`stats["lanes"]`, else all "py"), exec_per_cpu_s and seconds_to_inited (libFuzzer's replay of
the corpus). `ITFUZZ_MUTATOR` in the environment reaches the fuzzing process (`=0`: libFuzzer's
own mutator, for a before/after comparison).
`--restart`: then replays of the grown corpus (`-runs=0`, twice each, alternating) with the disk
cache the first run filled and without it (CPU and wall seconds of the replay: what the cache
does to a restart), and two more full runs of the grown corpus (each on its own copy), with and
without the cache.
`--fork-compare`: then the same run with `-fork=2`; exec and round trips per CPU-second next to
one process. A -fork run's executions and counters are its jobs' own (each process appends them
to `ITFUZZ_STATS_FILE`; the parent deletes the jobs' logs and never counts the jobs its time
limit stops), with where the CPU went (`fork`: jobs, their start-up, merge processes, the rest).
With `--json`: one JSON object (the first run's numbers at the top level, the others nested).
Findings do not stop the run (the fuzzing process's ITFUZZ_ONLY_SIGNATURE matches none of them;
reproduce with `itfuzz fuzz`). Not a test: numbers for the issue, run on a quiet machine.
"""
from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from itfuzz.fuzzing import (  # noqa: E402
    DISK_CACHE_ENV,
    ONLY_SIGNATURE_ENV,
    ROLE_FORK_JOB,
    ROLE_FUZZ,
    ROLE_MERGE,
    STATS_FILE_ENV,
    read_stats,
    summed_stats,
)
from itfuzz.ops import libfuzzer  # noqa: E402

STAT = re.compile(r"^stat::(\w+):\s*(\d+)\s*$", re.M)
FORK_LINE = re.compile(r"^#(\d+): cov: .* exec/s:? \d+", re.M)
INITED = re.compile(r"^#\d+\s+INITED\s")
COVERAGE = re.compile(r"^#\d+\s+\w+\s+cov: (\d+) ft: (\d+)", re.M)
NO_SIGNATURE = "bench-throughput|none"  # matches no finding


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def fuzz(target: str, seconds: int, corpus: Path, cache: Path, disk_cache: bool,
         extra: tuple[str, ...] = ()) -> dict:
    """One libFuzzer run; its numbers."""
    artifacts = corpus.parent / "artifacts"
    artifacts.mkdir(exist_ok=True)
    flags = [f"-max_total_time={seconds}", f"-artifact_prefix={artifacts}/", *extra,
             str(corpus), str(ROOT / "corpus" / target)]
    cmd = libfuzzer.fuzz_command(target, flags, ROOT)
    env = libfuzzer.env(disk_cache=disk_cache, flags=list(extra))
    env["ITFUZZ_CACHE"] = str(cache)
    env[DISK_CACHE_ENV] = "1" if disk_cache else "0"
    env[ONLY_SIGNATURE_ENV] = NO_SIGNATURE  # findings do not end the run (counted, not shown)
    stats_file = corpus.parent / f"stats-{time.monotonic_ns()}.jsonl"
    env[STATS_FILE_ENV] = str(stats_file)
    cpu0, start = cpu_children(), time.monotonic()
    inited = None
    lines = []
    files = sum(1 for _ in corpus.iterdir())
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, errors="replace", cwd=corpus.parent)
    assert proc.stderr is not None
    for line in proc.stderr:
        if inited is None and INITED.search(line):
            inited = time.monotonic() - start
        lines.append(line)
    proc.wait()
    wall, cpu = time.monotonic() - start, cpu_children() - cpu0
    log = "".join(lines)
    stats = {k: int(v) for k, v in STAT.findall(log)}
    forked = FORK_LINE.findall(log)
    processes = read_stats(stats_file)
    one = [p for p in processes if p["role"] == ROLE_FUZZ]
    fork = None
    if forked:
        # -fork: the parent counts a job's executions when it merges the job, and the jobs
        # still running at its time limit are stopped, never merged: count every job's own
        # inputs instead (their logs are deleted; `ITFUZZ_STATS_FILE` keeps their counters).
        fork = fork_breakdown(processes, cpu)
        fork["executions_counted_by_parent"] = int(forked[-1])
        stats = summed_stats(processes)  # the parent prints none of ours
    # our own count of inputs run (libFuzzer's number_of_executed_units in one process)
    execs = stats.get("itfuzz_oracle_inputs", stats.get("number_of_executed_units", 0))
    o = {k[len("itfuzz_oracle_"):]: v for k, v in stats.items() if k.startswith("itfuzz_oracle_")}
    inputs, calls, compiles = o.get("inputs", 0), o.get("calls", 0), o.get("compiles", 0)
    lanes = {k[len("lanes_"):]: v for k, v in o.items() if k.startswith("lanes_")} or (
        {"py": calls} if o else {})
    cov = COVERAGE.findall(log)
    return {
        "target": target, "seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
        "exit_code": proc.returncode, "executions": execs,
        "exec_per_s": round(execs / wall, 1),
        "exec_per_cpu_s": round(execs / cpu, 1) if cpu else None,
        "round_trips_per_s": round(calls / wall, 1),
        "round_trips_per_cpu_s": round(calls / cpu, 1) if cpu else None,
        "calls_per_input": round(calls / inputs, 2) if inputs else None,
        "cache_hit_rate": round(1 - compiles / inputs, 4) if inputs else None,
        "disk_hit_rate": round(o.get("compile_disk_hits", 0) / compiles, 4) if compiles else None,
        "signatures_per_min": round(o.get("distinct", compiles) * 60 / wall, 1),
        "smith_hit_rate": (round(1 - o["smith_runs"] / inputs, 4)
                           if inputs and "smith_runs" in o else None),
        "cov": int(cov[-1][0]) if cov else None,
        "ft": int(cov[-1][1]) if cov else None,
        "lanes": lanes,
        "seconds_to_inited": round(inited, 1) if inited is not None else None,
        "corpus_files_at_start": files,
        "disk_cache": disk_cache,
        "oracle_stats": o,
        # the precompile helper's and the deferral's counters (`itfuzz.fuzzing`), when on
        "helpers": {k[len("itfuzz_"):]: v for k, v in stats.items()
                    if k.startswith(("itfuzz_precompile_", "itfuzz_deferral_"))},
        "fork": fork,
        # the fuzzing process's CPU before its first input, and its executions per CPU-second
        # after that (its own CPU, without a helper's)
        "start_cpu_s": one[0]["start_cpu_s"] if len(one) == 1 else None,
        "loop_exec_per_cpu_s": (round(execs / (one[0]["cpu_s"] - one[0]["start_cpu_s"]), 1)
                                if len(one) == 1 and one[0]["start_cpu_s"] is not None else None),
        "log_tail": "" if proc.returncode == 0 else log[-3000:],
    }


def fork_breakdown(processes: list[dict], cpu: float) -> dict:
    """Where a `-fork` run's CPU went: its jobs (their start-up apart), its merge processes and
    the rest (the parent, helpers, and any process that wrote no record: one that crashed or
    was killed); the jobs' executions per CPU-second once started."""
    jobs = [p for p in processes if p["role"] == ROLE_FORK_JOB]
    merges = [p for p in processes if p["role"] == ROLE_MERGE]
    job_cpu = sum(p["cpu_s"] for p in jobs)
    start = sum(p["start_cpu_s"] or 0 for p in jobs)
    merge_cpu = sum(p["cpu_s"] for p in merges)
    execs = sum(p["stats"].get("itfuzz_oracle_inputs", 0) for p in jobs)
    return {"jobs": len(jobs), "merge_processes": len(merges),
            "merge_inputs": sum(p["stats"].get("itfuzz_oracle_inputs", 0) for p in merges),
            "cpu_s_jobs": round(job_cpu, 1), "cpu_s_job_start_up": round(start, 1),
            "cpu_s_merges": round(merge_cpu, 1),
            "cpu_s_rest": round(cpu - job_cpu - merge_cpu, 1),
            "job_loop_exec_per_cpu_s": round(execs / (job_cpu - start), 1)
            if job_cpu > start else None}


def replays(target: str, corpus: Path, cache: Path, rounds: int = 2) -> dict:
    """CPU and wall seconds of replaying `corpus` (libFuzzer `-runs=0`) with and without the
    filled disk cache, `rounds` times each, alternating; the means and the ratio."""
    runs: dict = {"with_disk_cache": [], "without_disk_cache": []}
    for _ in range(rounds):
        for name, on in (("with_disk_cache", True), ("without_disk_cache", False)):
            r = fuzz(target, 0, corpus, cache, on, ("-runs=0",))
            runs[name].append((r["cpu_seconds"], r["seconds"], r["oracle_stats"]))
    out: dict = {"inputs": runs["with_disk_cache"][0][2].get("inputs", 0)}
    for name, rs in runs.items():
        out[name] = {"cpu_seconds": round(sum(c for c, _, _ in rs) / len(rs), 2),
                     "seconds": round(sum(w for _, w, _ in rs) / len(rs), 2),
                     "compiles": rs[0][2].get("compiles", 0),
                     "disk_hits": rs[0][2].get("compile_disk_hits", 0)}
    without = out["without_disk_cache"]["cpu_seconds"]
    out["cpu_ratio_with_to_without"] = (
        round(out["with_disk_cache"]["cpu_seconds"] / without, 3) if without else None)
    return out


def say_replays(r: dict, quiet: bool) -> None:
    if quiet:
        return
    print(f"-- replay of the grown corpus ({r['inputs']} inputs, -runs=0)")
    for name in ("with_disk_cache", "without_disk_cache"):
        print(f"  {name:20} {r[name]}")
    print(f"  CPU with / without   {r['cpu_ratio_with_to_without']}")


def show(name: str, r: dict) -> None:
    keys = ("seconds", "cpu_seconds", "executions", "exec_per_s", "exec_per_cpu_s",
            "round_trips_per_s", "round_trips_per_cpu_s", "calls_per_input", "cache_hit_rate",
            "disk_hit_rate", "signatures_per_min", "smith_hit_rate", "cov", "ft", "lanes",
            "helpers", "corpus_files_at_start", "seconds_to_inited", "start_cpu_s",
            "loop_exec_per_cpu_s", "fork", "exit_code")
    print(f"-- {name} (disk cache {'on' if r['disk_cache'] else 'off'})")
    for k in keys:
        print(f"  {k:20} {r[k]}")
    if r["log_tail"]:
        print("  libFuzzer did not exit cleanly; end of its log:\n" + r["log_tail"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=120)
    ap.add_argument("--target", default="component_roundtrip")
    ap.add_argument("--json", action="store_true", help="one JSON object")
    ap.add_argument("--no-component-cache", action="store_true",
                    help="the first run without the on-disk caches")
    ap.add_argument("--restart", action="store_true",
                    help="then rerun the grown corpus with and without the filled disk cache")
    ap.add_argument("--fork-compare", action="store_true",
                    help="then the same run with -fork=2 (exec per CPU-second vs one process)")
    ap.add_argument("--seed", type=int, default=0,
                    help="libFuzzer's -seed for every run (0: libFuzzer picks one); runs of one "
                         "commit spread widely with what the corpus grows into, a fixed seed "
                         "makes two commits' runs start alike")
    args = ap.parse_args()
    seed = (f"-seed={args.seed}",) if args.seed else ()
    work = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    say = (lambda *a: None) if args.json else show
    try:
        cache = work / "cache"
        corpus = work / "first" / "corpus"
        corpus.mkdir(parents=True)
        out = fuzz(args.target, args.seconds, corpus, cache, not args.no_component_cache, seed)
        say("fresh working corpus", out)
        if args.restart:
            out["replay"] = replays(args.target, corpus, cache)
            say_replays(out["replay"], args.json)
            for name, on in (("restart_with_disk_cache", True),
                             ("restart_without_disk_cache", False)):
                copy = work / name / "corpus"
                shutil.copytree(corpus, copy)
                out[name] = r = fuzz(args.target, args.seconds, copy, cache, on, seed)
                say("restart on the grown corpus", r)
        if args.fork_compare:
            fork_corpus = work / "fork" / "corpus"
            fork_corpus.mkdir(parents=True)
            fork_cache = work / "fork-cache"
            out["fork2"] = r = fuzz(args.target, args.seconds, fork_corpus, fork_cache,
                                    not args.no_component_cache, ("-fork=2", *seed))
            for key in ("exec_per_cpu_s", "round_trips_per_cpu_s"):
                one = out[key] or 0
                r[f"{key}_vs_one_process"] = round(r[key] / one, 3) if one and r[key] else None
            say("-fork=2 from a fresh working corpus", r)
            if not args.json:
                print(f"  fork2 exec per CPU-second / one process: "
                      f"{r['exec_per_cpu_s_vs_one_process']} (round trips: "
                      f"{r['round_trips_per_cpu_s_vs_one_process']})")
        if args.json:
            print(json.dumps(out, indent=1, sort_keys=True))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
