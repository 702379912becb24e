"""Many calls per input (`generators.calls`) and the structure prefix (`generators.heads`)."""
from __future__ import annotations

import random

from itfuzz.generators import signatures
from itfuzz.generators.calls import CALL_COST, decode_calls, model_call
from itfuzz.generators.heads import HeadCache, prefix_end
from itfuzz.generators.signatures import decode_head, decode_roundtrip, values_start
from itfuzz.generators.unstructured import Unstructured
from itfuzz.model.case import MAX_CALLS, VALUE_BUDGET, Call
from itfuzz.model.types import PRIMS, List

u32 = PRIMS["u32"]


def random_inputs(seed: int, n: int):
    rng = random.Random(seed)
    for _ in range(n):
        size = rng.choice((0, 1, 3, 16, 64, 300, 1000, 4096))
        yield bytes(rng.getrandbits(8) for _ in range(size))


def test_many_call_decode_is_total_and_bounded():
    """Random bytes of every size decode (never raise) to 1..MAX_CALLS calls within budget."""
    for data in random_inputs(7, 300):
        case = decode_roundtrip(data)
        assert 1 <= len(case.calls) <= MAX_CALLS
        assert sum(c.nodes for c in case.calls) <= VALUE_BUDGET + 1500


def test_decode_is_deterministic_with_and_without_the_head_cache():
    datas = list(random_inputs(11, 80))
    first = [repr(decode_roundtrip(d)) for d in datas]
    signatures.HEADS.heads.clear()
    signatures.HEADS.lengths.clear()
    assert [repr(decode_roundtrip(d)) for d in datas] == first
    uncached = HeadCache(decode_head, size=0)  # clears before every store: nothing is reused
    for d, want in zip(datas, first):
        head, u = uncached.decode(d)
        assert u.front == prefix_end(decode_head)(d) == values_start(d)
        assert repr(head.sig) in want


def test_calls_go_on_until_the_value_bytes_run_out():
    draw = model_call([u32], None, echo=False)
    few = decode_calls(Unstructured(bytes(range(1, 6))), draw)
    many = decode_calls(Unstructured(bytes(range(1, 250))), draw)
    assert 1 <= len(few) < len(many)
    assert len(many) > 4  # more than the old per-input maximum
    assert len(decode_calls(Unstructured(b""), draw)) == 1  # at least one call


def test_a_call_that_reads_nothing_ends_the_list():
    assert len(decode_calls(Unstructured(b"\xff" * 100), model_call([], None, echo=False))) == 1


def test_the_value_budget_bounds_the_calls():
    def costly(vg):  # one byte and 1000 value nodes a call
        vg.u.u8()
        vg.fuel -= 1000
        return Call((), None)
    calls = decode_calls(Unstructured(bytes(10000)), costly)
    assert len(calls) == -(-VALUE_BUDGET // (1000 + CALL_COST))
    long_lists = decode_calls(Unstructured(bytes([0xFF]) * 60000), model_call([List(u32)], None, False))
    assert sum(c.nodes for c in long_lists) <= VALUE_BUDGET + 1500
    assert len(long_lists) <= MAX_CALLS


def test_structure_is_a_prefix():
    """An input whose structure did not use every byte keeps its head whatever follows."""
    rng = random.Random(3)
    checked = 0
    for data in random_inputs(5, 100):
        end = values_start(data)
        if end >= len(data):
            continue
        tail = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 50)))
        other = data[:end] + tail
        assert values_start(other) == end
        assert decode_roundtrip(other).sig == decode_roundtrip(data).sig
        assert decode_roundtrip(other).sig.key == decode_roundtrip(data).sig.key
        checked += 1
    assert checked > 50
