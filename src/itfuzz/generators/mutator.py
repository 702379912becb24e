"""A structure-aware byte mutator: values change often, the structure rarely.

An input is a structure prefix (signature, engine configuration, lane: everything a target's
decoder reads before the first value; its length is `structure_end(data)`) and a value part.
libFuzzer's own byte mutations land anywhere, so about half of them change the types and the
compiled component cannot be reused; this mutator edits the value part only, except for one
mutation in `STRUCTURE_ONE_IN`, which edits the structure and keeps the values. The rate trades
the compiled-component cache hit rate (120 s libFuzzer runs of component_roundtrip: 87 % at 1 in
4, 92 % at 1 in 6, 94 % at 1 in 8) against new signatures per input and the time to find bugs
that need a new type shape (bench_bugfinding: record-retptr-offset 3.2 s at 1 in 4, 62 s at 1 in
12); 1 in 4 is the default, a target may set its own (`Target.structure_one_in`;
component_roundtrip: 1 in 5), `ITFUZZ_MUTATOR=N` picks another.
Value edits include copying and repeating byte ranges, which adds calls (`generators.calls`),
and, as libFuzzer's do, words changed by a small delta or negated and runs of one byte (a value
next to an edge, e.g. -2..-255, is then one edit away, not two).

A decoder that reads its values from the front only may also say how many bytes it reads
(`read_end(data)`): the bytes after that change no case, so they are dropped before editing
(differential_spec: most of a seed's value bytes are never read, and edits there were wasted).

A decoder whose structure starts with a signature may say where it ends (`signature_end(data)`):
then a structure edit changes the signature and keeps the rest of the structure (the engine
configuration, the lane) as it was, except in one of `REST_ONE_IN`, which edits the rest too.
Without it, most signature edits also changed the configuration (an edit that makes the
signature read more or fewer bytes shifts the bytes the configuration is decoded from), and such
a compile also needed a new engine. An edit of the rest alone would compile a component already
seen on another engine: measured in 120 s libFuzzer runs, 1 structure edit in 4 doing that gave
~25 % fewer new signatures per input.

An input whose structure used every byte (no value part; it decoded zeros past its end) first
gets `PAD` zero bytes: most such structures decode the same with zeros that are really there, and
then a value part can follow without changing them.

Everything is a function of (data, max_size, seed): the same arguments give the same bytes,
so a libFuzzer run is reproducible from its `-seed`.
"""
from __future__ import annotations

import random
from collections.abc import Callable

STRUCTURE_ONE_IN = 4
MAX_STACK = 4  # value edits stacked per mutation (1..MAX_STACK)
INTERESTING = (0, 1, 2, 0x7F, 0x80, 0xFE, 0xFF, 0x10, 0x20, 0x40)
PAD = 64
REST_ONE_IN = 4  # structure edits that also change the configuration/lane


def _edit(rng: random.Random, b: bytearray, limit: int) -> None:
    """One random byte-level edit of `b` in place, keeping it at most `limit` bytes long."""
    kind = rng.randrange(11)
    n = len(b)
    if n == 0 or (kind >= 5 and n < limit and rng.randrange(3) == 0):
        kind = 5  # nothing to edit: grow
    if kind == 0:
        b[rng.randrange(n)] ^= 1 << rng.randrange(8)
    elif kind == 1:
        b[rng.randrange(n)] = rng.choice(INTERESTING)
    elif kind == 2:
        b[rng.randrange(n)] = rng.randrange(256)
    elif kind == 3:
        i = rng.randrange(n)
        b[i] = (b[i] + rng.choice((-2, -1, 1, 2))) & 0xFF
    elif kind == 4 and n > 1:
        i = rng.randrange(n)
        del b[i:i + rng.randint(1, min(16, n - 1))]
    elif kind == 5:
        room = limit - n
        if room > 0:
            k = rng.randint(1, min(8, room))
            i = rng.randrange(n + 1)
            b[i:i] = bytes(rng.randrange(256) for _ in range(k))
    elif kind in (6, 7):  # copy a range: over another (6) or inserted, repeating it (7)
        i = rng.randrange(n)
        chunk = b[i:i + rng.randint(1, min(64, n - i))]
        j = rng.randrange(n)
        if kind == 6:
            b[j:j + len(chunk)] = chunk
        elif n + len(chunk) <= limit:
            b[j:j] = chunk
    elif kind in (8, 9):  # a little-endian word set to an edge value (8), or changed by a
        # small delta or negated (9), as libFuzzer changes integers
        width = rng.choice((2, 4, 8))
        if n >= width:
            i = rng.randrange(n - width + 1)
            if kind == 8:
                v = rng.choice((0, 1, (1 << (8 * width - 1)) - 1, 1 << (8 * width - 1),
                                (1 << 8 * width) - 1))
            else:
                v = int.from_bytes(b[i:i + width], "little")
                v = -v if rng.randrange(4) == 0 else v + rng.choice((-1, 1)) * rng.randint(1, 16)
            b[i:i + width] = (v % (1 << 8 * width)).to_bytes(width, "little")
    else:  # a run of one byte (0x00, 0xFF or any) over the data or inserted
        k, byte = rng.randint(2, 16), rng.choice((0, 0xFF, rng.randrange(256)))
        i = rng.randrange(n)
        if rng.randrange(2) and n + k <= limit:
            b[i:i] = bytes([byte]) * k
        else:
            b[i:i + k] = bytes([byte]) * len(b[i:i + k])
    del b[limit:]


def split(data: bytes, structure_end: Callable[[bytes], int],
          read_end: Callable[[bytes], int] | None = None) -> tuple[bytes, bytes]:
    """(structure, values) of an input; a structure that used every byte gets `PAD` zeros;
    with `read_end`, values past the bytes the decoder reads are dropped (one is kept)."""
    end = structure_end(data)
    if end >= len(data):
        data += bytes(PAD)
        end = structure_end(data)
    if read_end is not None:
        data = data[:max(end + 1, read_end(data))]
    return data[:end], data[end:]


def _edit_section(rng: random.Random, head: bytearray, values: bytes, limit: int,
                  signature_end: Callable[[bytes], int]) -> bytearray:
    """`head` with one edit of its signature (its first `signature_end` bytes) followed by the
    rest of the head's bytes, unchanged except in one call of `REST_ONE_IN` (one edit there
    too). The edited signature is cut where it now ends (with the bytes it now reads past its
    old end), so the rest decodes from the same bytes as before."""
    cut = signature_end(bytes(head + values))
    sig, rest = head[:cut], head[cut:]
    if rest and rng.randrange(REST_ONE_IN) == 0:
        _edit(rng, rest, max(1, limit - len(sig) - len(values)))
    _edit(rng, sig, max(1, limit - len(rest) - len(values)))
    x = bytes(sig + rest + values)
    end = signature_end(x)
    if end >= len(x):  # it read past the end: zeros that are really there mostly read the same
        x += bytes(PAD)
        end = signature_end(x)
        if end >= len(x):  # still: no place to keep the rest at (the edit is dropped)
            return head
    return bytearray(x[:end] + rest)


def _structure_draw(rng: random.Random, structure_one_in: float) -> bool:
    return rng.random() * structure_one_in < 1  # (a rate need not be 1 in a whole number)


def structure_turn(seed: int, structure_one_in: float = STRUCTURE_ONE_IN) -> bool:
    """Whether `mutate(…, seed, …, structure_one_in)` edits the structure (of an input that
    has one)."""
    return _structure_draw(random.Random(seed), structure_one_in)


def mutate(data: bytes, max_size: int, seed: int, structure_end: Callable[[bytes], int],
           structure_one_in: float = STRUCTURE_ONE_IN,
           read_end: Callable[[bytes], int] | None = None,
           signature_end: Callable[[bytes], int] | None = None,
           values_only: bool = False) -> bytes:
    """A mutation of `data` at most `max_size` bytes long; keeps the structure except in one
    call of `structure_one_in` (by `seed`: `structure_turn`) unless `values_only`; with
    `signature_end`, a structure edit changes the signature and only in 1 of `REST_ONE_IN` the
    rest of the structure."""
    rng = random.Random(seed)
    head, values = map(bytearray, split(data, structure_end, read_end))
    if _structure_draw(rng, structure_one_in) and not values_only and head:
        if signature_end is not None:
            head = _edit_section(rng, head, bytes(values), max_size, signature_end)
        else:
            _edit(rng, head, max(1, max_size - len(values)))
    else:
        for _ in range(rng.randint(1, MAX_STACK)):
            _edit(rng, values, max(1, max_size - len(head)))
    if not values:
        values.append(0)  # no value bytes would change how the structure decodes
    return bytes(head + values)[:max_size]


def crossover(data1: bytes, data2: bytes, max_size: int, seed: int,
              structure_end: Callable[[bytes], int],
              read_end: Callable[[bytes], int] | None = None) -> bytes:
    """`data1`'s structure with a splice of both inputs' values: a front part of `data1`'s and
    a range of `data2`'s."""
    rng = random.Random(seed)
    head, v1 = split(data1, structure_end, read_end)
    v2 = split(data2, structure_end, read_end)[1]
    cut = rng.randint(0, len(v1))
    start = rng.randint(0, len(v2))
    stop = rng.randint(start, len(v2))
    values = v1[:cut] + v2[start:stop]
    return (head + (values or v1[:1] or b"\0"))[:max_size]
