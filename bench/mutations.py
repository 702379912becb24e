"""Input mutations for the benchmarks' libFuzzer-like streams (shared by bench_differential and
bench_hostile; the benchmark scripts' directory is on their import path)."""
from __future__ import annotations

import random


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One libFuzzer-style mutation at a uniform position (change, flip, insert, erase, copy)."""
    b = bytearray(data or b"\0")
    i = rng.randrange(len(b))
    op = rng.randrange(5)
    if op == 0:
        b[i] = rng.getrandbits(8)
    elif op == 1:
        b[i] ^= 1 << rng.randrange(8)
    elif op == 2:
        b[i:i] = bytes([rng.getrandbits(8)])
    elif op == 3 and len(b) > 1:
        del b[i]
    else:
        j = rng.randrange(len(b))
        n = rng.randrange(1, 9)
        b[i:i + n] = b[j:j + n]
    return bytes(b)
