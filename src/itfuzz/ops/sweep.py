"""``itfuzz sweep``: every input on every release, crash-safe, as one table.

Each release runs in its own environment (`releases.release_python`) and child processes
(`isolate.run_isolated`), releases in parallel up to the core count. A cell is ``ok``, the
finding's signature, ``abort|…``, ``timeout``, ``error|…`` (``error|child-start``: the release's
Python ran no input, e.g. it cannot import itfuzz) or ``unsupported``; per input the summary
names the first release that shows a bug (an error counts: a harness problem must be seen) and
the first later release that no longer does.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from itfuzz.ops.isolate import Outcome, run_isolated
from itfuzz.ops.releases import ReleaseError, release_python, same_as_running
from itfuzz.versions import parse_version

# The newest patch of every major release from the first with `wasmtime.component` on.
KNOWN_RELEASES = ("39.0.0", "40.0.0", "41.0.0", "42.0.0", "43.0.0", "44.0.0", "45.0.0", "46.0.1",
                  "47.0.1", "48.0.0", "49.0.0", "50.0.1", "51.0.0")


def select_versions(spec: str | None) -> list[str]:
    """``A..B`` (known releases in that range, inclusive), ``A,B,C`` (exactly these), or None
    (every known release)."""
    if not spec:
        return list(KNOWN_RELEASES)
    if ".." in spec:
        lo, hi = (parse_version(v) for v in spec.split("..", 1))
        chosen = [v for v in KNOWN_RELEASES if lo <= parse_version(v) <= hi]
        if not chosen:
            raise ValueError(f"no known release in {spec}; known: {', '.join(KNOWN_RELEASES)}")
        return chosen
    versions = [v.strip() for v in spec.split(",") if v.strip()]
    for v in versions:
        parse_version(v)
    return sorted(set(versions), key=parse_version)


@dataclass
class SweepResult:
    versions: list[str]
    files: list[str]
    cells: dict[tuple[str, str], Outcome]  # (file, version) → outcome

    def first_showing(self, f: str) -> str | None:
        return next((v for v in self.versions if self.cells[f, v].shows_bug), None)

    def first_fixed(self, f: str) -> str | None:
        """The first release after one that shows the bug where it no longer shows."""
        seen = False
        for v in self.versions:
            o = self.cells[f, v]
            if o.shows_bug:
                seen = True
            elif seen and not o.unsupported:
                return v
        return None

    def ranges(self, f: str) -> list[tuple[str, str]]:
        """(first, last) of every run of consecutive releases that show a bug for `f`."""
        out: list[tuple[str, str]] = []
        start = prev = None
        for v in self.versions:
            if self.cells[f, v].shows_bug:
                start = start or v
                prev = v
            elif start is not None and not self.cells[f, v].unsupported:
                out.append((start, prev or start))
                start = prev = None
        if start is not None:
            out.append((start, prev or start))
        return out

    def to_json(self) -> str:
        return json.dumps({
            "versions": self.versions,
            "inputs": [{"file": f,
                        "cells": {v: {"status": self.cells[f, v].status,
                                      "signature": self.cells[f, v].signature,
                                      "detail": self.cells[f, v].detail[:2000]}
                                  for v in self.versions},
                        "first_showing": self.first_showing(f),
                        "ranges": self.ranges(f),
                        "first_fixed": self.first_fixed(f)} for f in self.files]}, indent=1)

    def table(self) -> str:
        width = {v: max(len(v), *(len(self.cells[f, v].cell()) for f in self.files))
                 for v in self.versions}
        name = max(len(os.path.basename(f)) for f in self.files)
        head = "input".ljust(name) + "  " + "  ".join(v.ljust(width[v]) for v in self.versions)
        rows = [head]
        for f in self.files:
            rows.append(os.path.basename(f).ljust(name) + "  " + "  ".join(
                self.cells[f, v].cell().ljust(width[v]) for v in self.versions))
        rows.append("")
        for f in self.files:
            first, fixed = self.first_showing(f), self.first_fixed(f)
            if first is None:
                rows.append(f"{os.path.basename(f)}: no bug on any release swept")
            else:
                spans = ", ".join(a if a == b else f"{a}..{b}" for a, b in self.ranges(f))
                rows.append(f"{os.path.basename(f)}: first shows on {first}; "
                            + (f"first release without it: {fixed}" if fixed
                               else "still there in the newest release swept")
                            + f" (shows on {spans})")
        return "\n".join(rows)


def sweep(target: str, files: list[str], versions: list[str], timeout: float = 30,
          jobs: int | None = None, log=None) -> SweepResult:
    """Run every file on every release (releases in parallel, `jobs` at a time)."""
    def one(version: str) -> list[Outcome]:
        try:
            python = None if same_as_running(version) else str(release_python(version))
        except ReleaseError as e:
            return [Outcome(f, "unsupported", "unsupported", str(e)) for f in files]
        # Predicted aborts (the misuse target's K8) run for real: the child may die.
        env = dict(os.environ, ITFUZZ_MISUSE_RUN_ABORTS="1")
        out = list(run_isolated(target, files, timeout, python=python, env=env))
        if log is not None:
            print(f"itfuzz: swept {len(files)} input(s) on wasmtime {version}", file=log,
                  flush=True)
        return out

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        results = list(pool.map(one, versions))
    cells = {(o.file, v): o for v, outs in zip(versions, results) for o in outs}
    return SweepResult(versions, files, cells)
