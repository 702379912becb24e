"""`itfuzz` command line: fuzz, repro, show, spec-test.

    itfuzz fuzz TARGET [libFuzzer flags] [CORPUS_DIR…]
    itfuzz repro TARGET FILE…
    itfuzz show TARGET FILE
    itfuzz spec-test PATH…
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from . import targets
from .findings import Finding

DEFAULT_FLAGS = ("-timeout=30", "-rss_limit_mb=4096", "-print_final_stats=1")


def repo_root() -> Path:
    """The checkout this package runs from (editable install), or $ITFUZZ_ROOT, or the cwd."""
    env = os.environ.get("ITFUZZ_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parents[2]
    return here if (here / "fuzz_targets").is_dir() else Path.cwd()


def read_input(path: str) -> bytes:
    p = Path(path)
    if not p.exists():
        raise SystemExit(f"itfuzz: {path}: no such file")
    if p.is_dir():
        raise SystemExit(f"itfuzz: {path}: is a directory; give input files")
    try:
        return p.read_bytes()
    except OSError as e:
        raise SystemExit(f"itfuzz: {path}: cannot read: {e.strerror}") from None


def fuzz_command(target: str, extra: list[str], root: Path) -> list[str]:
    """The libFuzzer command line for a target: our defaults unless the user set the flag."""
    script = root / "fuzz_targets" / f"{target}.py"
    if not script.exists():
        raise SystemExit(f"itfuzz: no fuzz target script {script}; targets: "
                         f"{', '.join(targets.names())}")
    flags = [a for a in extra if a.startswith("-")]
    dirs = [a for a in extra if not a.startswith("-")]
    given = {f.split("=")[0] for f in flags}
    artifacts = root / "artifacts" / target
    defaults = [f for f in DEFAULT_FLAGS if f.split("=")[0] not in given]
    if "-artifact_prefix" not in given:
        defaults.append(f"-artifact_prefix={artifacts}/")
    if not dirs:
        work = root / "work-corpus" / target
        dirs = [str(work), str(root / "corpus" / target)]
    for d in dirs[:1]:
        Path(d).mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    return [str(script), *defaults, *flags, *dirs]


def cmd_fuzz(args) -> int:
    root = repo_root()
    cmd = fuzz_command(args.target, args.flags, root)
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONHASHSEED", "0")
    prefix = next(a for a in cmd if a.startswith("-artifact_prefix="))
    print(f"itfuzz: fuzzing {args.target}; crashes go to {prefix.split('=', 1)[1]}", flush=True)
    print("itfuzz: " + " ".join(cmd), flush=True)
    return subprocess.call(cmd, env=env)


def cmd_repro(args) -> int:
    target = targets.get(args.target)
    worst = 0
    for path in args.files:
        data = read_input(path)
        try:
            outcome = target.execute(data)
        except Finding as f:
            note = targets.known_note(f)
            print(f"{path}: FINDING {f.signature}" + (f" ({note})" if note else ""))
            print(f.report())
            worst = 1
            continue
        print(f"{path}: {outcome.status}" + (f" ({outcome.detail})" if outcome.detail else ""))
    return worst


def cmd_show(args) -> int:
    print(targets.get(args.target).show(read_input(args.file)))
    return 0


def cmd_spec_test(args) -> int:
    from . import spec_test
    return spec_test.main(args.rest)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(prog="itfuzz", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fuzz", help="run a fuzz target under libFuzzer (flags pass through)")
    f.add_argument("target")
    f.add_argument("flags", nargs=argparse.REMAINDER)
    f.set_defaults(fn=cmd_fuzz)
    r = sub.add_parser("repro", help="run inputs through a target; exit 1 on a finding")
    r.add_argument("target")
    r.add_argument("files", nargs="+")
    r.set_defaults(fn=cmd_repro)
    s = sub.add_parser("show", help="decode an input and print its case (no run)")
    s.add_argument("target")
    s.add_argument("file")
    s.set_defaults(fn=cmd_show)
    t = sub.add_parser("spec-test", help="run .wast files on the OCaml spec interpreter")
    t.add_argument("rest", nargs=argparse.REMAINDER)
    t.set_defaults(fn=cmd_spec_test)
    args = p.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
