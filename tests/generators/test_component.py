"""Generated components: every type kind and ABI boundary validates (wasm-tools), compiles
(Wasmtime) and round-trips values through the dynamic oracle."""
from __future__ import annotations

import dataclasses
import random
import re

import pytest

from itfuzz.engines.wasmtime_values import ambiguities
from itfuzz.findings import Finding
from itfuzz.generators.components import RETBUF, component_text, core_params, core_results, heap_base
from itfuzz.generators.signatures import decode_roundtrip as decode
from itfuzz.generators.typegen import MAX_DEPTH
from itfuzz.generators.unstructured import Unstructured
from itfuzz.generators.valuegen import ValueGen
from itfuzz.known_findings import known
from itfuzz.model.case import ENCODINGS, Call, Signature
from itfuzz.model.case import TestCase as Case
from itfuzz.model.types import PRIMS, Enum, Flags, List, Option, Record, Result, Tuple, Variant
from itfuzz.oracles.roundtrip import RoundTripOracle

P = PRIMS
u8, u16, u32, u64, s8, s16, s32, s64 = (P[n] for n in ("u8", "u16", "u32", "u64", "s8", "s16",
                                                       "s32", "s64"))
f32, f64, string, bool_, char = (P[n] for n in ("f32", "f64", "string", "bool", "char"))


def rec(**fields):
    return Record(tuple(fields.items()))


def echo(t, encoding="utf8"):
    return Signature((("x", t),), t, encoding, echo=True)


def variant_n(n, payload=None):
    """n cases; every 7th (and the last) carries `payload` when given."""
    return Variant(tuple((f"c{i}", payload if payload is not None and (i % 7 == 0 or i == n - 1)
                          else None) for i in range(n)))


def enum_n(n):
    return Enum(tuple(f"e-{i}" for i in range(n)))


def flags_n(n):
    return Flags(tuple(f"f{i}" for i in range(n)))


def deep_list(depth):
    t = u8
    for _ in range(depth - 1):
        t = List(t)
    return t


def params(*types):
    return tuple((f"p{i}", t) for i, t in enumerate(types))


SIGS: list[tuple[str, Signature]] = []
SIGS += [(f"prim-{n}", echo(t)) for n, t in P.items()]
SIGS += [(f"string-{e}", echo(string, e)) for e in ENCODINGS]
SIGS += [(f"list-string-{e}", echo(List(string), e)) for e in ENCODINGS]
SIGS += [(f"record-string-{e}", echo(rec(a=u8, s=string, c=List(char)), e)) for e in ENCODINGS]
SIGS += [
    ("list-u8", echo(List(u8))),
    ("list-f64", echo(List(f64))),
    ("list-list-u16", echo(List(List(u16)))),
    ("list-record", echo(List(rec(a=u8, b=u64)))),
    ("record-mixed-align", echo(rec(a=u8, b=u64, c=u16, d=f32, e=s8, f=char))),
    ("record-nested", echo(rec(a=rec(x=u8, y=f64), b=Tuple((s16, string)), c=bool_))),
    ("tuple", echo(Tuple((u8, f64, string, s8)))),
    ("tuple-1", echo(Tuple((u64,)))),
    ("variant", echo(Variant((("a", u8), ("b", None), ("c", string))))),
    ("variant-join", echo(Variant((("a", f32), ("b", u64), ("c", Tuple((f64, f32))),
                                    ("d", None))))),
    ("enum", echo(enum_n(3))),
    ("option-u8", echo(Option(u8))),
    ("option-f64", echo(Option(f64))),
    ("result-none", echo(Result(None, None))),
    ("result-ok", echo(Result(u32, None))),
    ("result-err", echo(Result(None, string))),
    ("result-u32-f32", echo(Result(u32, f32))),
    ("result-f32-f64", echo(Result(f32, f64))),
    ("option-option-u8", echo(Option(Option(u8)))),
    ("option-option-option-string", echo(Option(Option(Option(string))))),
    ("result-of-results", echo(Result(Result(u8, None), Result(None, f64)))),
    ("option-result-option", echo(Option(Result(Option(u16), Option(string))))),
    ("deep-97", echo(deep_list(97))),
    ("deep-97-named", echo(rec(a=deep_list(96)))),
    ("deep-option-result", echo(Option(Result(Option(Tuple((Option(Option(u8)), string))), None)))),
]
for n in (1, 2, 255, 256, 257):
    SIGS.append((f"variant-{n}", echo(variant_n(n, u64))))
    SIGS.append((f"variant-{n}-nopayload", echo(variant_n(n))))
    SIGS.append((f"enum-{n}", echo(enum_n(n))))
for n in (1, 8, 9, 16, 17, 32):
    SIGS.append((f"flags-{n}", echo(flags_n(n))))
# flat-count boundaries: 16 / 17 flat params, 0 / 1 / 2 flat results
for n_flat in (16, 17):
    for res_name, res in (("0", None), ("1", u32), ("2", string)):
        SIGS.append((f"params{n_flat}-results{res_name}",
                     Signature(params(*([u32] * n_flat)), res, "utf16")))
SIGS += [
    ("params16-strings", Signature(params(*([string] * 8)), Option(u8), "latin1+utf16")),
    ("params17-mixed", Signature(params(u8, string, f64, rec(a=u64, b=s8), *([s32] * 11)),
                                 List(string))),
    ("params16-i64", Signature(params(*([s64] * 15), f32), f64)),
    ("params0-result0", Signature((), None)),
    ("params0-result1", Signature((), u64)),
    ("params0-result2", Signature((), Tuple((f32, u64)))),
    ("params1-result0", Signature(params(string), None, "latin1+utf16")),
    ("result-big", Signature(params(u8), rec(a=f64, b=f64, c=f64, d=f64, e=string))),
]


def test_boundary_table_is_complete():
    flat_p = {len(s.flat_params) for _, s in SIGS}
    flat_r = {len(s.flat_results) for _, s in SIGS}
    assert {0, 16, 17} <= flat_p and {0, 1, 2} <= flat_r
    assert {s.encoding for _, s in SIGS} == set(ENCODINGS)
    names = [n for n, _ in SIGS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("sig", [s for _, s in SIGS], ids=[n for n, _ in SIGS])
def test_boundary_component_validates_and_compiles(sig, validate_wat, compile_wat):
    wat = component_text(sig)
    validate_wat(wat)
    compile_wat(wat)


@pytest.fixture(scope="module")
def oracle():
    return RoundTripOracle(cache_size=512)


@pytest.mark.parametrize("sig", [s for _, s in SIGS], ids=[n for n, _ in SIGS])
def test_boundary_component_round_trips(sig, oracle):
    assert not ambiguities(sig.types()), "table entries must avoid known wasmtime-py bugs"
    rng = random.Random(hash(sig.wit()) & 0xFFFF)
    calls = []
    for _ in range(6):
        vg = ValueGen(Unstructured(rng.randbytes(rng.choice((0, 16, 200, 2000)))))
        args = tuple(vg.gen(t) for _, t in sig.params)
        ret = args[0] if sig.echo else vg.gen(sig.result) if sig.result is not None else None
        calls.append(Call(args, ret))
    oracle.run(Case(sig, tuple(calls)))
    assert oracle.stats["calls"] > 0


EDGE_STRINGS = ["", "a", "\0", "\x7f\x80\xff", "é" * 300, "\u0100", "\ud7ff\ue000\uffff",
                "\U00010000\U0010ffff", "mixed é€😀 text", "x" * 5000]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_edge_strings_round_trip_in_each_encoding(encoding, oracle):
    sig = echo(string, encoding)
    oracle.run(Case(sig, tuple(Call((s,), s) for s in EDGE_STRINGS)))
    sig = Signature(params(string, List(string)), Tuple((string, char)), encoding)
    calls = tuple(Call((s, [s, s[::-1]]), (s[::-1], "\U0010ffff")) for s in EDGE_STRINGS)
    oracle.run(Case(sig, calls))


def test_float_edges_round_trip(oracle):
    nan = float("nan")
    values = [0.0, -0.0, float("inf"), float("-inf"), nan, 5e-324, 1.7976931348623157e308]
    sig = Signature(params(f64, f32, Option(f64), Variant((("a", f32), ("b", u64)))),
                    rec(a=f32, b=f64))
    calls = tuple(Call((v, v if v != 5e-324 and abs(v) < 3e38 or v != v else 1.0,
                        ("some", v), ("a", -0.0)), (-0.0, v)) for v in values)
    oracle.run(Case(sig, calls))


def main_text(sig):
    wat = component_text(sig)
    return wat[wat.index("(core module $Main"):wat.index("(core instance $main")]


def test_core_shape_follows_flat_counts():
    small = Signature(params(u32, f64), u64)
    assert core_params(small) == ("i32", "f64") and core_results(small) == ("i64",)
    wat = main_text(small)
    assert '(func (export "f") (param i32 f64) (result i64)' in wat
    assert f"(i32.const {RETBUF})" not in wat
    assert "(call $g)" in wat
    two = main_text(echo(string))
    assert '(import "host" "g" (func $g (param i32 i32 i32)))' in two
    assert f"(local.get 0) (local.get 1) (i32.const {RETBUF}) (call $g) (i32.const {RETBUF})" in two
    spill = Signature(params(*([u32] * 17)), string)
    assert core_params(spill) == ("i32",) and core_results(spill) == ("i32",)
    wat = component_text(spill)
    assert '(import "host" "g" (func $g (param i32 i32)))' in wat
    assert '(func (export "f") (param i32) (result i32)' in wat
    assert '(func (export "reset") (param i32)' in wat
    sixteen = Signature(params(*([u32] * 16)), None)
    assert core_params(sixteen) == ("i32",) * 16 and core_results(sixteen) == ()
    assert '(func (export "reset")\n' in component_text(sixteen)


def test_component_text_uses_nested_core_references_and_eq_imports():
    sig = echo(rec(a=variant_n(3, string), b=flags_n(9)), "utf16")
    wat = component_text(sig)
    assert '(memory (core memory $libc "memory"))' in wat
    assert '(realloc (core func $libc "realloc"))' in wat
    assert wat.count("string-encoding=utf16") == 2  # lower and lift agree
    assert re.search(r'\(import "t\d+" \(type \$t\d+ \(eq \$T\d+\)\)\)', wat)
    # inner named types are declared before the types that use them
    assert wat.index("(type $T0 (variant") < wat.index("(type $T2 (record")



def test_max_depth_type_from_decoder_round_trips(roundtrip_target, max_depth_input):
    data = max_depth_input
    case = decode(data)
    assert case.sig.params[0][1].depth == MAX_DEPTH
    assert roundtrip_target.execute(data).status == "ok"


def test_heap_base_leaves_room_for_the_return_area():
    big = Signature((), Tuple(tuple([u64] * 200)))
    assert big.uses_retptr and big.result.size == 1600
    assert heap_base(big) >= RETBUF + 1600 and heap_base(big) % 16 == 0
    assert heap_base(echo(u8)) == 1024


def test_large_return_area_round_trips(oracle, validate_wat):
    sig = Signature((), Tuple(tuple([u64] * 200)))
    validate_wat(component_text(sig))
    oracle.run(Case(sig, (Call((), tuple(range(200))),)))


def test_random_decoded_components_validate(validate_wat):
    """A sample of decoded signatures passes wasm-tools (the oracle compiles many more)."""
    rng = random.Random(0xC0)
    seen = set()
    for _ in range(40):
        sig = decode(rng.randbytes(rng.choice((8, 32, 128, 512)))).sig
        wat = component_text(sig)
        if wat in seen:
            continue
        seen.add(wat)
        validate_wat(wat)
    assert len(seen) > 20


def test_boundary_round_trip_reports_only_known_findings_for_ambiguous_types(oracle):
    """Sanity of the table guard above: an ambiguous type does produce a known finding."""
    sig = echo(Result(u32, bool_))
    with pytest.raises(Finding) as e:
        oracle.run(Case(sig, (Call((("err", True),), ("err", True)),)))
    assert known(e.value.signature) is not None, e.value.signature


COMPOSED = "shape" in {f.name for f in dataclasses.fields(Signature)}


@pytest.mark.skipif(not COMPOSED, reason="this checkout has no composed component shape")
@pytest.mark.parametrize("caller", ENCODINGS)
@pytest.mark.parametrize("callee", ENCODINGS)
def test_composed_shape_transcodes_each_encoding_pair(caller, callee, validate_wat, compile_wat,
                                                       oracle):
    t = rec(s=string, l=List(string), c=char, o=Option(string))
    sig = Signature((("x", t),), t, caller, echo=True, shape="composed", callee_encoding=callee)
    wat = component_text(sig)
    assert f"string-encoding={caller}" in wat and f"string-encoding={callee}" in wat
    validate_wat(wat)
    compile_wat(wat)
    calls = tuple(Call((v,), v) for v in ((s, [s, "é€"], "\U0001f600", ("some", s[::-1]))
                                          for s in EDGE_STRINGS))
    oracle.run(Case(sig, calls))
