"""Inputs run in a child process, so that a Wasmtime abort or segfault is an outcome, not the end
of `repro` or `sweep`.

The child (``python -m itfuzz.ops.isolate TARGET FILE…``) runs each file through the fuzz target's
code path (`run_one`) and prints one ``ITFUZZ-RESULT {json}`` line per file. The parent reads them;
when the child dies, the file it was on is an ``abort`` (with the panic message or the signal)
and a new child takes the files after it; when a file takes longer than the time limit (a hang in
native code, which no Python alarm can stop), the child is killed and the file is a ``timeout``.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from itfuzz.findings import Finding
from itfuzz.ops.run import Result

TAG = "ITFUZZ-RESULT "
STARTUP_SECONDS = 60  # importing wasmtime and the target in a new child


@dataclass
class Outcome:
    """What one input did: status ok | discarded | known | finding | error | timeout | abort |
    unsupported, the finding's (or the abort's) signature, and a readable detail."""

    file: str
    status: str
    signature: str | None = None
    detail: str = ""
    finding: dict | None = None  # the finding's fields (`ops.run.finding_fields`)
    error: str = ""

    def to_result(self) -> Result:
        """The outcome as `run_one` would have returned it (an abort is a finding)."""
        if self.status == "abort":
            return Result("finding", Finding("abort", (self.signature or "|").split("|", 1)[1],
                                             self.detail))
        f = Finding(**self.finding) if self.finding else None
        return Result(self.status, f, self.detail, self.error)

    @property
    def shows_bug(self) -> bool:
        return self.status in ("finding", "error", "timeout", "abort")

    def cell(self) -> str:
        """A short table cell: ok, the signature, abort, timeout or unsupported."""
        if self.status in ("ok", "discarded", "known") and not self.signature:
            return "ok"
        return self.signature or self.status


def panic_message(stderr: str) -> str:
    """The Rust panic line ("panicked at FILE:LINE: message") from a dead child's stderr."""
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        if "panicked at" in line:
            where = line.split("panicked at", 1)[1].strip().rstrip(":")
            msg = lines[i + 1].strip() if i + 1 < len(lines) else ""
            return f"{where}: {msg}" if msg else where
    return ""


def abort_outcome(file: str, returncode: int, stderr: str) -> Outcome:
    panic = panic_message(stderr)
    if returncode < 0:
        try:
            how = signal.Signals(-returncode).name
        except ValueError:
            how = f"signal {-returncode}"
    else:
        how = f"exit {returncode}"
    where = panic.split(":", 1)[0] if panic else how
    return Outcome(file, "abort", f"abort|{where}",
                   f"the process died ({how})" + (f": panicked at {panic}" if panic else ""))


def run_isolated(target: str, files: list[str], timeout: float = 30,
                 python: str | None = None, env: dict | None = None) -> Iterator[Outcome]:
    """One `Outcome` per file, in order, each input run in a child process of `python`."""
    pending = list(files)
    while pending:
        child = subprocess.Popen(
            [python or sys.executable, "-m", "itfuzz.ops.isolate", target,
             "--timeout", str(timeout), *pending],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        done = 0
        for outcome in _read(child, pending, timeout):
            done += 1
            yield outcome
        pending = pending[done:]


def _read(child: subprocess.Popen, files: list[str], timeout: float) -> Iterator[Outcome]:
    """Outcomes as the child reports them; then an abort for the file it died on, or a timeout
    (the child killed) for one that took too long."""
    assert child.stdout is not None and child.stderr is not None
    sel = selectors.DefaultSelector()
    sel.register(child.stdout, selectors.EVENT_READ)
    sel.register(child.stderr, selectors.EVENT_READ)
    out, err, index, open_streams = b"", b"", 0, 2
    limit = STARTUP_SECONDS + timeout
    deadline = time.monotonic() + limit
    while open_streams and index < len(files):
        left = deadline - time.monotonic()
        if left <= 0:
            child.kill()
            child.wait()
            yield Outcome(files[index], "timeout", "timeout", f"no outcome within {limit:g} s")
            return
        for key, _ in sel.select(timeout=left):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                sel.unregister(key.fileobj)
                open_streams -= 1
            elif key.fileobj is child.stderr:
                err = (err + chunk)[-65536:]
            else:
                out += chunk
                while b"\n" in out:
                    line, out = out.split(b"\n", 1)
                    text = line.decode(errors="replace")
                    if text.startswith(TAG):
                        yield Outcome(**json.loads(text[len(TAG):]))
                        index += 1
                        limit = timeout + 5
                        deadline = time.monotonic() + limit
    if index < len(files):
        err += child.stderr.read()
    child.wait()
    if index < len(files):
        yield abort_outcome(files[index], child.returncode, err.decode(errors="replace"))


def child_main(argv: list[str]) -> int:
    """The child: run each file, print one result line per file."""
    import argparse

    from itfuzz import targets
    from itfuzz.engines.compat import unsupported_reason
    from itfuzz.ops.run import InputError, finding_fields, read_input, run_one

    ap = argparse.ArgumentParser(prog="python -m itfuzz.ops.isolate")
    ap.add_argument("target")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args(argv)

    def emit(o: Outcome) -> None:
        sys.stdout.write(TAG + json.dumps(asdict(o)) + "\n")
        sys.stdout.flush()

    reason = unsupported_reason()
    target = targets.get(args.target)
    for f in args.files:
        if reason:
            emit(Outcome(f, "unsupported", "unsupported", reason))
            continue
        try:
            data = read_input(f)
        except InputError as e:
            emit(Outcome(f, "error", "unreadable", str(e)))
            continue
        r = run_one(target, data, args.timeout)
        detail = r.finding.report() if r.finding is not None else r.detail
        emit(Outcome(f, r.status, r.signature, detail[-20000:],
                     finding_fields(r.finding) if r.finding is not None else None, r.error))
    return 0


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
