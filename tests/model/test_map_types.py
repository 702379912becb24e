"""map<K, V> in the model: the canonical ABI of list<tuple<K, V>>, its own type text, and values
compared as ordered (key, value) lists with duplicates kept."""
from __future__ import annotations

import pytest

from itfuzz.model.case import Signature
from itfuzz.model.types import PRIMS, List, Map, Names, Record, Tuple, without_maps
from itfuzz.model.values import diff, equal

u8, s64, string, boolean = PRIMS["u8"], PRIMS["s64"], PRIMS["string"], PRIMS["bool"]


@pytest.mark.parametrize("key,value", [(u8, u8), (string, s64), (boolean, Record((("a", u8),))),
                                       (s64, Map(string, List(u8)))])
def test_layout_is_the_list_of_pairs(key, value):
    m, lst = Map(key, value), List(Tuple((key, value)))
    assert (m.size, m.align, m.flat) == (lst.size, lst.align, lst.flat)
    assert m.elem == lst.elem and m.has_pointer
    assert m.depth == 1 + max(key.depth, value.depth)


def test_type_text_and_wit():
    m = Map(string, List(u8))
    names = Names([m])
    assert m.comp(names) == "(map string (list u8))"
    assert m.wit(names) == "map<string, list<u8>>"


def test_equality_is_ordered_and_keeps_duplicates():
    t = Map(u8, string)
    v = [(1, "a"), (1, "b"), (2, "")]
    assert equal(t, v, [(1, "a"), (1, "b"), (2, "")])
    assert diff(t, v, [(1, "a"), (2, ""), (1, "b")]).path == "value[1].0"  # reordered
    assert diff(t, v, [(1, "b"), (2, "")]).detail.startswith("map:length")  # entry dropped
    assert diff(t, v, [(1, "a"), (2, "")]).detail.startswith("map:length")  # duplicate merged
    assert not equal(t, v, {1: "b", 2: ""})  # a dict is not the model's map value


def test_keys_are_strict():
    t = Map(boolean, u8)
    assert not equal(t, [(True, 1)], [(1, 1)])
    assert not equal(Map(u8, u8), [(1, 1)], [(True, 1)])


def test_names_cover_both_forms_in_the_composed_shape():
    """A record holding a map has a second, map-free form at the host: both are declared."""
    r = Record((("m", Map(string, u8)),))
    sig = Signature((("x", r),), r, shape="composed", callee_encoding="utf8", echo=True)
    host = sig.host_type(r)
    assert host == without_maps(r) != r
    assert sig.names.order == [r, host]
    single = Signature((("x", r),), r, echo=True)
    assert single.host_type(r) is r and single.names.order == [r]
