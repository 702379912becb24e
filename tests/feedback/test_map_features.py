"""Map features: semantic (key/value kinds, entry counts, duplicate keys) and the seed corpus's
map features (key kinds per shape, entry shapes, nesting both ways)."""
from __future__ import annotations

from itfuzz.feedback import features, semantic
from itfuzz.model.case import Call, Signature
from itfuzz.model.case import TestCase as Case
from itfuzz.model.types import PRIMS, List, Map, Option, Record

u8, string = PRIMS["u8"], PRIMS["string"]


def test_semantic_type_and_value_features():
    t = Map(u8, string)
    assert "map:u8->string" in semantic.type_features([t])
    out: set[str] = set()
    semantic.value_features(t, [(1, "a"), (2, "b"), (1, "c")], "utf8", out, [100])
    assert {"edge:map:<=4", "edge:map:dup-keys:u8:1", "edge:string:ascii:utf8"} <= out
    out.clear()
    semantic.value_features(t, [], "utf8", out, [100])
    assert out == {"edge:map:empty"}


def test_corpus_features_of_map_cases():
    inner = Map(string, List(u8))
    t = Record((("m", Option(inner)),))
    sig = Signature((("x", t),), t, shape="composed", callee_encoding="utf16", echo=True)
    v = (("some", [("k", [1]), ("k", [])] + [(str(i), []) for i in range(70)]),)
    got = features.roundtrip_case_features(Case(sig, (Call((v,), v),)))
    assert {"kind:map", "map-key:string:composed", "map-of:list", "map-in:option",
            "map-entries:large", "map-entries:dup-keys:string"} <= got
    empty = (("some", []),)
    got = features.roundtrip_case_features(Case(sig, (Call((empty,), empty),)))
    assert "map-entries:empty" in got and "map-entries:large" not in got


def test_cases_without_maps_have_no_map_features():
    sig = Signature((("x", List(u8)),), List(u8), echo=True)
    got = features.roundtrip_case_features(Case(sig, (Call(([1],), [1]),)))
    assert not any("map" in f for f in got)
