"""Group crash files by what they show: finding signature (check and the value-free detail,
which names the type shape where values differed) and engine.

Each file is run through the target's shared code path (`run.run_one`). Files that show no
finding (fixed, flaky or not a crash) get their own groups, so nothing is silently dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from itfuzz.ops.run import DEFAULT_TIMEOUT, InputError, Result, read_input, run_one


@dataclass
class Group:
    key: tuple           # (signature or "no-finding|<status>", engine)
    example: Result
    files: list[tuple[Path, int]] = field(default_factory=list)  # (path, size)

    @property
    def smallest(self) -> tuple[Path, int]:
        return min(self.files, key=lambda f: (f[1], str(f[0])))

    def line(self) -> str:
        sig, engine = self.key
        path, size = self.smallest
        known = self.example.known_id()
        return (f"{len(self.files):5d}  {sig}" + (f"  [{engine}]" if engine else "")
                + (f"  (known {known})" if known else "")
                + f"  smallest: {path} ({size} bytes)")


def input_files(paths: list[str]) -> list[Path]:
    """The files named, and the files directly inside the directories named (hidden skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
            if not files:
                raise InputError(f"{p}: no files to triage")
            out += files
        elif p.exists():
            out.append(p)
        else:
            raise InputError(f"{p}: no such file or directory")
    return out


def triage(target, paths: list[str], timeout: float = DEFAULT_TIMEOUT,
           errors: list[str] | None = None) -> list[Group]:
    """Groups, bugs first, then by size (largest group first) and signature."""
    groups: dict[tuple, Group] = {}
    for path in input_files(paths):
        try:
            data = read_input(path)
        except InputError as e:
            if errors is not None:
                errors.append(str(e))
            continue
        r = run_one(target, data, timeout)
        key = (r.signature or f"no-finding|{r.status}", r.engine)
        groups.setdefault(key, Group(key, r)).files.append((path, len(data)))
    return sorted(groups.values(),
                  key=lambda g: (not g.example.is_bug, -len(g.files), g.key))
