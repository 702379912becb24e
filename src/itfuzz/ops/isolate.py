"""Inputs run in a child process, so that a Wasmtime abort or segfault is an outcome, not the end
of `repro` or `sweep`.

The child (``python -m itfuzz.ops.isolate TARGET FILE…``) imports the target, prints a ready line
(``ITFUZZ-READY``), then runs each file through the fuzz target's code path (`run_one`) and prints
one ``ITFUZZ-RESULT {json}`` line per file (on its own copy of stdout: whatever else the target
prints goes to stderr). The parent reads them:

- a child that dies (or hangs) before its ready line never ran an input: every file is an
  ``error`` outcome with signature ``error|child-start`` and the tail of the child's stderr (a
  Python that cannot import itfuzz, an unknown target), and no other child is started;
- a child that dies while running a file, or at exit after its last result (heap corruption that
  shows when the interpreter tears down), has crashed. As the crash may come from state an
  earlier file left, the file (the one it died on, or the last one it reported) is run again
  alone in a fresh child before it is blamed: if it crashes alone it is an ``abort`` (with the
  panic message or the signal, and whether it died at exit); if not, its outcome alone, with a
  note that a crash was seen only in a longer run. A new child takes the files after it;
- a file that takes longer than the time limit (a hang in native code, which no Python alarm
  can stop) is a ``timeout``: the child is killed and a new one takes the files after it;
- a result line that cannot be read is ignored; a file the child never gives a valid result for
  is an ``error`` (``error|no-result``).

Whatever happens, the child (and anything it started) is gone and its pipes are closed when
`run_isolated` moves on.
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
from dataclasses import asdict, dataclass, field

from itfuzz.findings import Finding
from itfuzz.ops.run import Result

TAG = "ITFUZZ-RESULT "
READY = "ITFUZZ-READY"
STARTUP_SECONDS = 60  # importing wasmtime and the target in a new child, until its ready line
FIRST_INPUT_GRACE = 60  # on top of the time limit for a child's first input (lazy set-up)
GRACE = 5  # on top of the time limit for every later input (the child's own alarm fires first)
EXIT_SECONDS = 30  # for a child to exit after its last result
STDERR_KEEP = 65536  # bytes of a child's stderr kept (the tail)
MAX_LINE = 64 << 20  # a longer stdout line is dropped (results carry WAT; nothing is this big)


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
        """A finding, an abort or a timeout; an error too (a harness problem must be seen)."""
        return self.status in ("finding", "error", "timeout", "abort")

    @property
    def unsupported(self) -> bool:
        """The release cannot run this input: no environment, or a setting it lacks (a discard
        `unsupported:…`, e.g. Winch before 45)."""
        return self.status == "unsupported" or (
            self.status == "discarded" and self.detail.startswith("unsupported:"))

    def cell(self) -> str:
        """A short table cell: ok, the signature, abort, timeout or unsupported."""
        if self.unsupported:
            return self.detail if self.status == "discarded" else "unsupported"
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


def how_it_ended(returncode: int) -> str:
    """"SIGABRT" for a signal, "exit N" for an exit status."""
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit {returncode}"


def stderr_tail(stderr: str, lines: int = 30) -> str:
    return "\n".join(stderr.rstrip().splitlines()[-lines:])


def abort_outcome(file: str, returncode: int, stderr: str, at_exit: str = "") -> Outcome:
    """The abort of a child that died on `file`; `at_exit`: the result it had reported for the
    file before it died at exit ("" when it died running the file)."""
    panic = panic_message(stderr)
    how = how_it_ended(returncode)
    where = panic.split(":", 1)[0] if panic else how
    when = f" at exit, after its result for this file ({at_exit})" if at_exit else ""
    detail = f"the process died{when} ({how})" + (f": panicked at {panic}" if panic else "")
    if not panic and stderr.strip():
        detail += "\n-- stderr (tail) --\n" + stderr_tail(stderr)
    return Outcome(file, "abort", f"abort|{where}", detail)


def start_error(file: str, why: str, stderr: str) -> Outcome:
    tail = stderr_tail(stderr)
    return Outcome(file, "error", "error|child-start",
                   f"the child process ran no input: {why}" + (f"\n{tail}" if tail else ""),
                   error="child-start")


@dataclass
class _Run:
    """What one child did with its files."""

    files: list[str]
    outcomes: list[Outcome] = field(default_factory=list)  # for files[:len(outcomes)], in order
    ready: bool = False
    returncode: int | None = None
    stderr: str = ""
    killed: str = ""  # why the parent killed it: "" | "start" | "input" | "exit"
    limit: float = 0  # the time limit it was killed at
    garbage: list[str] = field(default_factory=list)  # result lines that could not be read

    @property
    def crashed(self) -> bool:
        """Died by a signal or with a nonzero status (not killed by the parent)."""
        return not self.killed and self.returncode not in (None, 0)

    @property
    def complete(self) -> bool:
        return len(self.outcomes) == len(self.files)

    def describe(self) -> str:
        """How the child ended, for a note."""
        if self.killed:
            return f"killed after {self.limit:g} s without " + (
                "exiting" if self.killed == "exit" else "an outcome")
        panic = panic_message(self.stderr)
        return how_it_ended(self.returncode or 0) + (f", panicked at {panic}" if panic else "")

    def no_result(self, file: str) -> Outcome:
        """The error of a file the child gave no valid result for."""
        why = "the child gave no valid result for this file"
        if self.garbage:
            why += "; unreadable result lines: " + " | ".join(g[:300] for g in self.garbage[-3:])
        tail = stderr_tail(self.stderr)
        return Outcome(file, "error", "error|no-result", why + (f"\n{tail}" if tail else ""),
                       error="no-result")


def run_isolated(target: str, files: list[str], timeout: float = 30,
                 python: str | None = None, env: dict | None = None) -> Iterator[Outcome]:
    """One `Outcome` per file, in order, each input run in a child process of `python`
    (`timeout` seconds per input; 0: no limit)."""
    def run(batch: list[str]) -> _Run:
        return _run_child([python or sys.executable, "-m", "itfuzz.ops.isolate", target,
                           "--timeout", str(timeout), *batch], batch, timeout, env)

    def blame(file: str, first: _Run, at_exit: Outcome | None) -> Outcome:
        """The outcome of `file`, on which `first` (which ran other files before it) crashed or
        hung at exit: what `file` does alone in a fresh child."""
        alone = run([file])
        outcome = _single(alone, file)
        if not alone.ready or alone.crashed or (first.killed and alone.killed):
            return outcome  # fails alone too (or the child did not start): blamed as it is
        what = "a hang at exit" if first.killed else "a crash"
        where = "at exit, after its result for this file" if at_exit else "while running this file"
        outcome.detail += (f"\n(note: {what} was seen only in a longer run: the process "
                           f"{'hung' if first.killed else 'died'} {where} ({first.describe()}), "
                           f"after {first.files.index(file)} other input(s); alone this input "
                           f"did not {'hang' if first.killed else 'crash'})")
        return outcome

    pending = list(files)
    while pending:
        r = run(pending)
        if not r.ready:  # nothing ran: a harness problem, the same for every file
            why = (f"no ready line within {r.limit:g} s" if r.killed
                   else f"it ended ({how_it_ended(r.returncode or 0)}) before its ready line")
            for f in pending:
                yield start_error(f, why, r.stderr)
            return
        if r.complete:
            last = r.outcomes[-1]
            if not (r.crashed or r.killed):
                yield from r.outcomes
                return
            yield from r.outcomes[:-1]
            yield _single(r, last.file) if len(pending) == 1 else blame(last.file, r, last)
            return
        yield from r.outcomes
        k = len(r.outcomes)
        f = pending[k]
        if r.crashed and k > 0:
            yield blame(f, r, None)
        else:
            yield _single(r, f)
        pending = pending[k + 1:]


def _single(r: _Run, file: str) -> Outcome:
    """The outcome of `file` in run `r` with no other suspect: `r`'s result for it (its last file
    when `r` is complete), or the crash, hang or missing result that ended `r` on it."""
    result = r.outcomes[-1] if r.complete else None
    if not r.ready:
        return start_error(file, "it ended before its ready line" if not r.killed
                           else f"no ready line within {r.limit:g} s", r.stderr)
    if result is not None:  # reported: only a crash or a hang at exit changes it
        what = result.signature or result.status
        if r.crashed:
            return abort_outcome(file, r.returncode or 0, r.stderr, at_exit=what)
        if r.killed == "exit":
            return Outcome(file, "timeout", "timeout",
                           f"the process did not exit within {r.limit:g} s after its result for "
                           f"this file ({what}); it was killed", error="exit")
        return result
    if r.killed:
        return Outcome(file, "timeout", "timeout",
                       f"no outcome within {r.limit:g} s; the process was killed")
    if r.crashed:
        return abort_outcome(file, r.returncode or 0, r.stderr)
    return r.no_result(file)


def _run_child(cmd: list[str], files: list[str], timeout: float, env: dict | None) -> _Run:
    """Run one child over `files` to its end (exit, or killed at a time limit); the child and
    anything it started are gone and every pipe is closed when this returns."""
    r = _Run(files)
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, start_new_session=True)
    sel = selectors.DefaultSelector()
    err = b""
    try:
        assert child.stdout is not None and child.stderr is not None
        sel.register(child.stdout, selectors.EVENT_READ)
        sel.register(child.stderr, selectors.EVENT_READ)
        out = b""
        phase, limit = "start", float(STARTUP_SECONDS)
        deadline: float | None = time.monotonic() + limit

        def next_phase() -> None:
            nonlocal phase, limit, deadline
            if r.complete:
                phase, limit = "exit", float(EXIT_SECONDS)
            else:
                phase = "input"
                limit = timeout + (FIRST_INPUT_GRACE if not r.outcomes else GRACE)
            deadline = time.monotonic() + limit if timeout or phase == "exit" else None

        def line(text: str) -> None:
            if text.strip() == READY and not r.ready:
                r.ready = True
                next_phase()
                return
            if not text.startswith(TAG) or r.complete:
                return  # stray output
            try:
                o = Outcome(**json.loads(text[len(TAG):]))
                if not (isinstance(o.file, str) and isinstance(o.status, str)):
                    raise TypeError(o)
            except (ValueError, TypeError):
                r.garbage.append(text)
                return
            rest = files[len(r.outcomes):]
            if o.file not in rest:
                r.garbage.append(text)
                return
            r.ready = True
            for skipped in rest[:rest.index(o.file)]:
                r.outcomes.append(r.no_result(skipped))
            r.outcomes.append(o)
            next_phase()

        exited: float | None = None  # when the child was seen gone (its pipes may outlive it)
        while sel.get_map():
            now = time.monotonic()
            if exited is None and child.poll() is not None:
                exited = now + 2  # what is left in the pipes comes now, unless a process it
                # started holds them open
            ends = [t for t in (deadline, exited) if t is not None]
            if ends and min(ends) <= now:
                break
            wait = min([1.0, *(t - now for t in ends)])
            for key, _ in sel.select(timeout=wait):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                elif key.fileobj is child.stderr:
                    err = (err + chunk)[-STDERR_KEEP:]
                else:
                    out += chunk
                    while b"\n" in out:
                        text, out = out.split(b"\n", 1)
                        line(text.decode(errors="replace"))
                    if len(out) > MAX_LINE:
                        out = b""
        if out:
            line(out.decode(errors="replace"))  # a last line without its newline
        if child.poll() is None:
            if sel.get_map():  # out of time, still running
                r.killed, r.limit = phase, limit
            else:  # it closed its pipes: it is ending
                try:
                    child.wait(timeout=EXIT_SECONDS)
                except subprocess.TimeoutExpired:
                    r.killed, r.limit = phase, float(EXIT_SECONDS)
        if not r.killed:
            r.returncode = child.returncode
    finally:
        _kill_group(child)
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
        sel.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        r.stderr = err.decode(errors="replace")
    return r


def _kill_group(child: subprocess.Popen) -> None:
    """Kill the child, if still running, and whatever it started (its own session)."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except OSError:  # the group is gone (ESRCH)
        pass
    if child.poll() is None:
        child.kill()


def child_main(argv: list[str]) -> int:
    """The child: say it is ready, then run each file and print one result line per file."""
    import argparse

    from itfuzz import targets
    from itfuzz.engines.compat import unsupported_reason
    from itfuzz.ops.run import InputError, finding_fields, read_input, run_one

    ap = argparse.ArgumentParser(prog="python -m itfuzz.ops.isolate")
    ap.add_argument("target")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args(argv)

    reason = unsupported_reason()
    target = targets.get(args.target)
    # The results get stdout to themselves: anything else written there goes to stderr.
    sys.stdout.flush()
    results = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    def emit(line: str) -> None:
        results.write(line + "\n")
        results.flush()

    emit(READY)
    for f in args.files:
        if reason:
            emit(TAG + json.dumps(asdict(Outcome(f, "unsupported", "unsupported", reason))))
            continue
        try:
            data = read_input(f)
        except InputError as e:
            emit(TAG + json.dumps(asdict(Outcome(f, "error", "unreadable", str(e)))))
            continue
        r = run_one(target, data, args.timeout)
        detail = r.finding.report() if r.finding is not None else r.detail
        emit(TAG + json.dumps(asdict(Outcome(
            f, r.status, r.signature, detail[-20000:],
            finding_fields(r.finding) if r.finding is not None else None, r.error))))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
