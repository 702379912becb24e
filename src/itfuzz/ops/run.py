"""One input through `Target.execute` (the fuzz target's code path) as a comparable `Result`.

Unlike fuzz mode, known findings are reported, an exception the oracle did not turn into a
`Finding` (a harness bug; a crash under libFuzzer too) becomes status "error", and a time limit
(SIGALRM) turns a hang in Python code into status "timeout".
"""
from __future__ import annotations

import signal
import traceback
from dataclasses import dataclass
from pathlib import Path

from itfuzz.findings import Finding, first_line, normalize_error
from itfuzz.known_findings import known

DEFAULT_TIMEOUT = 30  # seconds, as the fuzz command's -timeout


class InputError(Exception):
    """A file that cannot be used as an input (missing, a directory, unreadable)."""


def read_input(path: str | Path) -> bytes:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file")
    if p.is_dir():
        raise InputError(f"{path}: is a directory; give input files")
    try:
        return p.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None


class _TimedOut(BaseException):
    """Raised by the alarm; a BaseException so that no oracle `except Exception` swallows it."""


@dataclass
class Result:
    status: str  # "finding" | "error" | "timeout" | "ok" | "discarded" | "known"
    finding: Finding | None = None
    detail: str = ""  # outcome detail, or the traceback of an error
    error: str = ""   # value-free class of an error ("Type:message")

    @property
    def signature(self) -> str | None:
        """What triage groups by and minimize preserves; None when nothing went wrong."""
        if self.finding is not None:
            return self.finding.signature
        if self.status in ("error", "timeout"):
            return f"{self.status}|{self.error}"
        return None

    @property
    def engine(self) -> str:
        return self.finding.engine if self.finding is not None else ""

    @property
    def is_bug(self) -> bool:
        return self.status in ("finding", "error", "timeout")

    def known_id(self) -> str:
        f = self.finding
        k = known(f.signature, f.target or None) if f is not None else None
        return k.id if k else ""


def run_one(target, data: bytes, timeout: float = DEFAULT_TIMEOUT) -> Result:
    """Execute `data` on `target` (known findings reported), within `timeout` seconds (0: none)."""
    def alarm(signum, frame):
        raise _TimedOut

    old = signal.signal(signal.SIGALRM, alarm) if timeout else None
    if timeout:
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        outcome = target.execute(data, skip_known=False)
        return Result(outcome.status, detail=outcome.detail)
    except Finding as f:
        return Result("finding", f)
    except _TimedOut:
        return Result("timeout", detail=f"no outcome within {timeout:g} s")
    except Exception as e:  # a harness bug: libFuzzer would report it as a crash too
        return Result("error", detail=traceback.format_exc().rstrip(),
                      error=f"{type(e).__name__}:{normalize_error(first_line(e))}")
    finally:
        if timeout:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)



def finding_fields(f: Finding) -> dict:
    """A finding as plain data (to cross a process boundary); `Finding(**fields)` rebuilds it."""
    return {k: getattr(f, k) for k in ("check", "detail", "message", "target", "wit", "wat",
                                       "values", "engine", "config")}
