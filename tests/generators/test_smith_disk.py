"""wasm-smith output kept on disk: a second process (a new `SmithCache`) reads it back instead
of running wasm-smith, failures included, and a damaged file makes smith run again."""
from __future__ import annotations

import hashlib

import pytest

from itfuzz.generators.core_modules import SmithCache, SmithFailed


def _seed(n: int) -> bytes:
    return hashlib.shake_128(b"smith-disk %d" % n).digest(256)


def test_a_restart_reads_smith_output_from_disk(wasm_tools, tmp_path):
    first = SmithCache()
    first.use_disk(tmp_path)
    modules = [first(_seed(n)) for n in range(3)]
    assert first.runs == 3
    second = SmithCache()
    second.use_disk(tmp_path)
    assert [second(_seed(n)) for n in range(3)] == modules and second.runs == 0
    second(_seed(0), reference_types=False)
    assert second.runs == 1  # other options: another key


def test_failures_are_kept_too(wasm_tools, tmp_path, monkeypatch):
    first = SmithCache()
    first.use_disk(tmp_path)
    monkeypatch.setattr(first, "_smith", lambda seed, flags: "wasm-smith: no module")
    with pytest.raises(SmithFailed):
        first(b"x")
    second = SmithCache()
    second.use_disk(tmp_path)
    with pytest.raises(SmithFailed, match="no module"):
        second(b"x")
    assert second.runs == 0


def test_a_damaged_file_runs_smith_again(wasm_tools, tmp_path):
    first = SmithCache()
    first.use_disk(tmp_path)
    module = first(_seed(9))
    for path in tmp_path.iterdir():
        data = bytearray(path.read_bytes())
        data[-3] ^= 0xFF
        path.write_bytes(bytes(data))
    second = SmithCache()
    second.use_disk(tmp_path)
    assert second(_seed(9)) == module and second.runs == 1
