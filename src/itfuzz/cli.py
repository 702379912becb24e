"""`itfuzz` command line.

    itfuzz fuzz TARGET [libFuzzer flags] [CORPUS_DIR…]   fuzz (flags pass through; -jobs, -fork)
    itfuzz repro TARGET FILE… [--script OUT.py]          run inputs; exit 1 on a finding
    itfuzz show TARGET FILE                              decode only
    itfuzz minimize TARGET FILE [-o OUT]                 smallest input with the same signature
    itfuzz merge TARGET CORPUS NEW_DIR… [-v]             corpus minimization (-merge=1)
    itfuzz triage DIR|FILE…                              group crash files by signature
    itfuzz spec-test PATH… [-v] [-j N]                   .wast files on the OCaml interpreter
    itfuzz gen-static [--seed S] [--count N] [--resources N] [--guest N] [--out DIR]
                                                         generate the static target's cases
    itfuzz sweep [--versions A..B] TARGET FILE… [--json]  inputs × wasmtime releases, one table

`--wasmtime VERSION` (fuzz, repro, show, minimize, merge, triage) runs the verb against that
wasmtime-py release in a virtualenv of its own (made on first use under ~/.cache/itfuzz).

Options may come before, between or after the positional arguments, spelled in full (no
abbreviations); `itfuzz VERB --help` lists a verb's options. libFuzzer flags (`-name=value`, one
dash) of fuzz and merge pass through untouched; an unknown `--option` is an error there too.

Environment: ITFUZZ_SEMANTIC=0 turns semantic coverage feedback off (fuzz).

Exit codes: 0 nothing found, 1 a finding (repro, minimize's input, triage), 2 usage or input
errors (missing, unreadable or empty files, unknown targets).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from itfuzz import targets
from itfuzz.fuzzing import ROLE_FORK_JOB, STATS_FILE_ENV, fork_workers, read_stats, summed_stats
from itfuzz.ops import libfuzzer
from itfuzz.ops.libfuzzer import DEFAULT_FLAGS, fuzz_command, repo_root  # noqa: F401 (public API)
from itfuzz.ops.run import DEFAULT_TIMEOUT, InputError, run_one
from itfuzz.ops.run import read_input as _read_input


def die(message: str) -> SystemExit:
    return SystemExit(f"itfuzz: {message}")


def read_input(path: str) -> bytes:
    try:
        return _read_input(path)
    except InputError as e:
        raise die(str(e)) from None


def cmd_fuzz(args) -> int:
    root = repo_root()
    cmd = fuzz_command(args.target, args.flags, root)
    prefix = next(a for a in cmd if a.startswith("-artifact_prefix="))
    print(f"itfuzz: fuzzing {args.target}; crashes go to {prefix.split('=', 1)[1]}", flush=True)
    if any(libfuzzer.flag_name(a) in ("-jobs", "-workers") for a in args.flags):
        print(f"itfuzz: with -jobs, each job logs to fuzz-N.log in {os.getcwd()}", flush=True)
    if args.target != "differential_spec":  # component targets: what the engines can do here
        from itfuzz.engines.configs import probe
        print("\n".join(f"itfuzz: feature {line}" for line in probe()), flush=True)
    print("itfuzz: " + " ".join(cmd), flush=True)
    env = libfuzzer.env(disk_cache=not args.no_component_cache, flags=args.flags)
    if fork_workers(args.flags) <= 0:
        return subprocess.call(cmd, env=env)
    # -fork: the parent deletes its jobs' logs, their `stat::itfuzz_…` lines with them; each
    # job appends its counters to a stats file instead, summed here at the end.
    own = not env.get(STATS_FILE_ENV)
    if own:
        fd, name = tempfile.mkstemp(prefix="itfuzz-stats-", suffix=".jsonl")
        os.close(fd)
        env[STATS_FILE_ENV] = name
    path = Path(env[STATS_FILE_ENV])
    start = path.stat().st_size if path.is_file() else 0  # a file of the user's may hold more
    try:
        rc = subprocess.call(cmd, env=env)
        try:
            print_fork_sums(read_stats(path, start))
        except Exception as e:  # never at the cost of libFuzzer's exit status
            print(f"itfuzz: cannot sum the fork jobs' counters from {path}: {e}", flush=True)
        return rc
    finally:
        if own:
            path.unlink(missing_ok=True)


def print_fork_sums(records: list[dict]) -> None:
    """The `stat::` lines of a `-fork` run's jobs, summed."""
    jobs = sum(r["role"] == ROLE_FORK_JOB for r in records)
    print(f"itfuzz: the counters of the {jobs} fork jobs that reported, summed (a job that "
          "crashed, timed out or was killed reports none):", flush=True)
    for k, n in sorted(summed_stats(records).items()):
        print(f"stat::{k}: {n}", flush=True)


def cmd_repro(args) -> int:
    target = targets.get(args.target)
    datas = [(path, read_input(path)) for path in args.files]  # every file checked up front
    if args.script and len(datas) != 1:
        raise die("--script takes exactly one input file")
    if args.in_process:
        results = [run_one(target, data, args.timeout) for _, data in datas]
    else:  # a child process, so that a Wasmtime abort is reported instead of ending repro
        from itfuzz.ops.isolate import run_isolated
        results = [o.to_result() for o in run_isolated(args.target, args.files, args.timeout)]
    worst = 0
    for (path, data), r in zip(datas, results):
        print(f"== {path} ({len(data)} bytes"
              + (", empty: decodes to the default case" if not data else "") + ")")
        if r.finding is not None:
            note = targets.known_note(r.finding)
            print(f"{path}: FINDING {r.finding.signature}" + (f" ({note})" if note else ""))
            if not args.quiet:
                print(r.finding.report())
        elif r.status in ("error", "timeout"):
            print(f"{path}: {r.status.upper()} {r.signature}")
            if not args.quiet:
                print(r.detail)
        else:
            if not args.quiet:
                print(target.show(data))
            print(f"{path}: {r.status}" + (f" ({r.detail})" if r.detail else ""))
        if r.is_bug:
            worst = 1
        if args.script:
            write_script(target, data, r, path, args.script)
    return worst


def write_script(target, data: bytes, r, source: str, out: str) -> None:
    from itfuzz.ops import reproducer
    try:
        text = reproducer.script(target, data, r.finding, source)
    except reproducer.Unsupported as e:
        raise die(str(e)) from None
    Path(out).write_text(text)
    os.chmod(out, 0o755)
    note = "" if r.finding is not None else " (no finding: the script should pass)"
    print(f"itfuzz: wrote standalone reproducer {out}{note}; run: python3 {out}")


def cmd_show(args) -> int:
    print(targets.get(args.target).show(read_input(args.file)))
    return 0


def cmd_minimize(args) -> int:
    from itfuzz.ops.minimize import NotReproducible, minimize
    target = targets.get(args.target)
    data = read_input(args.file)
    try:
        m = minimize(target, data, target_name=args.target, root=repo_root(),
                     libfuzzer_seconds=args.libfuzzer_seconds, max_execs=args.max_execs,
                     timeout=args.timeout)
    except NotReproducible as e:
        raise die(f"{args.file}: nothing to minimize: {e}") from None
    out = args.output or f"{args.file}.min"
    Path(out).write_bytes(m.data)
    for line in m.stages:
        print(f"itfuzz: {line}")
    print(f"itfuzz: signature {m.result.signature} kept; {len(data)} -> {len(m.data)} bytes")
    print(f"itfuzz: smallest reproducer: {out} ({len(m.data)} bytes, hex {m.data.hex()})")
    print(m.result.finding.report() if m.result.finding else m.result.detail)
    return 0


def cmd_merge(args) -> int:
    from itfuzz.ops.corpus import merge
    flags = [a for a in args.flags if a.startswith("-")]
    dirs = [a for a in args.flags if not a.startswith("-")]
    if not dirs:
        raise die("merge needs at least one NEW directory after CORPUS")
    try:
        rep = merge(args.target, args.corpus, dirs, flags, repo_root(),
                    log=sys.stderr if args.verbose else None)
    except InputError as e:
        raise die(str(e)) from None
    for line in rep.lines():
        print(f"itfuzz: {line}")
    if rep.returncode != 0:
        print(f"itfuzz: libFuzzer merge exited with {rep.returncode} (rerun with -v for its log)")
    return 0 if rep.returncode == 0 else 1


def cmd_features(args) -> int:
    from itfuzz.engines.configs import probe
    from itfuzz.versions import wasmtime_version
    print(f"wasmtime-py {wasmtime_version()}: engine features for the component targets")
    print("\n".join(probe()))
    return 0


def cmd_triage(args) -> int:
    from itfuzz.ops.triage import triage
    target = targets.get(args.target or infer_target(args.paths))
    errors: list[str] = []
    try:
        groups = triage(target, args.paths, args.timeout, errors)
    except InputError as e:
        raise die(str(e)) from None
    for e in errors:
        print(f"itfuzz: skipped {e}", file=sys.stderr)
    print(f"{'count':>5}  signature  [engine]  smallest input")
    for g in groups:
        print(g.line())
    bugs = sum(len(g.files) for g in groups if g.example.is_bug)
    print(f"itfuzz: {sum(len(g.files) for g in groups)} files, "
          f"{sum(g.example.is_bug for g in groups)} finding groups ({bugs} files)")
    return 1 if bugs else 0


def infer_target(paths: list[str]) -> str:
    names = set(targets.names())
    for path in paths:
        hits = [part for part in Path(path).resolve().parts if part in names]
        if hits:
            return hits[-1]
    if len(names) == 1:
        return next(iter(names))
    raise die("cannot tell the target from the paths; give --target "
              f"({', '.join(sorted(names))})")


def cmd_gen_static(args) -> int:
    from itfuzz.static import gen as static_gen
    seed = static_gen.SEED if args.seed is None else args.seed
    count = static_gen.COUNT if args.count is None else args.count
    if count < 1:
        raise die("--count must be at least 1")
    out = Path(args.out) if args.out else static_gen.PACKAGE_DIR
    resources = static_gen.RESOURCES if args.resources is None else args.resources
    guest = static_gen.GUEST if args.guest is None else args.guest
    if resources < 0 or guest < 0:
        raise die("--resources and --guest must be at least 0")
    if (args.if_stale and args.seed is None and args.count is None and args.resources is None
            and args.guest is None and not args.out):
        if static_gen.is_fresh():
            return 0
    try:
        sizes = static_gen.write(out, seed, count, resources=resources, guest=guest)
    except OSError as e:
        raise die(f"cannot write {out}: {e}") from None
    print(f"itfuzz: {count} static cases + {resources} with resources + {guest} with gr "
          f"(seed {seed}) -> {out}: {len(sizes)} files, {sum(sizes.values()) / 1e6:.2f} MB")
    return 0


def cmd_sweep(args) -> int:
    from itfuzz.ops.sweep import select_versions, sweep
    for path in args.files:
        read_input(path)  # every file checked up front
    try:
        versions = select_versions(args.versions)
    except ValueError as e:
        raise die(f"--versions: {e}") from None
    targets.get(args.target)  # an unknown target fails here, not in every child
    result = sweep(args.target, args.files, versions, args.timeout, args.jobs, log=sys.stderr)
    print(result.to_json() if args.json else result.table())
    return 1 if any(o.shows_bug for o in result.cells.values()) else 0


def cmd_spec_test(args) -> int:
    from itfuzz.ops import spec_test
    return spec_test.run(args, args.parser)


# Verbs whose extra arguments go to libFuzzer untouched: any other argument starting with a
# single "-" (libFuzzer's flags are `-name=value`) and, past the verb's fixed positionals, every
# path. An unknown `--option` is an error, not a flag for libFuzzer.
PASSTHROUGH = {"fuzz": ("target",), "merge": ("target", "corpus")}
# Verbs that take `--wasmtime VERSION` (taken out of the arguments before they are parsed).
RELEASE_VERBS = ("fuzz", "repro", "show", "minimize", "merge", "triage", "features")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The `itfuzz` parser and each verb's own parser."""
    from itfuzz.ops import spec_test

    # No abbreviations: `--wasm 41.0.0` must not silently be `--wasmtime 41.0.0` (taken out
    # before parsing, so an abbreviation of it would be parsed and then ignored).
    p = argparse.ArgumentParser(prog="itfuzz", description=__doc__, allow_abbrev=False,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True, metavar="VERB")

    def verb(name: str, **kwargs) -> argparse.ArgumentParser:
        return sub.add_parser(name, allow_abbrev=False, **kwargs)

    target_help = "one of: " + ", ".join(sorted(targets.names()))

    def target_arg(sp):
        sp.add_argument("target", metavar="TARGET", help=target_help)

    def release_opt(sp):
        sp.add_argument("--wasmtime", metavar="VERSION",
                        help="run against this wasmtime-py release (e.g. 41.0.0) in its own "
                             "virtualenv, made on first use")

    def timeout_opt(sp):
        sp.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"seconds per input before it counts as a timeout "
                             f"(default {DEFAULT_TIMEOUT}; 0: none)")

    f = verb("fuzz", help="run a fuzz target under libFuzzer (flags pass through)",
                       description="Run TARGET's fuzz script under libFuzzer. Every argument "
                                   "starting with a single '-' (other than -h) is passed to "
                                   "libFuzzer untouched, in any position, as are corpus "
                                   "directories; an unknown '--option' is an error.",
                       epilog="ITFUZZ_SEMANTIC=0 turns semantic coverage feedback off")
    target_arg(f)
    f.add_argument("flags", nargs="*", metavar="-flag=value|CORPUS_DIR",
                   help="libFuzzer flags (defaults: " + " ".join(DEFAULT_FLAGS)
                        + ", -artifact_prefix=artifacts/TARGET/) and corpus directories "
                          "(default: work-corpus/TARGET and corpus/TARGET)")
    release_opt(f)
    f.add_argument("--no-component-cache", action="store_true",
                   help="do not keep compiled components (and wasm-smith modules) on disk "
                        "across runs and workers (default: kept under ~/.cache/itfuzz)")
    f.set_defaults(fn=cmd_fuzz)
    r = verb("repro", help="run inputs through a target; exit 1 on a finding")
    target_arg(r)
    r.add_argument("files", nargs="+", metavar="FILE", help="input files")
    r.add_argument("--script", metavar="OUT.py",
                   help="also write a standalone (wasmtime-only) reproducer of the one input")
    r.add_argument("-q", "--quiet", action="store_true", help="outcome lines only")
    r.add_argument("--in-process", action="store_true",
                   help="run in this process, not a child process (an abort then ends repro)")
    timeout_opt(r)
    release_opt(r)
    r.set_defaults(fn=cmd_repro)
    s = verb("show", help="decode an input and print its case (no run)")
    target_arg(s)
    s.add_argument("file", metavar="FILE")
    release_opt(s)
    s.set_defaults(fn=cmd_show)
    m = verb("minimize", help="shrink a crash input, keeping its finding signature")
    target_arg(m)
    m.add_argument("file", metavar="FILE", help="an input with a finding")
    m.add_argument("-o", "--output", metavar="OUT",
                   help="where to write the result (default FILE.min)")
    m.add_argument("--libfuzzer-seconds", type=int, default=60, metavar="SECONDS",
                   help="budget of libFuzzer's -minimize_crash stage (0: skip it; default 60)")
    m.add_argument("--max-execs", type=int, default=2000, metavar="N",
                   help="executions of the structural shrink (default 2000)")
    timeout_opt(m)
    release_opt(m)
    m.set_defaults(fn=cmd_minimize)
    g = verb("merge", help="corpus minimization: add to CORPUS what NEW adds (-merge=1)",
                       description="Add to CORPUS the inputs of the NEW directories that add "
                                   "coverage (libFuzzer -merge=1). Arguments starting with a "
                                   "single '-' (other than -v and -h) go to libFuzzer untouched; "
                                   "an unknown '--option' is an error.")
    g.add_argument("-v", "--verbose", action="store_true", help="show libFuzzer's log")
    target_arg(g)
    g.add_argument("corpus", metavar="CORPUS", help="the corpus directory to add to")
    g.add_argument("flags", nargs="*", metavar="NEW_DIR|-flag=value",
                   help="directories to merge from, and libFuzzer flags")
    release_opt(g)
    g.set_defaults(fn=cmd_merge)
    t = verb("triage", help="group crash files by finding signature")
    t.add_argument("paths", nargs="+", metavar="DIR|FILE", help="crash files, or directories of them")
    t.add_argument("--target", help="target the files belong to (default: the target named in "
                                    "the path, as in artifacts/TARGET/, or the only target)")
    timeout_opt(t)
    release_opt(t)
    t.set_defaults(fn=cmd_triage)
    e = verb("features", help="which engine features this wasmtime release supports",
             description="The start-up feature probe `itfuzz fuzz` prints: strategies "
                         "(Cranelift, Winch, Pulley), each engine setting the component "
                         "targets vary, fixed-length lists, and the combinations never used.")
    release_opt(e)
    e.set_defaults(fn=cmd_features)
    w = verb("sweep", help="run inputs on many wasmtime releases: one table",
                       description="Run each input on each wasmtime-py release (each in its own "
                                   "virtualenv and child processes, releases in parallel): a "
                                   "table of outcomes, then per input the first release that "
                                   "shows a bug and the first that no longer does.")
    target_arg(w)
    w.add_argument("files", nargs="+", metavar="FILE", help="input files")
    w.add_argument("--versions", metavar="A..B|A,B,…",
                   help="releases: a range of the known majors (e.g. 39.0.0..50.0.1) or a list "
                        "(default: every known major from 39.0.0)")
    w.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                   help="releases swept at once (default: the core count)")
    w.add_argument("--json", action="store_true", help="print JSON instead of the table")
    timeout_opt(w)
    w.set_defaults(fn=cmd_sweep)
    gs = verb("gen-static", help="generate the component_static target's typed cases")
    gs.add_argument("--seed", type=int, default=None, metavar="S", help="default: the committed seed")
    gs.add_argument("--count", type=int, default=None, metavar="N",
                    help="number of plain cases (default 1000)")
    gs.add_argument("--resources", type=int, default=None, metavar="N",
                    help="number of resource cases after them (default 128)")
    gs.add_argument("--guest", type=int, default=None, metavar="N",
                    help="number of cases with the guest's resource gr after those (default 64)")
    gs.add_argument("--out", metavar="DIR",
                    help="package directory to write (default: itfuzz/static/cases, the one "
                         "the target uses)")
    gs.add_argument("--if-stale", action="store_true",
                    help="do nothing when the default package is current (what ./run does)")
    gs.set_defaults(fn=cmd_gen_static)
    st = verb("spec-test", help="run .wast files on the OCaml spec interpreter",
                        description=spec_test.__doc__)
    spec_test.add_arguments(st)
    st.set_defaults(fn=cmd_spec_test, parser=st)
    return p, dict(sub.choices)


def split_passthrough(parser: argparse.ArgumentParser, fixed: tuple[str, ...],
                      argv: list[str]) -> tuple[list[str], list[str]]:
    """(the verb's own arguments, libFuzzer's in their original order): the verb keeps its
    options (with their values: `--opt V` or `--opt=V`) and its first `len(fixed)`
    positionals."""
    takes_value = {o: a.nargs != 0 for a in parser._actions for o in a.option_strings}
    mine: list[str] = []
    theirs: list[str] = []
    positionals = 0
    value_next = False
    for a in argv:
        if value_next:
            mine.append(a)
            value_next = False
        elif a in takes_value:
            mine.append(a)
            value_next = takes_value[a]
        elif a.startswith("--") and a.split("=", 1)[0] in takes_value:
            mine.append(a)
        elif a.startswith("-"):
            theirs.append(a)
        elif positionals < len(fixed):
            positionals += 1
            mine.append(a)
        else:
            theirs.append(a)
    return mine, theirs


def parse(argv: list[str]) -> argparse.Namespace:
    """Options in any position: each verb's arguments are parsed intermixed (positionals
    split by options still count), and libFuzzer's pass through untouched."""
    p, verbs = build_parser()
    if not argv or argv[0] not in verbs:
        return p.parse_args(argv)  # top-level help, or the usage error
    verb, rest = argv[0], argv[1:]
    sp = verbs[verb]
    if verb in PASSTHROUGH:
        mine, theirs = split_passthrough(sp, PASSTHROUGH[verb], rest)
        unknown = next((a for a in theirs if a.startswith("--")), None)
        if unknown is not None:
            name = unknown.lstrip("-").split("=", 1)[0]
            sp.error(f"unknown option {unknown} (libFuzzer's flags take one dash: "
                     f"-{name}=VALUE; `itfuzz {verb} --help` lists the verb's own options)")
        args = sp.parse_intermixed_args(mine)
        args.flags = theirs
    else:
        args = sp.parse_intermixed_args(rest)
    args.cmd = verb
    return args


def take_release(argv: list[str]) -> tuple[str | None, list[str]]:
    """(the `--wasmtime` release, the other arguments), in any position, for the verbs that
    have the option (`RELEASE_VERBS`); for any other, (None, `argv`): the verb's parser rejects
    it."""
    if not argv or argv[0] not in RELEASE_VERBS:
        return None, list(argv)
    release, rest = None, []
    it = iter(argv)
    for a in it:
        if a == "--wasmtime":
            release = next(it, None)
            if release is None:
                raise die("--wasmtime needs a VERSION, e.g. --wasmtime 41.0.0")
        elif a.startswith("--wasmtime="):
            release = a.split("=", 1)[1]
        else:
            rest.append(a)
    return release, rest


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        release, argv = take_release(argv)
        if release is not None and not ("-h" in argv or "--help" in argv):
            from itfuzz.ops.releases import ReleaseError, run_in_release, same_as_running
            if not same_as_running(release):
                try:
                    return run_in_release(release, argv)
                except ReleaseError as e:
                    raise die(f"wasmtime {release}: {e}") from None
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            return 2
        raise
    args = parse(argv)
    try:
        return args.fn(args)
    except BrokenPipeError:  # `itfuzz show … | head`: the reader is gone, nothing is wrong
        sys.stderr.close()
        return 0
    except SystemExit as e:
        if isinstance(e.code, str):  # a usage or input error with its message
            print(e.code, file=sys.stderr)
            return 2
        raise

if __name__ == "__main__":
    sys.exit(main())
