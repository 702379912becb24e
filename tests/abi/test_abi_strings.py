"""String lowering paths of the ABI model: the spec's realloc call sequences (old ptr, old size,
align, new size), returned lengths and bytes, worked out by hand from CanonicalABI.md §Storing."""
from __future__ import annotations

import pytest

from itfuzz.abi import BumpRealloc, Context
from itfuzz.abi.load import load
from itfuzz.abi.store import store
from itfuzz.abi.strings import UTF16_TAG, String, load_string, store_string, without_hints
from itfuzz.model.types import PRIMS, List

BASE = 100
T = UTF16_TAG


def run(dst: str, s: str, src: str, units: int | None):
    mem = bytearray(4096)
    cx = Context(mem, dst, BumpRealloc(mem, BASE))
    ptr, length = store_string(cx, s, src, units)
    calls = [(c.old_ptr, c.old_size, c.align, c.new_size) for c in cx.realloc_log]
    return cx, ptr, length, calls


def old(calls):
    """The calls with each old_ptr replaced by "p" when it is the previous call's result."""
    return [("p" if o else 0, osz, al, n) for o, osz, al, n in calls]


# (dst encoding, string, src encoding, src tagged code units, realloc calls, packed length)
PATHS = [
    # store_string_copy: one exact allocation
    ("utf8", "héllo", "utf8", 6, [(0, 0, 1, 6)], 6),
    ("utf16", "a😀", "utf16", 3, [(0, 0, 2, 6)], 3),
    ("utf16", "é", "latin1+utf16", 1, [(0, 0, 2, 2)], 1),                    # latin1 → utf16
    ("latin1+utf16", "é", "latin1+utf16", 1, [(0, 0, 2, 1)], 1),             # latin1 → latin1
    # store_utf8_to_utf16: A(2, 2n), shrink when shorter
    ("utf16", "h€", "utf8", 4, [(0, 0, 2, 8), ("p", 8, 2, 4)], 2),
    ("utf16", "😀", "utf8", 4, [(0, 0, 2, 8), ("p", 8, 2, 4)], 2),
    ("utf16", "ab", "utf8", 2, [(0, 0, 2, 4)], 2),
    ("utf16", "", "utf8", 0, [(0, 0, 2, 0)], 0),
    # store_string_to_utf8 from utf16 (worst 3n) and latin1 (worst 2n)
    ("utf8", "aé", "utf16", 2, [(0, 0, 1, 2), ("p", 2, 1, 6), ("p", 6, 1, 3)], 3),
    ("utf8", "€€", "utf16", 2, [(0, 0, 1, 2), ("p", 2, 1, 6)], 6),
    ("utf8", "ab", "utf16", 2, [(0, 0, 1, 2)], 2),
    ("utf8", "", "utf16", 0, [(0, 0, 1, 0)], 0),
    ("utf8", "aé", "latin1+utf16", 2, [(0, 0, 1, 2), ("p", 2, 1, 4), ("p", 4, 1, 3)], 3),
    ("utf8", "é", "latin1+utf16", 1, [(0, 0, 1, 1), ("p", 1, 1, 2)], 2),
    ("utf8", "😀", "latin1+utf16", 2 | T, [(0, 0, 1, 2), ("p", 2, 1, 6), ("p", 6, 1, 4)], 4),
    # store_string_to_latin1_or_utf16 from utf8 / utf16
    ("latin1+utf16", "aé", "utf8", 3, [(0, 0, 2, 3), ("p", 3, 2, 2)], 2),
    ("latin1+utf16", "a€", "utf8", 4, [(0, 0, 2, 4), ("p", 4, 2, 8), ("p", 8, 2, 4)], 2 | T),
    ("latin1+utf16", "ab", "utf8", 2, [(0, 0, 2, 2)], 2),
    ("latin1+utf16", "", "utf8", 0, [(0, 0, 2, 0)], 0),
    ("latin1+utf16", "aé", "utf16", 2, [(0, 0, 2, 2)], 2),
    ("latin1+utf16", "a😀", "utf16", 3, [(0, 0, 2, 3), ("p", 3, 2, 6)], 3 | T),
    ("latin1+utf16", "€", "utf8", 3, [(0, 0, 2, 3), ("p", 3, 2, 6), ("p", 6, 2, 2)], 1 | T),
    # store_probably_utf16_to_latin1_or_utf16: the shrink passes alignment 1
    ("latin1+utf16", "aé", "latin1+utf16", 2 | T, [(0, 0, 2, 4), ("p", 4, 1, 2)], 2),
    ("latin1+utf16", "a€", "latin1+utf16", 2 | T, [(0, 0, 2, 4)], 2 | T),
    ("latin1+utf16", "", "latin1+utf16", 0 | T, [(0, 0, 2, 0), ("p", 0, 1, 0)], 0),
]


@pytest.mark.parametrize("dst,s,src,units,calls,length", PATHS)
def test_transcoding_path(dst, s, src, units, calls, length):
    cx, ptr, got_length, got_calls = run(dst, s, src, units)
    assert old(got_calls) == calls
    for prev, call in zip(cx.realloc_log, cx.realloc_log[1:]):
        assert call.old_ptr == prev.result
    assert got_length == length
    assert load_string(cx, ptr, got_length) == s
    # the bytes are the destination encoding's, exactly
    if dst == "utf8":
        want = s.encode()
    elif dst == "utf16" or got_length & T:
        want = s.encode("utf-16-le")
    else:
        want = s.encode("latin-1")
    assert bytes(cx.memory[ptr:ptr + len(want)]) == want


def test_default_hint_is_the_source_encodings_length():
    assert run("latin1+utf16", "a€", "utf8", None)[1:] == run("latin1+utf16", "a€", "utf8", 4)[1:]
    assert run("utf8", "é", "latin1+utf16", None)[3] == [(0, 0, 1, 1), (BASE, 1, 1, 2)]
    assert run("utf8", "€", "latin1+utf16", None)[3][0] == (0, 0, 1, 1)  # 1 | TAG: one unit


class NoCopy:
    """A realloc answering from a list and never copying the old block."""

    def __init__(self, *answers: int) -> None:
        self.answers = list(answers)

    def __call__(self, old_ptr, old_size, align, new_size):
        return self.answers.pop(0)


def test_inflation_reads_memory_after_realloc():
    # "éa€" utf8 (6 bytes) → latin1+utf16: é, a written as Latin-1 at 100; at € the block moves
    # to 200 without a copy, so the in-place inflation widens whatever bytes are at 200 ("AB")
    mem = bytearray(512)
    mem[200:202] = b"AB"
    cx = Context(mem, "latin1+utf16", NoCopy(100, 200, 200))
    ptr, length = store_string(cx, "éa€", "utf8", 6)
    assert [(c.old_ptr, c.old_size, c.align, c.new_size) for c in cx.realloc_log] == \
        [(0, 0, 2, 6), (100, 6, 2, 12), (200, 12, 2, 6)]
    assert (ptr, length) == (200, 3 | T)
    assert bytes(mem[100:102]) == b"\xe9a"
    assert bytes(mem[200:206]) == b"A\x00B\x00\xac\x20"


def test_utf8_growth_writes_only_the_rest():
    # utf16 "aé" → utf8: 'a' written at 100; the grown block at 200 (no copy) gets only "é"
    mem = bytearray(512)
    mem[200] = ord("Z")
    cx = Context(mem, "utf8", NoCopy(100, 200, 200))
    assert store_string(cx, "aé", "utf16", 2) == (200, 3)
    assert bytes(mem[200:203]) == "Zé".encode()


def test_compaction_in_place():
    mem = bytearray(512)
    cx = Context(mem, "latin1+utf16", NoCopy(100, 300))
    assert store_string(cx, "aé", "latin1+utf16", 2 | T) == (300, 2)
    assert bytes(mem[100:104]) == b"a\xe9\xe9\x00"  # compacted over the UTF-16 in place


def test_hints_carry_from_a_load_to_a_store():
    # a tagged "ab" lifted with hints is stored via store_probably_utf16_to_latin1_or_utf16
    src = bytearray(64)
    src[0:8] = (16).to_bytes(4, "little") + (2 | T).to_bytes(4, "little")
    src[16:20] = "ab".encode("utf-16-le")
    lifted = load(Context(src, "latin1+utf16", keep_string_hints=True), 0, PRIMS["string"])
    assert lifted == String("ab", "latin1+utf16", 2 | T)
    mem = bytearray(512)
    cx = Context(mem, "latin1+utf16", BumpRealloc(mem, BASE))
    store(cx, [lifted], List(PRIMS["string"]), 0)
    assert [(c.old_size, c.align, c.new_size) for c in cx.realloc_log] == \
        [(0, 4, 8), (0, 2, 4), (4, 1, 2)]
    assert without_hints([(lifted, "x")]) == [("ab", "x")]
    # without hints a plain str is a host (UTF-8) string
    mem2 = bytearray(512)
    cx2 = Context(mem2, "latin1+utf16", BumpRealloc(mem2, BASE))
    store(cx2, "ab", PRIMS["string"], 0)
    assert [(c.old_size, c.align, c.new_size) for c in cx2.realloc_log] == [(0, 2, 2)]
