"""Maps in the ABI model: CanonicalABI.md despecializes map<K, V> to list<tuple<K, V>>, so a map
value is stored, flattened and loaded exactly as that list is (the same bytes, the same realloc
calls) and comes back with every entry, in order."""
from __future__ import annotations

import random

from itfuzz.abi import BumpRealloc, Context
from itfuzz.abi.flat import lift_flat, lower_flat
from itfuzz.abi.layout import alignment, elem_size, flatten_types
from itfuzz.abi.load import load
from itfuzz.abi.store import store
from itfuzz.generators.typegen import TypeGen
from itfuzz.generators.unstructured import Unstructured
from itfuzz.generators.valuegen import ValueGen
from itfuzz.model.types import Map, walk, without_maps
from itfuzz.model.values import diff

BASE = 64


def map_cases(n: int, seed: int):
    rng = random.Random(seed)
    while n:
        t = TypeGen(Unstructured(rng.randbytes(rng.choice((16, 64, 256)))), maps=True).gen()
        if not any(isinstance(x, Map) for x in walk(t)):
            continue
        n -= 1
        v = ValueGen(Unstructured(rng.randbytes(rng.choice((64, 512, 2048)))), fuel=1500).gen(t)
        yield t, v, ("utf8", "utf16", "latin1+utf16")[rng.randrange(3)]


def fresh(encoding: str) -> Context:
    mem = bytearray(65536)
    return Context(mem, encoding, BumpRealloc(mem, BASE))


def stored(t, v, enc: str) -> tuple[Context, int]:
    cx = fresh(enc)
    ptr = -(-BASE // alignment(t)) * alignment(t)
    cx.realloc.top = ptr + elem_size(t)  # type: ignore[union-attr]
    store(cx, v, t, ptr)
    return cx, ptr


def test_maps_store_and_load_as_their_list_of_pairs():
    for t, v, enc in map_cases(300, seed=1):
        host = without_maps(t)
        assert (elem_size(t), alignment(t), flatten_types([t])) == \
            (elem_size(host), alignment(host), flatten_types([host]))
        cx, ptr = stored(t, v, enc)
        cx_list, _ = stored(host, v, enc)
        assert cx.memory == cx_list.memory
        assert [(c.align, c.new_size) for c in cx.realloc_log] == \
            [(c.align, c.new_size) for c in cx_list.realloc_log]
        assert diff(t, v, load(cx, ptr, t)) is None


def test_maps_lower_and_lift_flat():
    for t, v, enc in map_cases(300, seed=2):
        cx = fresh(enc)
        flat = lower_flat(cx, v, t)
        assert diff(t, v, lift_flat(cx, iter(flat), t)) is None
