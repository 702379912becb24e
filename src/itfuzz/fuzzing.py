"""The atheris entry point shared by every script in `fuzz_targets/`.

Known findings are skipped and counted; with `-print_final_stats=1` the counts are printed as
libFuzzer-style `stat::` lines at exit (Python's atexit covers `-atheris_runs` and crashes, C's
`on_exit` covers libFuzzer's own `exit()` after `-runs`/`-max_total_time`). Set
`ITFUZZ_REPORT_KNOWN=1` to report known findings as crashes, and `ITFUZZ_ONLY_SIGNATURE=SIG` to
crash only on findings with that signature (so that libFuzzer's `-minimize_crash`, which keeps
any crash, keeps the one `itfuzz minimize` is shrinking).

Semantic features of every case and its outcome are reported as extra coverage counters
(`itfuzz.feedback.semantic`); `ITFUZZ_SEMANTIC=0` turns them off. Targets that split inputs
into structure and values mutate with `generators.mutator`; `ITFUZZ_MUTATOR=0` turns it off,
`ITFUZZ_MUTATOR=N` (N >= 2) edits the structure in 1 mutation of N instead of the target's rate
(`Target.structure_one_in`, else 1 of 4): a larger N gives more compiled-component cache hits,
fewer new signatures per minute.

`ITFUZZ_DISK_CACHE=1` (set by `itfuzz fuzz` unless `--no-component-cache`) keeps compiled
components (`engines.component_cache`) and wasm-smith modules (`generators.core_modules`) on disk
under ``$ITFUZZ_CACHE``, shared by restarts and by `-fork`/`-jobs` workers. With it, the
mutator's structure edits are compiled ahead of time by a helper process
(`engines.precompile`) on another core, and held back until that compile is done (`Deferral`)
so that their component is a disk load when they run; `ITFUZZ_PRECOMPILE=0` turns that off.
Their counters are `stat::itfuzz_precompile_*` and `stat::itfuzz_deferral_*` lines.

Under `-fork=N`, a job runs at least `ITFUZZ_FORK_JOB_MIN` seconds (default 30, at most the
run's `-max_total_time`; 0 or less keeps libFuzzer's own schedule, where job K runs K s): see
`fork_job_argv`. The parent deletes its jobs' logs, their `stat::` lines with them; with
`ITFUZZ_STATS_FILE=PATH` a process that ends normally (its time bound, `-runs`, a stop file)
appends its final counters to PATH as one JSON line (`pid`, `role`: `fuzz`, `fork-parent`,
`fork-job` or `merge`, `argv`: libFuzzer's flags, `stats`, and `cpu_s` and `start_cpu_s`: its
CPU seconds in all and before its first input). One that crashes, times out or is killed writes
none: libFuzzer ends it with `_Exit` before any exit handler of ours runs.
"""
from __future__ import annotations

import atexit
import json
import os
import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPORT_KNOWN_ENV = "ITFUZZ_REPORT_KNOWN"
ONLY_SIGNATURE_ENV = "ITFUZZ_ONLY_SIGNATURE"
MUTATOR_ENV = "ITFUZZ_MUTATOR"
DISK_CACHE_ENV = "ITFUZZ_DISK_CACHE"
PRECOMPILE_ENV = "ITFUZZ_PRECOMPILE"
FORK_JOB_MIN_ENV = "ITFUZZ_FORK_JOB_MIN"
STATS_FILE_ENV = "ITFUZZ_STATS_FILE"

# libFuzzer's -fork parent gives job K `-max_total_time=K` (capped at 300 s) and, after each job
# with new features, starts a merge process over its inputs. A native target starts in
# milliseconds; ours pays ~0.5 s per process (imports and instrumentation), then runs its seeds
# with cold caches: in 120 s runs on 2 cores, 20 jobs and 20 merges took 11-12 % of the CPU; with
# jobs of at least 30 s, 8 and 8 took 6-7 %. The parent looks at its own bound only when a job
# ends (then its stop file ends the others at their next fuzzing iteration), so a run can last up
# to one job's length past its bound: `fork_job_argv` never raises a job past the run's bound.
FORK_JOB_MIN_S = 30

_known: Counter = Counter()
_exit_done = [False]
_print_stats = [False]  # -print_final_stats=1
_oracle_stats: list = []  # the running target's oracle stats (a mapping), once built
_other_stats: list[tuple[str, dict]] = []  # (name, counters): `stat::itfuzz_NAME_COUNTER`
_closers: list[Callable[[], None]] = []  # run at exit, before the stats are printed
_start_cpu: list = [None]  # CPU seconds this process took to start fuzzing (imports, set-up)
_argv: list[list[str]] = [[]]  # the command line libFuzzer was given (after `fork_job_argv`)

# What a process is to libFuzzer (`process_role`), as written in the stats file's records.
ROLE_FUZZ, ROLE_FORK_PARENT, ROLE_FORK_JOB, ROLE_MERGE = "fuzz", "fork-parent", "fork-job", "merge"


def final_stats() -> str:
    """The `stat::` lines for known findings skipped in this process, then the oracle's counters
    (`stat::itfuzz_oracle_inputs`, `…_calls`, `…_compiles`, …)."""
    return "".join(f"stat::{name}: {n}\n" for name, n in _stat_pairs())


def _stat_pairs() -> list[tuple[str, int]]:
    """(name, count) of every counter `final_stats` prints."""
    pairs = [("itfuzz_known_findings_skipped", sum(_known.values()))]
    pairs += [(f"itfuzz_known_{k}", n) for k, n in sorted(_known.items())]
    for stats in _oracle_stats:
        pairs += [(f"itfuzz_oracle_{_stat_name(k)}", n) for k, n in _flat_stats(stats)]
    for name, stats in _other_stats:
        pairs += [(f"itfuzz_{name}_{_stat_name(k)}", n) for k, n in _flat_stats(stats)]
    return pairs


def _stat_name(key: str) -> str:
    return key.replace(':', '_').replace('-', '_')


def _flat_stats(stats, prefix: str = "") -> list[tuple[str, int]]:
    """(name, count) of the integer counters in `stats`, nested mappings (e.g. the calls per
    lane, `stats["lanes"]`) as `NAME_SUBNAME`."""
    out: list[tuple[str, int]] = []
    for k, n in sorted(stats.items(), key=lambda kv: str(kv[0])):
        if isinstance(n, dict):
            out += _flat_stats(n, f"{prefix}{k}_")
        elif isinstance(n, int) and not isinstance(n, bool):
            out.append((f"{prefix}{k}", n))
    return out


def _at_exit(*_ignored) -> None:
    """Once: the closers (the precompile helper is waited for), then the stats if asked."""
    if _exit_done[0]:
        return
    _exit_done[0] = True
    for close in _closers:
        try:
            close()
        except Exception:  # interpreter half torn down: nothing sensible left to do
            pass
    if _print_stats[0]:
        try:
            sys.stderr.write(final_stats())
            sys.stderr.flush()
        except Exception:
            pass
    stats_file = os.environ.get(STATS_FILE_ENV, "")
    if stats_file:
        try:
            _append_stats(stats_file)
        except Exception as e:  # the stat lines above are out already
            sys.stderr.write(f"itfuzz: cannot append the final stats to {stats_file}: {e}\n")


def _append_stats(path: str) -> None:
    """This process's final counters as one JSON line appended to `path`: one `write` on an
    `O_APPEND` file, so on a local file system the lines of concurrent processes do not mix."""
    argv = _argv[0] or sys.argv
    record = {"pid": os.getpid(), "role": process_role(argv), "argv": argv[1:],
              "stats": dict(_stat_pairs()), "cpu_s": round(time.process_time(), 3),
              "start_cpu_s": _start_cpu[0]}
    data = (json.dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if os.write(fd, data) != len(data):
            raise OSError("short write (disk full?)")
    finally:
        os.close(fd)


def read_stats(path: Path, offset: int = 0) -> list[dict]:
    """The records `_append_stats` wrote to `path` from byte `offset` on (a line that is not a
    whole record, e.g. cut short by a full disk, is skipped)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            lines = f.read().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r, dict) and isinstance(r.get("role"), str) \
                and isinstance(r.get("stats"), dict):
            records.append(r)
    return records


def summed_stats(records: list[dict], role: str = ROLE_FORK_JOB) -> dict[str, int]:
    """The counters of the records of `role`, summed (a `-fork` run's jobs: the parent deletes
    their logs and prints none of our `stat::` lines)."""
    total: dict[str, int] = {}
    for r in records:
        if r["role"] == role:
            for k, n in r["stats"].items():
                total[k] = total.get(k, 0) + n
    return total


def process_role(argv: list[str]) -> str:
    """What libFuzzer runs this process as: a merge step (`-merge`, or after a `-fork` job), a
    fork job, a fork parent, or anything else (`ROLE_*`)."""
    if flag_value(argv, "merge_control_file") is not None:
        return ROLE_MERGE
    if is_fork_job(argv):
        return ROLE_FORK_JOB
    if fork_workers(argv) > 0:
        return ROLE_FORK_PARENT
    return ROLE_FUZZ


def flag_value(argv: list[str], name: str) -> str | None:
    """The value of libFuzzer flag `-name=VALUE` in `argv`: the last one wins, as in libFuzzer."""
    values = [a.split("=", 1)[1] for a in argv if a.startswith(f"-{name}=")]
    return values[-1] if values else None


def flag_int(value: str | None) -> int:
    """A libFuzzer integer flag's value read as libFuzzer reads it: an optional `-`, then the
    digits up to the first other character (none: 0)."""
    if not value:
        return 0
    sign, digits = (-1, value[1:]) if value[0] == "-" else (1, value)
    n = 0
    for ch in digits:
        if not "0" <= ch <= "9":
            break
        n = n * 10 + ord(ch) - ord("0")
    return sign * n


def fork_workers(argv: list[str]) -> int:
    """N of `-fork=N` (0: no fork mode)."""
    return flag_int(flag_value(argv, "fork"))


def is_fork_job(argv: list[str]) -> bool:
    """A `-fork` job: the fork parent alone gives `-stop_file=` and `-features_dir=` together."""
    return (flag_value(argv, "stop_file") is not None
            and flag_value(argv, "features_dir") is not None)


def _register_exit() -> None:
    atexit.register(_at_exit)
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        callback = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p)(_at_exit)
        _register_exit.keep = callback  # must outlive the process
        libc.on_exit(callback, None)
    except (OSError, AttributeError):  # no glibc: the atexit path still covers -atheris_runs
        pass


def enable_disk_caches() -> None:
    """Compiled components and wasm-smith output on disk in this process."""
    from itfuzz.engines import component_cache
    from itfuzz.generators.core_modules import smith
    component_cache.enable()
    smith.use_disk()


# Plumbing whose Python branches are no coverage of Wasmtime: the C-API lane's per-call value
# encoding and call path (its checks run in C; instrumented, a C-lane round trip costs ~2x).
UNINSTRUMENTED = ("itfuzz.engines.capi.encoding", "itfuzz.engines.capi.lane",
                  "itfuzz.engines.capi.layout", "itfuzz.oracles.capi_lane",
                  "itfuzz.engines.precompile")
# Layers whose branches are functions of the input bytes alone (decoding, the value and ABI
# models, the semantic features): their paths mirror the input's shape, which reaches libFuzzer as
# semantic features anyway. Measured (600 mutated round-trip inputs replayed, CPU time per
# input): nothing instrumented 2.44 ms, engines/oracles/targets only 2.66 ms, all of itfuzz
# 4.54 ms. What Wasmtime and wasmtime-py answered shows in engines/ and oracles/, which stay
# instrumented; `ITFUZZ_INSTRUMENT=all` instruments these layers too.
PURE_LAYERS = ("model", "abi", "generators", "feedback")
INSTRUMENT_ENV = "ITFUZZ_INSTRUMENT"


def uninstrumented() -> list[str]:
    """Module names atheris must not instrument (exact names: its `exclude`)."""
    names = list(UNINSTRUMENTED)
    if os.environ.get(INSTRUMENT_ENV, "") != "all":
        root = Path(__file__).resolve().parent
        for layer in PURE_LAYERS:
            names += [f"itfuzz.{layer}"] + [f"itfuzz.{layer}.{p.stem}"
                                           for p in sorted((root / layer).glob("*.py"))]
    return names


def main(target_name: str) -> None:
    """Instrument itfuzz, build the target once, and hand `TestOneInput` to libFuzzer."""
    import atheris

    fork_job_min = _env_int(FORK_JOB_MIN_ENV, FORK_JOB_MIN_S)  # a typo fails before the build
    with atheris.instrument_imports(include=["itfuzz"], exclude=uninstrumented()):
        from itfuzz import targets
        from itfuzz.findings import Finding

        target = targets.get(target_name)
        _ = target.oracle  # imports the target's modules (instrumented) and builds its engine
    if isinstance(getattr(target.oracle, "stats", None), dict):
        _oracle_stats.append(target.oracle.stats)

    disk_cache = os.environ.get(DISK_CACHE_ENV, "") not in ("", "0")
    if disk_cache:
        enable_disk_caches()

    from itfuzz.feedback import semantic  # not instrumented: its counters are the feedback
    reporter = semantic.install()
    skip_known = os.environ.get(REPORT_KNOWN_ENV, "") in ("", "0")
    only = os.environ.get(ONLY_SIGNATURE_ENV, "")
    _print_stats[0] = "-print_final_stats=1" in sys.argv
    _register_exit()

    def test_one_input(data: bytes) -> None:
        try:
            outcome = target.execute(data, skip_known=skip_known)
        except Finding as f:
            if reporter is not None:
                semantic.report_case(target.features, target.last_case, "finding:" + f.check)
            if only and f.signature != only:
                return
            sys.stderr.write("\n" + f.report() + "\n")
            sys.stderr.flush()
            raise
        if reporter is not None:
            semantic.report_case(target.features, target.last_case,
                                 semantic.outcome_class(outcome.status, outcome.detail))
        if outcome.status == "known":
            _known[outcome.detail] += 1
            n = target.counts["known"]
            if n & (n - 1) == 0:  # 1, 2, 4, 8…: visible without flooding the log
                sys.stderr.write(f"#itfuzz skipped known findings: {n} (last {outcome.detail})\n")

    argv = _argv[0] = fork_job_argv(sys.argv, fork_job_min)
    atheris.Setup(argv, test_one_input, **mutator_hooks(target, precompile=disk_cache))
    calm_gc()
    _start_cpu[0] = round(time.process_time(), 3)
    atheris.Fuzz()


def fork_job_argv(argv: list[str], minimum: int) -> list[str]:
    """`argv` with a `-fork` job's time bound (the last `-max_total_time`, the parent's) raised to
    at least `minimum` seconds (`is_fork_job`), but never past the whole run's own bound (the
    user's `-max_total_time`, the one before it; 0 or less: none); any other command line
    unchanged."""
    if minimum <= 0 or not is_fork_job(argv):
        return argv
    bounds = [i for i, a in enumerate(argv) if a.startswith("-max_total_time=")]
    if not bounds:
        return argv
    seconds = [flag_int(argv[i].split("=", 1)[1]) for i in bounds]
    if len(bounds) > 1 and seconds[-2] > 0:
        minimum = min(minimum, seconds[-2])
    if seconds[-1] >= minimum:
        return argv
    last = bounds[-1]
    return argv[:last] + [f"-max_total_time={minimum}"] + argv[last + 1:]


def _env_int(name: str, default: int) -> int:
    """An integer from the environment, `default` when unset; a clear error when malformed."""
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"itfuzz: {name}={raw!r} is not a whole number") from None


# Young objects the cyclic garbage collector lets accumulate before it runs (Python's default:
# 700). An input allocates thousands (values, wasmtime-py's wrappers), and every oracle cache
# entry is another object a full collection walks. Replaying 6,000 mutated round-trip inputs
# without atheris: GC 1.72 s of 23.6 s CPU in 2,364 collections by default, 0.42 s of 22.3 s in
# 104 with this and the start-up objects frozen; the same peak RSS (300 MB).
GC_YOUNG = 10000


def calm_gc() -> None:
    """Fewer cyclic collections in the fuzzing process: the objects made so far (modules, the
    target, its engine) are never walked again, and collections wait for `GC_YOUNG` new objects.
    Outcomes do not depend on when the collector runs (a store left in a cycle only lives on a
    little longer)."""
    import gc
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, 10, 10)


def mutator_hooks(target, precompile: bool = False) -> dict:
    """`atheris.Setup`'s custom mutator and crossover for a target that splits its inputs into
    structure and values (`generators.mutator`: values change far more often than the types, so
    the compiled component is reused); none when `ITFUZZ_MUTATOR=0` (libFuzzer's own). With
    `precompile` (the disk cache is on), structure edits are compiled ahead of time and held
    back (`precompiler`, `Deferral`)."""
    end = target.structure_end
    setting = os.environ.get(MUTATOR_ENV, "")
    if end is None or setting == "0":
        return {}
    from itfuzz.generators import mutator  # not instrumented: its branches are not coverage
    one_in = target.structure_one_in or mutator.STRUCTURE_ONE_IN
    if setting:
        try:
            one_in = float(setting)
        except ValueError:
            one_in = 0.0
        if not 2 <= one_in < float("inf"):
            raise SystemExit(f"itfuzz: {MUTATOR_ENV}={setting!r}: use 0 (libFuzzer's mutator) or "
                             "a number N >= 2 (edit the structure in 1 mutation of N, e.g. 4.5)")
    used, sig_end = target.read_end, target.signature_end

    def mutate(data: bytes, size: int, seed: int, values_only: bool = False) -> bytes:
        return mutator.mutate(data, size, seed, end, one_in, used, sig_end, values_only)

    custom: Callable[[bytes, int, int], bytes] = mutate
    pre = precompiler(target) if precompile else None
    if pre is not None:
        custom = Deferral(mutate, lambda seed: mutator.structure_turn(seed, one_in),
                          lambda data: submit_component(pre, target, data), lambda: pre.on,
                          pre.done)
        _other_stats.append(("deferral", custom.stats))
    return {"custom_mutator": custom,
            "custom_crossover": lambda a, b, size, seed: mutator.crossover(a, b, size, seed, end,
                                                                           used)}


def precompiler(target):
    """The precompile helper's client for `target` (started now, waited for at exit, its
    counters in the final stats), or None: the target names no components, the disk
    cache is off, `ITFUZZ_PRECOMPILE=0`, or this is a frozen (PyInstaller) binary, which cannot
    run `python -m`."""
    from itfuzz.engines import component_cache
    cache = component_cache.active()
    if (target.component_of is None or cache is None or os.environ.get(PRECOMPILE_ENV) == "0"
            or getattr(sys, "frozen", False)):
        return None
    from itfuzz.engines.precompile import Precompiler
    prefix = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("-artifact_prefix=")),
                  "")  # libFuzzer's default: the working directory
    pre = Precompiler(cache.disk.directory, cache.disk.max_bytes, artifacts=prefix)
    pre.start()
    _closers.append(pre.close)
    _other_stats.append(("precompile", pre.stats))
    return pre


def submit_component(pre, target, data: bytes) -> int | None:
    """Ask `pre` to compile the component `data` will run on; the request's ticket, or None
    when nothing was sent (never raises: an input that cannot say meets the problem when it
    runs)."""
    if not pre.on:
        return None
    try:
        request = target.component(data)
    except Exception:
        return None
    return pre.submit(*request) if request is not None else None


class Deferral:
    """A custom mutator that holds each structure edit back until its component, submitted for
    compiling when the edit is made, is compiled (`done(ticket)`), so it is a disk load when it
    runs. At a structure-edit turn (`structure_turn(seed)`) it returns the oldest edit held if
    that one is done, or has waited `MAX_WAITS` turns (`unready`: a compile that hangs or
    crashes in the helper then happens in the fuzzing process, on the input that causes it),
    and makes, submits and holds a new edit while fewer than `DEPTH` are held. A turn whose
    oldest edit is not compiled yet is a value edit (`waited`), as is one whose edit no longer
    fits `max_size` (`dropped`). With `done` always true each edit is held one structure turn.
    Every other turn is `mutate`'s own; `mutate(data, max_size, seed, values_only)` stays a pure
    function, but which turn returns a held edit depends on the helper's timing: a run's
    mutations repeat under `-seed` only with the helper off (`ITFUZZ_PRECOMPILE=0`)."""

    # Measured (90 s runs, one edit held, answered or not): 19 % of the held edits ran before
    # the helper had compiled them, so the fuzzing process compiled them too (~7 ms each). With
    # two held, 3.7-5.4 % of the structure turns waited.
    DEPTH = 2
    MAX_WAITS = 16  # ~80 inputs at 1 structure turn in 5; a compile takes ~5-50 ms

    def __init__(self, mutate: Callable[[bytes, int, int, bool], bytes],
                 structure_turn: Callable[[int], bool], submit: Callable[[bytes], Any],
                 active: Callable[[], bool] = lambda: True,
                 done: Callable[[Any], bool] = lambda ticket: True) -> None:
        self.mutate = mutate
        self.structure_turn = structure_turn
        self.submit = submit  # returns a ticket for `done`
        self.active = active  # False once the helper is off: nothing is held back any more
        self.done = done
        self.pending: deque[tuple[bytes, Any]] = deque()  # (edit, ticket), oldest first
        self.waits = 0  # turns the oldest edit has waited
        self.stats = {"held": 0, "waited": 0, "unready": 0, "dropped": 0}

    def __call__(self, data: bytes, max_size: int, seed: int) -> bytes:
        if not self.structure_turn(seed):
            return self.mutate(data, max_size, seed, False)
        out = None
        if self.pending:
            if not self.active() or self.done(self.pending[0][1]):
                out = self.pending.popleft()[0]
            elif self.waits >= self.MAX_WAITS:
                out = self.pending.popleft()[0]
                self.stats["unready"] += 1
            else:
                self.waits += 1
                self.stats["waited"] += 1
            if out is not None:
                self.waits = 0
        if not self.active():  # (`done` may have found the helper gone)
            if out is not None and len(out) <= max_size:
                return out
            self.stats["dropped"] += out is not None
            return self.mutate(data, max_size, seed, False)
        if len(self.pending) < self.DEPTH:
            edit = self.mutate(data, max_size, seed, False)
            self.pending.append((edit, self.submit(edit)))
            self.stats["held"] += 1
        if out is None or len(out) > max_size:
            self.stats["dropped"] += out is not None
            return self.mutate(data, max_size, seed, True)
        return out
