"""`itfuzz.diskcache`: values come back only from intact files of the same key, writers never
expose a partial file, and the directory stays within its size bound."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from itfuzz.diskcache import MAGIC, TMP_PREFIX, DiskCache, cache_dir, decode, encode

SRC = Path(__file__).resolve().parents[1] / "src"


def test_round_trip_and_a_second_instance_sees_it(tmp_path):
    a = DiskCache(tmp_path, 1 << 20)
    assert a.get(b"k") is None
    a.put(b"k", b"value")
    assert a.get(b"k") == b"value"
    b = DiskCache(tmp_path, 1 << 20)  # a restart: a new process sees the same directory
    assert b.get(b"k") == b"value" and b.stats["hits"] == 1
    assert b.get(b"other") is None


def test_cache_dir_follows_itfuzz_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("ITFUZZ_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("ITFUZZ_CACHE")
    assert cache_dir() == Path.home() / ".cache" / "itfuzz"


@pytest.mark.parametrize("damage", ["truncate", "bitflip-value", "bitflip-key", "bitflip-sum",
                                    "empty", "magic"])
def test_a_damaged_file_is_a_miss_and_is_removed(tmp_path, damage):
    cache = DiskCache(tmp_path, 1 << 20)
    cache.put(b"key", bytes(range(256)) * 4)
    path = cache.path(b"key")
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:-100]
    elif damage == "bitflip-value":
        data[-7] ^= 0x10
    elif damage == "bitflip-key":
        data[len(MAGIC) + 40 + 1] ^= 1
    elif damage == "bitflip-sum":
        data[len(MAGIC) + 3] ^= 0x80
    elif damage == "empty":
        data = bytearray()
    else:
        data[0] ^= 1
    path.write_bytes(bytes(data))
    assert cache.get(b"key") is None
    assert cache.stats["corrupt"] == 1 and not path.exists()


def test_a_file_of_another_key_is_a_miss(tmp_path):
    """A file moved to another key's name (or a hash collision) is never handed out."""
    cache = DiskCache(tmp_path, 1 << 20)
    cache.put(b"one", b"1")
    os.replace(cache.path(b"one"), cache.path(b"two"))
    assert cache.get(b"two") is None
    assert decode(encode(b"one", b"1"), b"one") == b"1"
    assert decode(encode(b"one", b"1"), b"two") is None


def test_size_bound_evicts_least_recently_used(tmp_path):
    cache = DiskCache(tmp_path, 10_000)
    value = b"x" * 900
    for i in range(40):
        cache.put(b"k%d" % i, value)
        os.utime(cache.path(b"k%d" % i), (1000 + i, 1000 + i))  # a distinct age each
        if i == 5:
            cache.get(b"k0")  # used again: now the newest
    total = sum(p.stat().st_size for p in tmp_path.iterdir())
    assert total <= 10_000
    assert cache.stats["evicted"] > 0
    assert cache.get(b"k39") == value  # the newest stay
    assert cache.get(b"k1") is None  # the oldest went


def test_size_bound_holds_with_two_writers(tmp_path):
    """Two caches on one directory (two processes): each measures it again often enough that
    together they stay within the bound plus a tenth each."""
    bound, value = 20_000, b"y" * 500
    a, b = DiskCache(tmp_path, bound), DiskCache(tmp_path, bound)
    for i in range(200):
        (a if i % 2 else b).put(b"k%d" % i, value)
        total = sum(p.stat().st_size for p in tmp_path.iterdir())
        assert total <= bound * 1.2 + 2 * 600, (i, total)


def test_evict_removes_only_stale_temporary_files(tmp_path):
    cache = DiskCache(tmp_path, 1 << 20)
    stale, fresh = tmp_path / (TMP_PREFIX + "a"), tmp_path / (TMP_PREFIX + "b")
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    cache.evict()
    assert not stale.exists() and fresh.exists()


WRITER = """
import sys
from itfuzz.diskcache import DiskCache
cache = DiskCache(sys.argv[1], 1 << 30)
value = bytes([int(sys.argv[2])]) * 200_000
for _ in range(150):
    cache.put(b"same", value)
    got = cache.get(b"same")
    assert got is not None and len(got) == 200_000 and len(set(got)) == 1, "torn read"
"""


def test_two_processes_writing_the_same_key(tmp_path):
    """Concurrent writers and readers of one key: every read is one writer's whole value."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(n)], env=env,
                              stderr=subprocess.PIPE) for n in (1, 2)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-2000:]
    value = DiskCache(tmp_path, 1 << 30).get(b"same")
    assert value in (b"\x01" * 200_000, b"\x02" * 200_000)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TMP_PREFIX)]
