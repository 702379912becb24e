"""Crash minimization that keeps the finding signature.

Two stages: libFuzzer's `-minimize_crash=1` on the target script (fast byte-level search; its
result is kept only if it still shows the same signature, since libFuzzer accepts any crash),
then a structural shrink here. Inputs decode like Rust's `arbitrary` (integers from the front,
lengths from the back, zeros when the data runs out), so the shrink removes byte ranges (from
the back first, where lengths live), zeroes ranges and lowers single bytes, and keeps a
candidate only when the decoded case got smaller (fewer params, smaller types, shorter values:
measured as the size of the case's repr, then the byte length) and `execute` still shows the
same signature. Deterministic: the same input and budget give the same result.
"""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from itfuzz import fuzzing
from itfuzz.ops import libfuzzer
from itfuzz.ops.run import DEFAULT_TIMEOUT, Result, run_one


class NotReproducible(Exception):
    """The input shows no finding, so there is nothing to keep while shrinking."""


def case_size(target, data: bytes) -> int:
    """Size of the decoded case: fewer params, smaller types and shorter values all lower it."""
    return len(repr(target.decode(data)))


@dataclass
class Shrink:
    target: object
    signature: str
    timeout: float = DEFAULT_TIMEOUT
    max_execs: int = 2000
    execs: int = 0
    seen: dict = field(default_factory=dict)  # candidate bytes -> same signature?

    def cost(self, data: bytes) -> tuple:
        return (case_size(self.target, data), len(data), data)

    def keeps(self, data: bytes) -> bool:
        if data not in self.seen:
            if self.execs >= self.max_execs:
                return False
            self.execs += 1
            self.seen[data] = run_one(self.target, data, self.timeout).signature == self.signature
        return self.seen[data]

    def run(self, data: bytes) -> bytes:
        best, best_cost = data, self.cost(data)

        def attempt(cand: bytes) -> bool:
            nonlocal best, best_cost
            c = self.cost(cand)
            if c < best_cost and self.keeps(cand):
                best, best_cost = cand, c
                return True
            return False

        progress = True
        while progress and self.execs < self.max_execs:
            progress = False
            for edit in (_remove, _zero, _lower):
                while edit(best, attempt) and self.execs < self.max_execs:
                    progress = True
        return best


def _chunks(n: int):
    """(start, length) of byte ranges: halves down to single bytes, back to front."""
    size = n // 2 or n
    while size >= 1:
        for start in range(n - size, -1, -size):
            yield start, size
        size //= 2


def _remove(best: bytes, attempt: Callable[[bytes], bool]) -> bool:
    return any(attempt(best[:i] + best[i + k:]) for i, k in _chunks(len(best)))


def _zero(best: bytes, attempt: Callable[[bytes], bool]) -> bool:
    return any(attempt(best[:i] + bytes(k) + best[i + k:]) for i, k in _chunks(len(best))
               if any(best[i:i + k]))


def _lower(best: bytes, attempt: Callable[[bytes], bool]) -> bool:
    for i in range(len(best) - 1, -1, -1):
        b = best[i]
        for v in sorted({0, 1, b >> 1, b - 1} - {b}):
            if 0 <= v < b and attempt(best[:i] + bytes([v]) + best[i + 1:]):
                return True
    return False


@dataclass
class Minimized:
    original: bytes
    data: bytes
    result: Result
    stages: list[str]  # one line per stage: what it did


def libfuzzer_minimize(target_name: str, data: bytes, signature: str, root: Path, seconds: int,
                       timeout: float) -> bytes | None:
    """libFuzzer's `-minimize_crash=1` on the target script, crashing only on `signature`
    (known findings included), within about `seconds`; None when it produced nothing."""
    script = libfuzzer.script(target_name, root)
    env = libfuzzer.env()
    env[fuzzing.REPORT_KNOWN_ENV] = "1"
    env[fuzzing.ONLY_SIGNATURE_ENV] = signature
    with tempfile.TemporaryDirectory(prefix="itfuzz-min-") as tmp:
        src, out = Path(tmp) / "input", Path(tmp) / "minimized"
        src.write_bytes(data)
        # libFuzzer restarts the script once per improvement; -max_total_time bounds each step
        step = max(1, seconds // 4)
        cmd = [str(script), "-minimize_crash=1", f"-max_total_time={step}", "-runs=5000",
               f"-timeout={int(timeout) or 30}", f"-exact_artifact_path={out}", str(src)]
        p = subprocess.Popen(cmd, env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            p.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        return out.read_bytes() if out.exists() else None


def minimize(target, data: bytes, *, target_name: str = "", root: Path | None = None,
             libfuzzer_seconds: int = 0, max_execs: int = 2000,
             timeout: float = DEFAULT_TIMEOUT) -> Minimized:
    """The smallest input found that shows the same signature as `data`."""
    first = run_one(target, data, timeout)
    if first.signature is None:
        raise NotReproducible(f"no finding (outcome: {first.status}"
                              + (f", {first.detail}" if first.detail else "") + ")")
    sig = first.signature
    stages = []
    best = data
    if libfuzzer_seconds > 0 and root is not None:
        got = libfuzzer_minimize(target_name, data, sig, root, libfuzzer_seconds, timeout)
        if got is None:
            stages.append("libFuzzer -minimize_crash: no result")
        elif run_one(target, got, timeout).signature != sig:
            stages.append(f"libFuzzer -minimize_crash: {len(got)} bytes, but another signature; "
                          "dropped")
        else:
            stages.append(f"libFuzzer -minimize_crash: {len(data)} -> {len(got)} bytes")
            if (case_size(target, got), len(got)) < (case_size(target, best), len(best)):
                best = got
    shrink = Shrink(target, sig, timeout, max_execs)
    before = best
    best = shrink.run(best)
    stages.append(f"structural shrink: {len(before)} -> {len(best)} bytes, case size "
                  f"{case_size(target, before)} -> {case_size(target, best)} "
                  f"({shrink.execs} executions)")
    result = run_one(target, best, timeout)
    assert result.signature == sig, "shrink kept an input with another signature"
    return Minimized(data, best, result, stages)
