"""Conformance runner: ``itfuzz spec-test PATH…`` / ``python -m itfuzz.ops.spec_test PATH…``.

Each .wast file is converted with ``wasm-tools json-from-wast`` and its commands run in a child
process (so a crash or hang costs one file, not the run); the child streams one result line per
command. Text-format ``assert_malformed`` entries test a text parser and are skipped.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("module", "register", "action", "assert_return", "assert_trap", "assert_exhaustion",
         "assert_invalid", "assert_malformed", "assert_unlinkable", "assert_uninstantiable")
RATE_KINDS = ("assert_return", "assert_trap", "assert_exhaustion")
MASK = {"i32": 0xFFFFFFFF, "i64": 0xFFFFFFFFFFFFFFFF, "f32": 0xFFFFFFFF, "f64": 0xFFFFFFFFFFFFFFFF}
SIGN = {"f32": 1 << 31, "f64": 1 << 63}
CANONICAL_NAN = {"f32": 0x7FC00000, "f64": 0x7FF8000000000000}


def runnable(cmd: dict) -> bool:
    return not (cmd["type"] == "assert_malformed" and cmd.get("module_type") == "text")


# ---- child side: executes the commands of one JSON script -------------------------------


class Script:
    """State of one script: spectest, registered and named instances, the current module."""

    def __init__(self, wasm_dir: Path):
        from itfuzz import spec

        self.spec = spec
        self.dir = wasm_dir
        self.imports = dict(spec.spectest())
        self.named: dict[str, object] = {}
        self.current = None

    def module_bytes(self, cmd: dict) -> bytes:
        return (self.dir / cmd.get("binary_filename", cmd["filename"])).read_bytes()

    def instantiate(self, cmd: dict):
        return self.spec.instantiate(self.module_bytes(cmd), self.imports)

    def value(self, v: dict):
        Value, t, s = self.spec.Value, v["type"], v["value"]
        if t in MASK:
            return Value(t, int(s) & MASK[t])
        return Value(t, None if s == "null" else int(s))

    def act(self, action: dict) -> list:
        inst = self.named[action["module"]] if action.get("module") else self.current
        if inst is None:
            raise LookupError("no current module")
        if action["type"] == "get":
            return [inst.export(action["field"])]
        return inst.interpret(action["field"], [self.value(a) for a in action.get("args", [])])

    def run(self, cmd: dict) -> str | None:
        """Execute one command; None on success, else what went wrong."""
        kind, spec = cmd["type"], self.spec
        if kind == "module":
            self.current = None
            self.current = self.instantiate(cmd)
            if "name" in cmd:
                self.named[cmd["name"]] = self.current
            return None
        if kind == "register":
            inst = self.named[cmd["name"]] if "name" in cmd else self.current
            for name, ext in inst.exports().items():
                self.imports[cmd["as"], name] = ext
            return None
        if kind == "action":
            self.act(cmd["action"])
            return None
        if kind == "assert_return":
            got = self.act(cmd["action"])
            ok = len(got) == len(cmd["expected"]) and all(map(matches, cmd["expected"], got))
            return None if ok else f"expected {show(cmd['expected'])}, got {got}"
        if kind in ("assert_trap", "assert_exhaustion"):
            error = spec.Trap if kind == "assert_trap" else spec.Exhaustion
            return expect_error(lambda: self.act(cmd["action"]), error, cmd["text"])
        error = {"assert_invalid": spec.ValidationError, "assert_malformed": spec.DecodeError,
                 "assert_unlinkable": spec.LinkError, "assert_uninstantiable": spec.Trap}[kind]
        return expect_error(lambda: self.instantiate(cmd), error,
                            cmd["text"] if kind == "assert_uninstantiable" else None)


def matches(expected: dict, got) -> bool:
    t, s = expected["type"], expected["value"]
    if got.type != t:
        return False
    if s == "nan:canonical":
        return got.bits & ~SIGN[t] == CANONICAL_NAN[t]
    if s == "nan:arithmetic":
        return got.bits & CANONICAL_NAN[t] == CANONICAL_NAN[t] and got.bits & ~SIGN[t] != 0
    if s == "null":
        return got.bits is None
    if t in MASK:
        return got.bits == int(s) & MASK[t]
    return got.bits is not None and (t == "funcref" or got.bits == int(s))


def show(values: list[dict]) -> str:
    return "[" + ", ".join(f"{v['type']}:{v['value']}" for v in values) + "]"


def expect_error(thunk, error: type, prefix: str | None) -> str | None:
    try:
        got = thunk()
    except error as exc:
        if prefix is None or exc.message.startswith(prefix):
            return None
        return f"expected {error.__name__} {prefix!r}, got {exc.message!r}"
    except Exception as exc:  # noqa: BLE001 - any other outcome is a failure to report
        return f"expected {error.__name__} {prefix or ''!r}, got {type(exc).__name__}: {exc}"
    return f"expected {error.__name__} {prefix or ''!r}, got success {got if isinstance(got, list) else ''}"


def run_json(json_path: Path, result_path: Path) -> None:
    """Child mode: run every command, appending ``kind<TAB>line<TAB>ok|fail<TAB>detail`` lines."""
    commands = json.loads(json_path.read_text())["commands"]
    script = Script(json_path.parent)
    with open(result_path, "w", buffering=1) as out:
        for cmd in filter(runnable, commands):
            out.write(f"{cmd['type']}\t{cmd['line']}\tstart\n")
            try:
                detail = script.run(cmd)
            except Exception as exc:  # noqa: BLE001 - reported per command
                detail = f"{type(exc).__name__}: {exc}"
            status = "ok" if detail is None else "fail"
            out.write(f"{cmd['type']}\t{cmd['line']}\t{status}\t{json.dumps((detail or '')[:2000])}\n")


# ---- parent side ---------------------------------------------------------------------------


@dataclass
class FileResult:
    path: Path
    passed: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    skipped: int = 0
    failures: list[tuple[int, str, str]] = field(default_factory=list)  # line, kind, detail
    error: str | None = None


def run_file(path: Path, timeout: float) -> FileResult:
    from itfuzz.spec.tools import wasm_tools

    res = FileResult(path)
    with tempfile.TemporaryDirectory(prefix="itfuzz-wast-") as tmp:
        json_path, result_path = Path(tmp) / "script.json", Path(tmp) / "result.tsv"
        conv = subprocess.run([wasm_tools(), "json-from-wast", str(path), "-o", str(json_path),
                               "--wasm-dir", tmp], capture_output=True, text=True)
        if conv.returncode != 0:
            res.error = "json-from-wast failed: " + conv.stderr.strip()
            return res
        commands = json.loads(json_path.read_text())["commands"]
        res.skipped = sum(not runnable(c) for c in commands)
        child = [sys.executable, "-m", "itfuzz.ops.spec_test", "--run-json", str(json_path),
                 "--result", str(result_path)]
        try:
            proc = subprocess.run(child, capture_output=True, text=True, timeout=timeout,
                                  env=child_env())
            if proc.returncode != 0:
                res.error = describe_exit(proc.returncode) + tail(proc.stderr)
        except subprocess.TimeoutExpired:
            res.error = f"timed out after {timeout:g}s"
        done = collect(result_path, res)
        for i, cmd in enumerate([c for c in commands if runnable(c)][done:]):
            res.failed[cmd["type"]] += 1
            res.failures.append((cmd["line"], cmd["type"], res.error if i == 0 else "not run"))
    return res


def child_env() -> dict[str, str]:
    """The environment, with this copy of ``itfuzz`` importable."""
    import itfuzz

    root = str(Path(itfuzz.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


def describe_exit(code: int) -> str:
    if code < 0:
        return f"child killed by {signal.Signals(-code).name}"
    return f"child exited with {code}"


def tail(text: str) -> str:
    lines = text.strip().splitlines()
    return (": " + " | ".join(lines[-3:])) if lines else ""


def collect(result_path: Path, res: FileResult) -> int:
    """Read the child's result lines into ``res``; returns how many commands finished."""
    done = 0
    if not result_path.exists():
        return done
    for line in result_path.read_text().splitlines():
        kind, lineno, status, *rest = line.split("\t")
        if status == "start":
            continue
        done += 1
        if status == "ok":
            res.passed[kind] += 1
        else:
            res.failed[kind] += 1
            res.failures.append((int(lineno), kind, json.loads(rest[0])))
    return done


def wast_files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        out.extend(sorted(p.rglob("*.wast")) if p.is_dir() else [p])
    return out


def report(results: list[FileResult], verbose: bool) -> tuple[Counter, Counter, int]:
    passed, failed, skipped = Counter(), Counter(), 0
    for r in results:
        p, f = sum(r.passed.values()), sum(r.failed.values())
        passed += r.passed
        failed += r.failed
        skipped += r.skipped
        note = f" ({r.error})" if r.error else (f" ({r.skipped} skipped)" if r.skipped else "")
        print(f"{'PASS' if f == 0 and not r.error else 'FAIL'}  {r.path.name}  {p}/{p + f}{note}")
        if verbose:
            for line, kind, detail in r.failures:
                print(f"    {r.path}:{line}: {kind}: {detail}")
    print()
    for kind in KINDS:
        p, f = passed[kind], failed[kind]
        if p + f:
            print(f"{kind:24} {p:6} passed {f:5} failed")
    if skipped:
        print(f"{'assert_malformed (text)':24} {skipped:6} skipped")
    return passed, failed, skipped


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The runner's options (shared by ``itfuzz spec-test`` and ``python -m``)."""
    parser.add_argument("paths", nargs="*", metavar="PATH", help=".wast files or directories")
    parser.add_argument("--fail-under", type=float, metavar="PCT",
                        help="exit 1 when the assert_return+assert_trap+assert_exhaustion pass "
                             "rate is below PCT (otherwise exit 1 on any failure)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every failure")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="files run at once (default: the number of CPUs)")
    parser.add_argument("--timeout", type=float, default=900, metavar="SECONDS",
                        help="seconds per file (default 900)")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    files = wast_files(args.paths)
    if not files:
        parser.error("no .wast files given")
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        results = list(pool.map(lambda p: run_file(p, args.timeout), files))
    passed, failed, _ = report(results, args.verbose)
    total_p, total_f = sum(passed.values()), sum(failed.values())
    print(f"{total_p} passed, {total_f} failed")
    if args.fail_under is not None:
        rate_p = sum(passed[k] for k in RATE_KINDS)
        rate_all = rate_p + sum(failed[k] for k in RATE_KINDS)
        rate = 100.0 * rate_p / rate_all if rate_all else 100.0
        print(f"assert_return+assert_trap+assert_exhaustion pass rate {rate:.2f}%")
        return 1 if rate < args.fail_under else 0
    return 1 if total_f or any(r.error for r in results) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="itfuzz spec-test", description=__doc__.splitlines()[0])
    add_arguments(parser)
    # the child side of `run_file` (one script, results streamed to a file); not for users
    parser.add_argument("--run-json", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_intermixed_args(argv)
    if args.run_json:
        run_json(args.run_json, args.result)
        return 0
    return run(args, parser)

if __name__ == "__main__":
    sys.exit(main())
