"""The round-trip oracles on configured engines: every strategy round-trips generated cases, a
component is cached per configuration (a planted cache shared across configurations is caught),
and findings name the configuration they were found on."""
from __future__ import annotations

import gc
import random
import weakref
from dataclasses import replace

import pytest

from itfuzz import targets
from itfuzz.findings import Discard, Finding
from itfuzz.generators.signatures import decode_roundtrip
from itfuzz.known_findings import known
from itfuzz.lru import LRU
from itfuzz.model.case import Call, Signature
from itfuzz.model.case import TestCase as Case
from itfuzz.model.engine_config import EngineConfig, GiB, MiB
from itfuzz.model.types import PRIMS
from itfuzz.oracles.roundtrip import RoundTripOracle

u32, string = PRIMS["u32"], PRIMS["string"]
CONFIGS = [
    EngineConfig("cranelift", "none", True, 64 * MiB, 0, False, True, True, True),
    EngineConfig("winch", None, True, 4 * GiB, 0, True, False, False, True),
    EngineConfig("winch", None, False, 0, 64 * 1024),
    EngineConfig("pulley", "speed", False, 64 * 1024, 0, False, True, True, False),
    EngineConfig("pulley", None, True),
]


def echo(t):
    return Signature((("x", t),), t, "utf8", echo=True)


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_generated_cases_round_trip_on_each_engine(config):
    oracle = RoundTripOracle()
    rng = random.Random(1414)
    ran = 0
    for _ in range(40):
        case = replace(decode_roundtrip(rng.randbytes(rng.choice((8, 32, 128, 512)))),
                       config=config)
        try:
            oracle.run(case)
            ran += 1
        except Discard:
            pass
        except Finding as f:
            assert known(f.signature, "component_roundtrip"), f.report(with_wat=False)
            assert f.config == config.text()
    assert ran >= 30
    assert oracle.engines.made == {config.strategy: 1}
    assert oracle.stats[f"engine:{config.strategy}"] == 40


def test_a_component_is_compiled_per_configuration():
    oracle = RoundTripOracle()
    sig = echo(string)
    calls = (Call(("héllo",), "héllo"),)
    for config in (None, CONFIGS[1], CONFIGS[3], CONFIGS[1]):
        oracle.run(Case(sig, calls, config))
    entries = list(oracle.cache.values())
    assert len(entries) == 3  # default, winch, pulley
    assert len({id(e.engine) for e in entries}) == 3
    assert {e.config for e in entries} == {None, CONFIGS[1], CONFIGS[3]}


class SharedCache(LRU):
    """Planted: a compiled-component cache that ignores the configuration part of its key."""

    def get_or_make(self, key, make):
        return super().get_or_make(key[-1] if isinstance(key, tuple) else key, make)


def test_a_cache_shared_across_configurations_is_caught():
    oracle = RoundTripOracle()
    oracle.cache = SharedCache(16)
    sig, calls = echo(u32), (Call((7,), 7),)
    oracle.run(Case(sig, calls, CONFIGS[2]))  # (both with 64 KiB pages: the same text)
    with pytest.raises(Finding) as e:
        oracle.run(Case(sig, calls, CONFIGS[3]))
    assert e.value.signature == "engine-mismatch|cache"
    assert e.value.config == CONFIGS[3].text()


def test_an_evicted_engine_takes_its_components_along():
    """Engines are a bounded LRU: evicting one drops the components compiled on it, so no more
    engines stay alive than the LRU holds; a later case of that configuration compiles again on
    a new engine of it (Wasmtime refuses a component on another engine)."""
    oracle = RoundTripOracle()
    oracle.engines.cache.size = 1
    a, b = (Case(echo(u32), (Call((7,), 7),), c) for c in (CONFIGS[1], CONFIGS[3]))
    c = Case(echo(string), (Call(("x",), "x"),), CONFIGS[1])
    oracle.run(a)
    first = weakref.ref(oracle.engines.get(CONFIGS[1]))
    for case in (b, c, a):  # b evicts a's engine, c makes a new one, a compiles again on it
        oracle.run(case)
    assert oracle.engines.made == {"winch": 2, "pulley": 1}
    assert oracle.stats["compiles"] == 4
    assert {e.config for e in oracle.cache.values()} == {CONFIGS[1]}
    assert all(e.engine is oracle.engines.get(CONFIGS[1]) for e in oracle.cache.values())
    gc.collect()
    assert first() is None, "the evicted engine is still alive"


def test_a_cache_hit_keeps_its_engine_recent():
    """The engine LRU evicts the least recently *used* engine: a case that hits a compiled
    component of configuration A refreshes A, so a new configuration evicts B, not A (else
    the hottest configuration's components are dropped and compiled again)."""
    oracle = RoundTripOracle()
    oracle.engines.cache.size = 2
    a, b, c = (Case(echo(u32), (Call((7,), 7),), cfg) for cfg in CONFIGS[1:4])
    for case in (a, b, a):  # the second `a` is a hit: no compile
        oracle.run(case)
    assert oracle.stats["compiles"] == 2
    oracle.run(c)
    assert list(oracle.engines.cache) == [CONFIGS[1], CONFIGS[3]]
    oracle.run(a)
    assert oracle.stats["compiles"] == 3, "a's component was dropped with its engine"


def test_findings_name_the_configuration():
    def corrupt(entry):  # planted: the host's result converter adds one
        conv = entry.result_in
        entry.result_in = lambda v: conv(v + 1)
    oracle = RoundTripOracle(transform=corrupt)
    with pytest.raises(Finding) as e:
        oracle.run(Case(echo(u32), (Call((7,), 7),), CONFIGS[1]))
    f = e.value
    assert f.check == "result-mismatch" and f.config == CONFIGS[1].text()
    assert f.engine.startswith("wasmtime ") and "winch" not in f.engine  # triage: by release
    assert f"engine configuration: {CONFIGS[1].text()}" in f.report()
    with pytest.raises(Finding) as e:  # the default engine: no configuration line
        oracle.run(Case(echo(u32), (Call((7,), 7),)))
    assert e.value.config == "" and "engine configuration" not in e.value.report()


def test_misuse_cases_run_on_their_configuration():
    target = targets.get("host_api_misuse")
    rng = random.Random(3)
    strategies = set()
    for _ in range(60):
        data = rng.randbytes(64)
        case = target.decode(data)
        try:
            target.execute(data, skip_known=True)
        except Finding:  # (wasmtime-py's own misuse findings are not this test's subject)
            pass
        if case.config is not None:
            strategies.add(case.config.strategy)
    assert strategies == {"cranelift", "winch", "pulley"}
    assert set(target.oracle.engines.made) == strategies


@pytest.mark.parametrize("strategy", ["cranelift", "winch", "pulley"])
def test_one_byte_pages_round_trip_and_grow(strategy):
    """Custom page sizes: the component runs with one-byte pages, and strings far larger than
    the initial memory make `realloc` grow it (by bytes) through lowering and the adapter."""
    from itfuzz.model.types import List
    oracle = RoundTripOracle()
    config = EngineConfig(strategy, custom_page_sizes=True)
    big = "é" * 40000
    for sig in (echo(string), replace(echo(List(string)), shape="composed",
                                      callee_encoding="utf16")):
        value = big if sig.result == string else [big, "x", big]
        oracle.run(Case(sig, (Call((value,), value),), config))
    assert all("(pagesize 1)" in e.wat for e in oracle.cache.values())
