"""Resource misuse inputs of host_api_misuse: decoding (old inputs keep their meaning), the
handles a value holds, and the substitution of one bad handle, nested in every compound kind."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from wasmtime.component import Record as WRecord
from wasmtime.component import Variant as WVariant

from itfuzz.engines.invalid_values import decode_misuse, misuse_head
from itfuzz.engines.resource_misuse import KINDS, MAGIC, occurrences, substitute
from itfuzz.generators.engine_configs import decode_config
from itfuzz.generators.signatures import decode_signature
from itfuzz.generators.unstructured import Unstructured
from itfuzz.known_findings import KNOWN
from itfuzz.model.resources import Handle, Res
from itfuzz.model.types import PRIMS, List, Option, Record, Tuple, Variant

ROOT = Path(__file__).resolve().parents[2]
OWN, BORROW, u8 = Handle(0, True), Handle(1, False), PRIMS["u8"]
BAD = object()
RESOURCE_FINDINGS = ("K27", "K28")  # found by resource misuse inputs (they start with MAGIC)


def old_inputs() -> list[bytes]:
    seeds = [p.read_bytes() for p in (ROOT / "corpus" / "host_api_misuse").iterdir()]
    seeds = [d for d in seeds if not d.startswith(MAGIC)]
    found = [(ROOT / k.reproducer).read_bytes() for k in KNOWN if k.target == "host_api_misuse"
             and k.id not in RESOURCE_FINDINGS]
    return seeds + found


def test_old_inputs_keep_their_meaning():
    """No earlier seed or K reproducer starts with MAGIC: their head is the old decoding."""
    inputs = old_inputs()
    assert len(inputs) > 100
    for data in inputs:
        assert not data.startswith(MAGIC)
        u, old = Unstructured(data), Unstructured(data)
        assert misuse_head(u) == (decode_signature(old, shapes=("single",)), decode_config(old))
        assert u.front == old.front
        assert decode_misuse(data).res is None


def draws(n: int, seed: int = 5):
    rng = random.Random(seed)
    for _ in range(n):
        yield MAGIC + rng.randbytes(rng.choice((64, 256, 700)))


def test_every_kind_at_both_sites_and_nested():
    seen, parents = set(), set()
    for data in draws(1500):
        case = decode_misuse(data)
        assert case.sig.key.startswith(MAGIC)  # never an old input's component-cache key
        assert case.lane == "py"
        if case.res is None:
            assert case.where == "arity"
            continue
        seen.add((case.where, case.res.kind))
        parents.add(case.res.at.parent)
        assert case.misuse.kind == case.res.kind and case.misuse.node == case.res.at.handle
        assert case.res.kind in case.describe()
    assert {("arg", k) for k in KINDS} <= seen
    assert {("ret", k) for k in KINDS if k != "stale-borrow"} <= seen
    assert {"top", "record", "list", "option", "variant", "tuple", "result"} <= parents


def test_decoding_is_deterministic():
    for data in draws(50, seed=9):
        assert repr(decode_misuse(data)) == repr(decode_misuse(data))


T = Record((("a", u8), ("b", List(Option(OWN))), ("c", Variant((("x", Tuple((BORROW, OWN))),
                                                                   ("y", Tuple((u8,))))))))  # tagged
V = (3, [("some", Res(1)), ("none", None), ("some", Res(2))], ("x", (Res(3), Res(4))))


def wvalue():
    r = WRecord()
    r.a, r.b, r.c = 3, ["h1", None, "h2"], WVariant("x", ("h3", "h4"))
    return r


def test_occurrences_name_every_handle_with_its_path():
    found = occurrences(T, V, "x")
    assert [(o.value.rep, o.path, o.parent, o.handle.kind) for o in found] == [
        (1, "x.b[0]<some>", "option", "own"), (2, "x.b[2]<some>", "option", "own"),
        (3, "x.c<x>.0", "tuple", "borrow"), (4, "x.c<x>.1", "tuple", "own")]
    assert occurrences(T, (3, [], ("y", (5,))), "x") == []


@pytest.mark.parametrize("index,where", [(0, ("b", 0)), (1, ("b", 2)), (2, ("c", 0)),
                                         (3, ("c", 1))])
def test_substitute_replaces_exactly_one_handle(index, where):
    out = substitute(T, V, wvalue(), index, BAD)
    handles = out.b[0], out.b[2], out.c.payload[0], out.c.payload[1]
    assert [h is BAD for h in handles] == [i == index for i in range(4)]
    assert out.a == 3 and out.b[1] is None and out.c.tag == "x"
