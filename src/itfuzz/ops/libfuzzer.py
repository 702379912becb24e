"""Command lines for a target's executable atheris script (`fuzz_targets/TARGET.py`).

The script is run directly (shebang), never as `python script.py`, because libFuzzer's `-fork`,
`-jobs`, `-merge` and `-minimize_crash` re-run `argv[0]`. Our defaults come first and any flag
the user gives replaces the default of the same name.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from itfuzz import targets
from itfuzz.fuzzing import DISK_CACHE_ENV, PRECOMPILE_ENV, flag_int, flag_value, fork_workers

DEFAULT_FLAGS = ("-timeout=30", "-rss_limit_mb=4096", "-print_final_stats=1")


def repo_root() -> Path:
    """The checkout this package runs from (editable install), or $ITFUZZ_ROOT, or the cwd."""
    env = os.environ.get("ITFUZZ_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parents[3]
    return here if (here / "fuzz_targets").is_dir() else Path.cwd()


def script(target: str, root: Path) -> Path:
    path = root / "fuzz_targets" / f"{target}.py"
    if not path.exists():
        raise SystemExit(f"itfuzz: no fuzz target script {path}; targets: "
                         f"{', '.join(targets.names())}")
    if not os.access(path, os.X_OK):
        raise SystemExit(f"itfuzz: {path} is not executable (libFuzzer re-runs it); chmod +x it")
    return path


def flag_name(flag: str) -> str:
    return flag.split("=", 1)[0]


def with_defaults(flags: list[str], defaults: list[str]) -> list[str]:
    """`defaults` not overridden by `flags`, then `flags`."""
    given = {flag_name(f) for f in flags}
    return [f for f in defaults if flag_name(f) not in given] + list(flags)


def artifacts_dir(target: str, root: Path) -> Path:
    return root / "artifacts" / target


def fuzz_command(target: str, extra: list[str], root: Path) -> list[str]:
    """The fuzzing command line: defaults, artifacts under artifacts/TARGET/, and the working
    corpus plus the shipped seeds unless corpus directories are given."""
    path = script(target, root)
    flags = [a for a in extra if a.startswith("-")]
    dirs = [a for a in extra if not a.startswith("-")]
    artifacts = artifacts_dir(target, root)
    defaults = list(DEFAULT_FLAGS) + [f"-artifact_prefix={artifacts}/"]
    if not dirs:
        dirs = [str(root / "work-corpus" / target)]
        seeds = root / "corpus" / target
        if seeds.is_dir():
            dirs.append(str(seeds))
    Path(dirs[0]).mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    return [str(path), *with_defaults(flags, defaults), *dirs]


def workers(flags) -> int:
    """How many fuzzing processes libFuzzer runs at once with these flags (`-fork=N`; `-jobs=N`
    with `-workers=M`, else min(N, half the cores) as libFuzzer does)."""
    flags = list(flags)
    forks = fork_workers(flags)
    if forks > 0:
        return forks
    jobs = flag_int(flag_value(flags, "jobs"))
    if jobs > 1:
        given = flag_int(flag_value(flags, "workers"))  # 0: libFuzzer's default
        return given if given > 0 else max(1, min(jobs, (os.cpu_count() or 1) // 2))
    return 1


def fills_the_cores(n: int) -> bool:
    """Whether `n` fuzzing processes leave no core idle (then no precompile helpers)."""
    return n >= (os.cpu_count() or 1)


def env(disk_cache: bool = False, flags=()) -> dict:
    """The environment for the script: this Python's bin directory first on PATH (the shebang
    is `/usr/bin/env python3`), a fixed hash seed, and this package importable; with
    `disk_cache`, the on-disk caches on (`fuzzing.DISK_CACHE_ENV`) unless the environment
    already says. When the libFuzzer `flags` run as many fuzzing processes as there are cores,
    the precompile helpers are off unless the environment says: no core is idle for them, so
    they would take CPU from the fuzzing processes (-fork=2 on 2 cores, exec per CPU-second vs
    one process: 0.885 with them, 0.875 and 1.017 without)."""
    e = dict(os.environ)
    if disk_cache:
        e.setdefault(DISK_CACHE_ENV, "1")
    if fills_the_cores(workers(flags)):
        e.setdefault(PRECOMPILE_ENV, "0")
    e["PATH"] = os.path.dirname(sys.executable) + os.pathsep + e.get("PATH", "")
    e.setdefault("PYTHONHASHSEED", "0")
    src = str(Path(__file__).resolve().parents[2])
    paths = [p for p in e.get("PYTHONPATH", "").split(os.pathsep) if p]
    if src not in paths:
        e["PYTHONPATH"] = os.pathsep.join([src, *paths])
    return e
