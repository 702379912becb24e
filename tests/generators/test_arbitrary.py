"""Unstructured (arbitrary-crate semantics), type generation and the properties of
`generators.signatures.decode_roundtrip`."""
from __future__ import annotations

import random
import re

import pytest

from itfuzz.generators.components import component_text
from itfuzz.generators.signatures import decode_roundtrip as decode
from itfuzz.generators.typegen import LABEL_STYLES, MAX_DEPTH, TypeGen, label, labels
from itfuzz.generators.unstructured import Unstructured
from itfuzz.model import case as case_mod
from itfuzz.model.case import ENCODINGS, MAX_CALLS
from itfuzz.model.types import Enum, Flags, List, Prim, Record, Result, Tuple, Variant, _VariantLike, walk

RNG_SEED = 0x17F022


def random_inputs(n: int, seed: int = RNG_SEED, lengths=(0, 1, 2, 3, 5, 8, 16, 33, 64, 200,
                                                           1000, 5000)):
    rng = random.Random(seed)
    return [rng.randbytes(rng.choice(lengths)) for _ in range(n)]


# -- Unstructured ----------------------------------------------------------------------------

def test_int_in_range_always_in_range_even_when_exhausted():
    rng = random.Random(RNG_SEED)
    for _ in range(4000):
        lo = rng.randint(-(1 << 70), 1 << 70)
        hi = lo + rng.choice((0, 1, 2, 255, 256, 257, 65535, 65536, (1 << 32) - 1, 1 << 64,
                              rng.randint(0, 1 << 72)))
        data = rng.randbytes(rng.choice((0, 1, 2, 3, 9)))
        u = Unstructured(data)
        for _ in range(4):  # keeps drawing past the end of the data
            v = u.int_in_range(lo, hi)
            assert lo <= v <= hi, (lo, hi, data, v)
            assert 0 <= u.front <= u.back <= len(data)


def test_int_in_range_reads_only_the_bytes_the_range_needs():
    for span, need in ((1, 1), (255, 1), (256, 2), (65535, 2), (65536, 3), ((1 << 32) - 1, 4),
                       ((1 << 64) - 1, 8)):
        u = Unstructured(bytes(range(1, 20)))
        u.int_in_range(10, 10 + span)
        assert u.front == need, (span, u.front)
        assert u.back == 19  # never from the back


def test_int_in_range_degenerate_and_empty():
    u = Unstructured(b"\xff\xff")
    assert u.int_in_range(5, 5) == 5 and u.front == 0
    assert u.int_in_range(7, 3) == 7 and u.front == 0
    assert Unstructured(b"").int_in_range(-3, 100) == -3
    # big-endian accumulation of the front bytes, modulo the span
    assert Unstructured(b"\x01\x02").int_in_range(0, 65535) == 0x0102
    assert Unstructured(b"\x07").int_in_range(0, 3) == 3


def test_fixed_width_integers_are_little_endian_and_zero_padded():
    u = Unstructured(bytes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))
    assert u.u8() == 1
    assert u.u16() == 0x0302
    assert u.u32() == 0x07060504
    assert u.u64() == 0x0B0A0908  # only 4 bytes left: zero-padded
    assert u.is_empty() and len(u) == 0
    assert u.u64() == 0 and u.u8() == 0 and u.bool() is False
    assert u.take(5) == b""


def test_take_never_overruns():
    u = Unstructured(b"abcdef")
    assert u.take(2) == b"ab"
    assert u.take(-3) == b""
    assert u.take(100) == b"cdef"
    assert u.take(1) == b""


def test_arbitrary_len_reads_from_the_back():
    data = bytes([9, 9, 9, 9, 9, 9, 9, 9, 9, 5])
    u = Unstructured(data)
    n = u.arbitrary_len(100)
    assert u.front == 0 and u.back == len(data) - 1
    assert n == 5  # 5 % (min(100, 9 left) + 1)
    # the front is untouched: the next integer is the first byte
    assert u.u8() == 9


def test_arbitrary_len_bounds():
    rng = random.Random(RNG_SEED + 1)
    for _ in range(3000):
        data = rng.randbytes(rng.choice((0, 1, 2, 10, 255, 256, 257, 300, 70000)))
        u = Unstructured(data)
        u.take(rng.randint(0, len(data)))
        max_len = rng.choice((0, 1, 3, 64, 1000, 1 << 20))
        elem = rng.choice((1, 2, 4, 8, 16))
        before_front, before_left = u.front, len(u)
        n = u.arbitrary_len(max_len, elem)
        assert u.front == before_front
        assert 0 <= n <= max_len
        assert n <= len(u) // elem, (n, len(u), elem)
        assert len(u) >= 0
        width = 0 if before_left == 0 else 1 if before_left <= 0x100 else 2 if before_left <= 0x10000 else 4
        assert before_left - len(u) == min(width, before_left)
    assert Unstructured(b"").arbitrary_len(10) == 0


def test_choose_ratio_and_floats():
    rng = random.Random(RNG_SEED + 2)
    items = ["a", "b", "c", "d", "e"]
    for _ in range(500):
        u = Unstructured(rng.randbytes(rng.randint(0, 3)))
        assert u.choose(items) in items
        assert 0 <= u.choose_index(7) < 7
        assert isinstance(u.ratio(1, 3), bool)
    assert Unstructured(b"\x00").ratio(1, 4) is True       # 1 + 0 % 4 = 1 <= 1
    assert Unstructured(b"\x01").ratio(1, 4) is False
    assert Unstructured(b"").ratio(1, 4) is True           # exhausted: low end of the range
    assert Unstructured.f32_from_bits(0x3F800000) == 1.0
    assert Unstructured.f64_from_bits(0xBFF0000000000000) == -1.0


def test_empty_unstructured_is_total():
    u = Unstructured(b"")
    assert u.is_empty()
    assert (u.u8(), u.u16(), u.u32(), u.u64()) == (0, 0, 0, 0)
    assert u.choose([3, 4]) == 3
    assert u.arbitrary_len(5) == 0


# -- the decoder -----------------------------------------------------------------------------

KEBAB = re.compile(r"([a-z][0-9a-z]*|[A-Z][0-9A-Z]*)(-([0-9a-z]+|[0-9A-Z]+))*\Z")


def check_labels(scope: str, names) -> None:
    assert len(names) >= 1, scope
    for n in names:
        assert KEBAB.match(n), f"{scope}: {n!r} is not kebab-case"
    lowered = [n.lower() for n in names]
    assert len(set(lowered)) == len(lowered), f"{scope}: not strongly unique: {names}"


def check_type(t) -> None:
    assert t.depth < 100
    for node in walk(t):
        if isinstance(node, Flags):
            assert 1 <= len(node.labels) <= 32
            check_labels("flags", node.labels)
        elif isinstance(node, Enum):
            assert len(node.names_) >= 1
            check_labels("enum", node.names_)
        elif isinstance(node, Variant):
            assert len(node.variant_cases) >= 1
            check_labels("variant", [n for n, _ in node.variant_cases])
        elif isinstance(node, Record):
            assert len(node.fields) >= 1
            check_labels("record", [n for n, _ in node.fields])
        elif isinstance(node, Tuple):
            assert len(node.elems) >= 1
        elif node.kind in ("own", "borrow"):  # a host resource, or the guest's `gr`
            assert getattr(node, "resource", 0) in (0, 1, 2) and node.name in ("r0", "r1", "r2", "gr")


def max_list_len(t, v) -> int:
    if isinstance(t, List):
        return max([len(v)] + [max_list_len(t.elem, x) for x in v])
    if isinstance(t, (Record, Tuple)):
        return max([0] + [max_list_len(c, x) for c, x in zip(t.children(), v)])
    if isinstance(t, _VariantLike) and not isinstance(t, Enum):
        p = dict(t.cases())[v[0]]
        return max_list_len(p, v[1]) if p is not None else 0
    return 0


INPUTS = random_inputs(1500)


def bits(v):
    """A value with every float replaced by its bit pattern (so NaNs compare exactly)."""
    import struct
    if type(v) is float:
        return ("float", struct.pack("<d", v))
    if type(v) in (list, tuple):
        return (type(v).__name__, tuple(bits(x) for x in v))
    if type(v) is frozenset:
        return ("flags", tuple(sorted(v)))
    return (type(v).__name__, v)


def test_decode_is_deterministic():
    for data in INPUTS[:600]:
        a, b = decode(data), decode(bytes(data))
        assert a.sig == b.sig
        assert bits([c.args for c in a.calls]) == bits([c.args for c in b.calls])
        assert bits([c.ret for c in a.calls]) == bits([c.ret for c in b.calls])
        assert a.sig.key == b.sig.key
        assert component_text(a.sig) == component_text(b.sig)
        assert a.sig.wit() == b.sig.wit()


def test_decode_empty_input():
    case = decode(b"")
    assert isinstance(case, case_mod.TestCase)
    assert 1 <= len(case.calls) <= MAX_CALLS
    assert case.sig.encoding in ENCODINGS
    assert bits(case.calls[0].args) == bits(decode(b"").calls[0].args)
    assert "(component" in component_text(case.sig)


def test_decode_short_inputs(conforms):
    """Every 1-byte input and a sample of 2- and 3-byte ones decode to a valid case."""
    rng = random.Random(RNG_SEED + 3)
    inputs = [bytes([b]) for b in range(256)]
    inputs += [rng.randbytes(2) for _ in range(200)] + [rng.randbytes(3) for _ in range(200)]
    for data in inputs:
        case = decode(data)
        for t in case.sig.types():
            check_type(t)
        for call in case.calls:
            assert all(conforms(t, a) for (_, t), a in zip(case.sig.params, call.args))


def test_decode_respects_bounds(conforms):
    seen_kinds = set()
    for data in INPUTS:
        case = decode(data)
        sig = case.sig
        assert sig.encoding in ENCODINGS
        assert 1 <= len(case.calls) <= MAX_CALLS
        if sig.params:
            check_labels("params", [n for n, _ in sig.params])
        if sig.echo:
            assert len(sig.params) == 1 and sig.result == sig.params[0][1]
        for t in sig.types():
            check_type(t)
            seen_kinds |= {n.kind for n in walk(t)}
        for call in case.calls:
            assert len(call.args) == len(sig.params)
            for (_, t), a in zip(sig.params, call.args):
                assert conforms(t, a), (sig.wit(), a)
                assert max_list_len(t, a) <= 256
            if sig.echo:
                assert call.ret is call.args[0]
            elif sig.result is None:
                assert call.ret is None
            else:
                assert conforms(sig.result, call.ret)
                assert max_list_len(sig.result, call.ret) <= 256
    # the random inputs reach every kind (else the bounds above were checked on too little)
    assert {"list", "record", "tuple", "variant", "enum", "option", "result", "flags",
            "string", "char", "f32", "f64", "bool"} <= seen_kinds, seen_kinds


def test_structure_first_values_last():
    """Bytes past the signature only change values: the signature (and component) stays."""
    rng = random.Random(RNG_SEED + 4)
    same = 0
    for data in INPUTS[:300]:
        case = decode(data)
        n_sig = len(case.sig.key) - 1
        if n_sig >= len(data) or case.sig.key[:1] == b"\1":
            continue
        data2 = data[:n_sig] + bytes(rng.randrange(256) for _ in range(len(data) - n_sig))
        case2 = decode(data2)
        assert case2.sig == case.sig
        assert component_text(case2.sig) == component_text(case.sig)
        same += 1
    assert same > 100


def test_signature_key_is_the_structural_prefix():
    for data in INPUTS[:300]:
        sig = decode(data).sig
        exhausted, prefix = sig.key[:1], sig.key[1:]
        assert exhausted in (b"\0", b"\1")
        assert data.startswith(prefix)


def test_labels_helpers():
    for style in range(len(LABEL_STYLES) * 2):
        names = [label(i, style) for i in range(300)]
        check_labels(f"style {style}", names)
    u = Unstructured(b"\x02")
    assert labels(u, 3) == tuple(label(i, 2) for i in range(3))


def test_typegen_depth_bound_is_reached_but_not_exceeded(max_depth_input):
    # bytes [1, 0] repeated: ratio(1,3) is false, then COMPOUND_KINDS[0] == "list"
    t = TypeGen(Unstructured(bytes([1, 0]) * 500), fuel=10_000).gen()
    assert t.depth == MAX_DEPTH and t.depth < 100
    assert isinstance(t, List)
    # through the decoder too: a few structural bytes, then the chain
    assert decode(max_depth_input).sig.params[0][1].depth == MAX_DEPTH


def test_typegen_fuel_bounds_size():
    rng = random.Random(RNG_SEED + 5)
    for _ in range(300):
        tg = TypeGen(Unstructured(rng.randbytes(4000)), fuel=200)
        t = tg.gen()
        check_type(t)
        # each node costs at least one unit of fuel (flags/enum/variant labels cost 1/8..1/4)
        nodes = sum(1 for n in walk(t) if not isinstance(n, Prim))
        assert nodes <= 200 + 1


def test_typegen_with_no_fuel_or_bytes_gives_primitives():
    assert isinstance(TypeGen(Unstructured(b"\x01\x00" * 10), fuel=0).gen(), Prim)
    assert isinstance(TypeGen(Unstructured(b""), fuel=100).gen(), Prim)


@pytest.mark.parametrize("n", [1, 8, 9, 16, 17, 32])
def test_flag_count_edges_reachable(n):
    """Some input decodes to flags with exactly n labels (the generator is biased to edges)."""
    rng = random.Random(RNG_SEED + n)
    for _ in range(20000):
        t = TypeGen(Unstructured(rng.randbytes(24)), fuel=200).gen()
        if any(isinstance(x, Flags) and len(x.labels) == n for x in walk(t)):
            return
    pytest.fail(f"no flags with {n} labels in 20000 draws")


@pytest.mark.parametrize("n", [1, 2, 255, 256, 257])
def test_case_count_edges_reachable(n):
    rng = random.Random(RNG_SEED + 100 + n)
    for _ in range(20000):
        t = TypeGen(Unstructured(rng.randbytes(64)), fuel=200).gen()
        if any(isinstance(x, (Variant, Enum)) and len(x.cases()) == n for x in walk(t)):
            return
    pytest.fail(f"no variant/enum with {n} cases in 20000 draws")


def test_result_types_are_well_formed():
    for data in INPUTS[:500]:
        for t in decode(data).sig.types():
            for node in walk(t):
                if isinstance(node, Result):
                    assert [n for n, _ in node.cases()] == ["ok", "err"]


def test_value_draw_table_follows_the_type_classes():
    # `ValueGen.gen`'s per-class table: every model class maps to its own draw (first match of
    # the ordered tests: an enum is drawn as an enum, not as a variant); unknown ones raise
    from dataclasses import dataclass

    from itfuzz.generators import valuegen as vg
    from itfuzz.model import types as ty
    from itfuzz.model.resources import GuestHandle, Handle
    want = {ty.Prim: vg.ValueGen._prim, ty.List: vg.ValueGen._list,
            ty.Map: vg.ValueGen.map_entries, ty.Record: vg.ValueGen._fields,
            ty.Tuple: vg.ValueGen._fields, ty.Enum: vg.ValueGen._enum,
            ty.Variant: vg.ValueGen._variant, ty.Option: vg.ValueGen._variant,
            ty.Result: vg.ValueGen._variant, ty.Flags: vg.ValueGen._flags,
            Handle: vg.ValueGen._resource, GuestHandle: vg.ValueGen._resource}
    for cls, draw in want.items():
        assert vg._draw_of(cls) is draw, cls

    @dataclass(frozen=True)
    class Odd(ty.Type):
        kind = "odd"
    with pytest.raises(TypeError):
        vg.ValueGen(Unstructured(b"\1\2")).gen(Odd())
    assert vg._DRAWS[Odd] is vg._unknown
