"""Release numbers: parsing, and the wasmtime-py release installed here (no wasmtime import)."""
from __future__ import annotations

import re
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

OLDEST = (39, 0, 0)  # the first release with `wasmtime.component`


def parse_version(text: str) -> tuple[int, int, int]:
    """"50.0.1" → (50, 0, 1); raises ValueError for anything else."""
    parts = text.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a release version: {text!r} (expected MAJOR.MINOR.PATCH)")
    return int(parts[0]), int(parts[1]), int(parts[2])


@lru_cache(maxsize=1)
def wasmtime_version() -> str:
    """The installed wasmtime-py release (its version is Wasmtime's), or "?". Read once per
    process: the metadata lookup costs ~0.5 ms, and every compile's disk-cache key needs it."""
    try:
        return version("wasmtime")
    except PackageNotFoundError:
        return "?"


@lru_cache(maxsize=1)
def release() -> tuple[int, int, int]:
    """The wasmtime-py release under test: its MAJOR.MINOR.PATCH (a suffix such as ".dev0" is
    ignored); (0, 0, 0) when wasmtime-py is missing or its version does not parse."""
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", wasmtime_version())
    return (int(match[1]), int(match[2]), int(match[3])) if match else (0, 0, 0)
