#!/usr/bin/env python3
"""Convert saved inputs of component_roundtrip / component_static to the many-calls format, once.

Up to December 2026 an input held one call-count byte between its structure and its values
(1–4 calls); now the calls go on until the value bytes run out (`itfuzz.generators.calls`). This
drops that byte: the structure and the values of the old calls decode exactly as before (lengths
are read from the back against the bytes left, which the one byte less at the front does not
change), and any bytes the old decoder left unread become further calls. Run it once per
corpus, crash or reproducer file: a second run would drop a value byte.

Usage: tools/convert_corpus.py TARGET PATH... (files, or directories of inputs). Files named by
their SHA-1 (libFuzzer corpora) are renamed to their new SHA-1; others are rewritten in place.
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from itfuzz import targets  # noqa: E402

TARGETS = ("component_roundtrip", "component_static")


def convert(data: bytes, structure_end) -> bytes:
    """The input without its old call-count byte (unchanged when the structure used every byte)."""
    end = structure_end(data)
    return data if end >= len(data) else data[:end] + data[end + 1:]


def convert_file(path: Path, structure_end) -> Path:
    old = path.read_bytes()
    new = convert(old, structure_end)
    if path.name == hashlib.sha1(old).hexdigest():
        path.unlink()
        path = path.with_name(hashlib.sha1(new).hexdigest())
    path.write_bytes(new)
    return path


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in TARGETS:
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        print(f"targets: {', '.join(TARGETS)}", file=sys.stderr)
        return 2
    end = targets.get(argv[0]).structure_end
    files = []
    for arg in map(Path, argv[1:]):
        files += sorted(p for p in arg.iterdir() if p.is_file()) if arg.is_dir() else [arg]
    for p in files:
        convert_file(p, end)
    print(f"converted {len(files)} input(s) of {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
