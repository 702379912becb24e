"""map<K, V> through the round-trip oracle: the caller and callee exchange the map through
Wasmtime's fused adapter and the host must see exactly the entries sent, in order, duplicates
kept (CanonicalABI.md despecializes a map to list<tuple<K, V>>). Dropped, reordered or merged
entries, on the host side or in the guest, are reported."""
from __future__ import annotations

import collections
import itertools
import random
import time

import pytest
import wasmtime
from faults import MAP_FAULTS, map_entry_fault, plant_component_text

import itfuzz.oracles.roundtrip as rt
from itfuzz import targets
from itfuzz.engines.compat import enable_maps, set_target
from itfuzz.findings import Finding
from itfuzz.generators.signatures import decode_roundtrip
from itfuzz.known_findings import known
from itfuzz.model.case import ENCODINGS, Call, Signature
from itfuzz.model.case import TestCase as Case
from itfuzz.model.types import (
    MAP_KEY_KINDS,
    PRIMS,
    List,
    Map,
    Option,
    Record,
    Result,
    Tuple,
    Variant,
)
from itfuzz.oracles import reflection
from itfuzz.oracles.roundtrip import RoundTripOracle

u8, u32, string, char = (PRIMS[n] for n in ("u8", "u32", "string", "char"))
KEYS = {"bool": [True, False, True], "s8": [-128, 127, -128], "u8": [0, 255, 0],
        "s16": [-32768, 1, -32768], "u16": [65535, 0, 65535], "s32": [-(1 << 31), 7, -(1 << 31)],
        "u32": [(1 << 32) - 1, 0, (1 << 32) - 1], "s64": [-(1 << 63), 0, -(1 << 63)],
        "u64": [(1 << 64) - 1, 1, (1 << 64) - 1], "char": ["\U0010ffff", "a", "\U0010ffff"],
        "string": ["caf\xe9", "\U0001f600", "caf\xe9"]}


def composed_echo(t, caller="utf8", callee="utf8") -> Signature:
    return Signature((("x", t),), t, caller, echo=True, shape="composed",
                     callee_encoding=callee, count_post_return=True)


def run_echo(oracle, sig, *values) -> None:
    oracle.run(Case(sig, tuple(Call((v,), v) for v in values)))


@pytest.fixture(scope="module")
def oracle():
    return RoundTripOracle(cache_size=64)


def test_every_key_kind_with_duplicates_round_trips(oracle):
    assert set(KEYS) == set(MAP_KEY_KINDS)
    for kind, keys in KEYS.items():
        sig = composed_echo(Map(PRIMS[kind], string))
        run_echo(oracle, sig, [(k, f"v{i}") for i, k in enumerate(keys)], [])


def test_string_keys_across_every_encoding_pair(oracle):
    t = Map(string, Map(char, u8))
    value = [("\xff\xe9", [("\u20ac", 1), ("\u20ac", 2)]), ("", []), ("\U0001f600", [("a", 3)]),
             ("\xff\xe9", [])]
    for caller, callee in itertools.product(ENCODINGS, ENCODINGS):
        run_echo(oracle, composed_echo(t, caller, callee), value)


def test_maps_nested_both_ways(oracle):
    inner = Map(u8, Option(List(string)))
    rec = Record((("m", inner), ("n", Tuple((u32, Map(string, Result(u8, None)))))))
    var = Variant((("a", Map(char, rec)), ("b", None)))
    t = List(Map(u32, var))
    inner_v = [(1, ("some", ["p", "q"])), (1, ("none", None))]
    rec_v = (inner_v, (0, [("k", ("ok", 3)), ("k", ("err", None))]))
    var_v = ("a", [("x", rec_v), ("x", ([], (1, [])))])
    value = [[(7, var_v), (7, ("b", None))], []]
    run_echo(oracle, composed_echo(t, "utf16", "latin1+utf16"), value)


def test_large_map(oracle):
    sig = composed_echo(Map(u32, u8))
    run_echo(oracle, sig, [(i % 300, i & 0xFF) for i in range(5000)])


@pytest.mark.parametrize("fault", sorted(MAP_FAULTS))
def test_host_side_map_faults_are_reported(fault):
    sig = composed_echo(Map(u8, string))
    value = [(1, "a"), (2, "b"), (1, "c")]
    run_echo(RoundTripOracle(cache_size=4), sig, value)  # clean without the fault
    with pytest.raises(Finding) as e:
        run_echo(RoundTripOracle(cache_size=4, transform=map_entry_fault(fault)), sig, value)
    assert e.value.check == "host-arg-mismatch", e.value.signature
    assert "map:length" in e.value.signature or "u8:value" in e.value.signature


def _callee_drops_last_entry(wat: str, sig) -> str:
    """The callee's forwarder (the first `$Main`) passes one entry fewer to the host's `g`."""
    head, sep, rest = wat.partition("(core module $Main")
    body = rest.replace("(local.get 0) (local.get 1)",
                        "(local.get 0) (i32.sub (local.get 1) (i32.const 1))", 1)
    return head + sep + body


def test_guest_side_dropped_entry_is_reported(monkeypatch):
    sig = composed_echo(Map(string, u32))
    value = [("a", 1), ("a", 2)]
    run_echo(RoundTripOracle(cache_size=4), sig, value)
    plant_component_text(monkeypatch, rt, _callee_drops_last_entry)
    with pytest.raises(Finding) as e:
        run_echo(RoundTripOracle(cache_size=4), sig, value)
    assert e.value.signature == "host-arg-mismatch|map:length:list->list"


class MapType:
    """What a wasmtime-py with maps would reflect (no release has it yet, K22)."""

    def __init__(self, key, value) -> None:
        self.key, self.value = key, value


def test_reflection_checks_maps_where_they_can_be_reflected():
    from wasmtime.component import _types as wt
    t = Map(string, u8)
    assert reflection.type_mismatch(t, MapType(wt.String(), wt.U8()), "x") is None
    m = reflection.type_mismatch(t, MapType(wt.String(), wt.U16()), "x")
    assert m.detail == "kind:u8->u16" and m.path == "x<value>"
    m = reflection.type_mismatch(t, MapType(wt.U8(), wt.U8()), "x")
    assert m.path == "x<key>"


def _map_engine(kind: str) -> wasmtime.Engine:
    cfg = wasmtime.Config()
    enable_maps(cfg)
    if kind == "winch":  # the C API's strategy code (wasmtime-py's setter knows no Winch)
        from wasmtime import _ffi as ffi
        ffi.wasmtime_config_strategy_set(cfg.ptr(), 2)
    elif kind == "pulley":
        set_target(cfg, "pulley64")
    return wasmtime.Engine(cfg)


def map_inputs(n: int, seed: int):
    """`n` round-trip inputs whose composed signature holds a map."""
    rng = random.Random(seed)
    while n:
        data = rng.randbytes(rng.choice((16, 32, 64, 128, 256, 512, 1024)))
        sig = decode_roundtrip(data).sig
        if sig.has_maps and sig.shape == "composed":
            n -= 1
            yield data


@pytest.mark.parametrize("kind", ["cranelift", "winch", "pulley"])
def test_generated_map_cases_round_trip_on_every_engine(kind):
    oracle = RoundTripOracle(cache_size=16, engine=_map_engine(kind))
    for data in map_inputs(40, seed=9):
        try:
            oracle.run(decode_roundtrip(data))
        except Finding as f:
            assert known(f.signature), f.report()[:3000]


@pytest.mark.slow
def test_2000_generated_map_cases_round_trip_with_only_known_findings():
    target = targets.get("component_roundtrip")
    statuses: collections.Counter = collections.Counter()
    unknown = []
    n = 2000
    start = time.monotonic()
    for data in map_inputs(n, seed=20261205):
        try:
            statuses[target.execute(data).status] += 1
        except Finding as f:
            k = known(f.signature)
            statuses[f"known {k.id}" if k else "UNKNOWN"] += 1
            if not k:
                unknown.append((data.hex(), f.signature, f.message[:300]))
    elapsed = time.monotonic() - start
    msg = (f"{n} map inputs in {elapsed:.1f}s ({n / elapsed:.0f}/s): {dict(statuses)}; "
           f"oracle {target.oracle.stats}; unknown: {unknown[:3]}")
    print(msg)
    assert not unknown, msg
    assert statuses["ok"] >= 0.95 * n, msg
