"""A bounded on-disk cache of byte blobs, shared by concurrent processes (libFuzzer's `-fork` and
`-jobs` workers, restarts), under ``$ITFUZZ_CACHE`` (default ``~/.cache/itfuzz``).

One file per key, named by the key's SHA-256. A file holds a magic line, a SHA-256 checksum,
the key's length, the key and the value; `get` returns the value only when the magic, the
checksum and the stored key all match, so a torn, truncated, bit-flipped or misplaced file is
a miss (and is deleted), never handed on. Writers write a unique temporary file in the same
directory and `os.replace` it into place, so readers see either the old file or the new one.
The directory is kept under `max_bytes` by deleting the least recently used files (a hit
refreshes a file's modification time); with n concurrent writers it may briefly hold up to n
tenths of `max_bytes` more.
"""
from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import time
from collections import Counter
from pathlib import Path

MAGIC = b"itfuzz-diskcache-1\n"
_HEAD = struct.Struct("<32sQ")  # checksum of (key length, key, value), key length
SUFFIX = ".blob"
TMP_PREFIX = ".tmp-"
STALE_TMP_SECONDS = 3600  # a temporary file this old belongs to a writer that died


def cache_dir() -> Path:
    """itfuzz's cache directory: ``$ITFUZZ_CACHE``, else ``~/.cache/itfuzz``."""
    return Path(os.environ.get("ITFUZZ_CACHE") or Path.home() / ".cache" / "itfuzz")


def encode(key: bytes, value: bytes) -> bytes:
    """The file contents for `key` → `value`."""
    length = struct.pack("<Q", len(key))
    digest = hashlib.sha256(length + key + value).digest()
    return MAGIC + _HEAD.pack(digest, len(key)) + key + value


def decode(data: bytes, key: bytes) -> bytes | None:
    """The value stored in `data` for `key`, or None when `data` is not an intact file of `key`."""
    start = len(MAGIC) + _HEAD.size
    if len(data) < start or not data.startswith(MAGIC):
        return None
    digest, klen = _HEAD.unpack_from(data, len(MAGIC))
    body = data[start:]
    if klen != len(key) or body[:klen] != key:
        return None
    if hashlib.sha256(struct.pack("<Q", klen) + body).digest() != digest:
        return None
    return body[klen:]


class DiskCache:
    """Blobs by key in `directory`, at most about `max_bytes` in all (see the module doc)."""

    def __init__(self, directory: str | Path, max_bytes: int) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.stats: Counter = Counter()  # hits, misses, corrupt, stores, evicted
        self._written = 0  # bytes this process stored since it last measured the directory
        self._total: int | None = None  # the directory's size when last measured

    def path(self, key: bytes) -> Path:
        return self.directory / (hashlib.sha256(key).hexdigest() + SUFFIX)

    def get(self, key: bytes) -> bytes | None:
        """The value stored under `key`, or None (missing, or not intact: then deleted)."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except OSError:
            self.stats["misses"] += 1
            return None
        value = decode(data, key)
        if value is None:
            self.stats["corrupt"] += 1
            self.stats["misses"] += 1
            self._remove(path)
            return None
        self.stats["hits"] += 1
        try:
            os.utime(path)  # recently used: evicted last
        except OSError:
            pass
        return value

    def put(self, key: bytes, value: bytes) -> None:
        """Store `value` under `key` (atomically; errors such as a full disk are ignored)."""
        data = encode(key, value)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, self.path(key))
            except BaseException:
                self._remove(Path(tmp))
                raise
        except OSError:
            self.stats["store-errors"] += 1
            return
        self.stats["stores"] += 1
        self._written += len(data)
        # Other processes write too: measure again after every tenth of the bound written here,
        # so that n writers overshoot it by at most n tenths between their measurements.
        if self._total is None or self._total + self._written > self.max_bytes \
                or self._written > self.max_bytes // 10:
            self.evict()

    def evict(self) -> None:
        """Delete the least recently used files until the directory holds at most 90 % of
        `max_bytes` (only once it exceeds `max_bytes`), and stale temporary files."""
        files = []
        now = time.time()
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return
        for e in entries:
            try:
                st = e.stat()
            except OSError:
                continue
            if e.name.startswith(TMP_PREFIX):
                if now - st.st_mtime > STALE_TMP_SECONDS:
                    self._remove(Path(e.path))
            elif e.name.endswith(SUFFIX):
                files.append((st.st_mtime, st.st_size, e.path))
        total = sum(size for _, size, _ in files)
        if total > self.max_bytes:
            for _, size, path in sorted(files):
                if total <= self.max_bytes * 0.9:
                    break
                self._remove(Path(path))
                self.stats["evicted"] += 1
                total -= size
        self._total, self._written = total, 0

    @staticmethod
    def _remove(path: Path) -> None:
        try:
            path.unlink()
        except OSError:
            pass
