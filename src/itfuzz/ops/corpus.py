"""Corpus minimization: libFuzzer's `-merge=1` on the target script, with sizes before and after.

`merge(CORPUS, NEW…)` adds to CORPUS only the inputs of NEW that reach features CORPUS lacks
(files named by content hash, so duplicates collapse). Known findings are skipped as in fuzzing.
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from itfuzz.ops import libfuzzer
from itfuzz.ops.run import InputError

_MERGE_LINE = re.compile(r"MERGE-OUTER: (\d+) new files with (\d+) new features added; "
                         r"(\d+) new coverage edges")


@dataclass
class Size:
    files: int
    bytes: int

    def __str__(self) -> str:
        return f"{self.files} files, {self.bytes} bytes"


def size(*dirs: Path) -> Size:
    files = [f for d in dirs if d.is_dir() for f in d.iterdir() if f.is_file()]
    return Size(len(files), sum(f.stat().st_size for f in files))


@dataclass
class MergeReport:
    before: Size
    new: Size
    after: Size
    added_files: int
    new_features: int
    new_edges: int
    returncode: int

    def lines(self) -> list[str]:
        return [f"corpus before: {self.before}",
                f"new inputs:    {self.new}",
                f"corpus after:  {self.after} (+{self.after.files - self.before.files} files; "
                f"{self.new_features} new features, {self.new_edges} new edges)"]


def merge(target: str, corpus: str, new: list[str], flags: list[str], root: Path,
          log=None) -> MergeReport:
    """Run `-merge=1` into `corpus`; libFuzzer's output goes to `log` (a file object) or is
    dropped."""
    new_dirs = [Path(d) for d in new]
    for d in new_dirs:
        if not d.is_dir():
            raise InputError(f"{d}: not a directory (merge takes corpus directories)")
    cdir = Path(corpus)
    if cdir.exists() and not cdir.is_dir():
        raise InputError(f"{cdir}: not a directory")
    before, new_size = size(cdir), size(*new_dirs)
    cmd = libfuzzer.fuzz_command(target, ["-merge=1", *flags, str(cdir), *map(str, new_dirs)],
                                 root)
    p = subprocess.run(cmd, env=libfuzzer.env(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, errors="replace")
    if log is not None:
        log.write(p.stdout)
    m = _MERGE_LINE.search(p.stdout)
    added, feats, edges = (int(x) for x in m.groups()) if m else (0, 0, 0)
    return MergeReport(before, new_size, size(cdir), added, feats, edges, p.returncode)
