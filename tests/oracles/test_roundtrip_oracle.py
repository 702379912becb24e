"""The dynamic round-trip oracle: generated cases on Wasmtime, caching, discards, no leaks."""
from __future__ import annotations

import collections
import gc
import random
import time
import weakref
from dataclasses import replace

import pytest
from faults import plant_component_text

import itfuzz.oracles.roundtrip as rt
from itfuzz import targets
from itfuzz.findings import Discard, Finding, normalize_error
from itfuzz.generators.components import component_text, for_config
from itfuzz.generators.signatures import decode_roundtrip as decode
from itfuzz.known_findings import known
from itfuzz.model.case import Call, Signature
from itfuzz.model.case import TestCase as Case
from itfuzz.model.types import PRIMS, Enum, List, Option, Tuple
from itfuzz.oracles.discard import is_nondeterministic
from itfuzz.oracles.roundtrip import RoundTripOracle

u8, u32, string = PRIMS["u8"], PRIMS["u32"], PRIMS["string"]


def echo(t, encoding="utf8"):
    return Signature((("x", t),), t, encoding, echo=True)


def enum_echo(n):
    t = Enum(tuple(f"e{j}" for j in range(n)))
    return echo(t)


@pytest.mark.slow
def test_generated_cases_round_trip_with_only_known_findings():
    target = targets.get("component_roundtrip")
    rng = random.Random(20261121)
    statuses = collections.Counter()
    unknown = []
    features = collections.Counter()
    n = 2000
    start, cpu = time.monotonic(), time.process_time()
    for _ in range(n):
        data = rng.randbytes(rng.choice((0, 1, 3, 8, 16, 32, 64, 128, 256, 512, 1024)))
        case = target.decode(data)
        try:
            statuses[target.execute(data).status] += 1
        except Finding as f:
            if known(f.signature):
                statuses[f"known {known(f.signature).id}"] += 1
            else:
                statuses["UNKNOWN"] += 1
                unknown.append((data.hex(), f.signature, f.message[:300]))
        features["spills"] += case.sig.spills_params
        features["retptr"] += case.sig.uses_retptr
        features["multi-call"] += len(case.calls) > 1
    elapsed, cpu = time.monotonic() - start, time.process_time() - cpu
    stats = target.oracle.stats
    msg = (f"{n} inputs in {elapsed:.1f}s ({cpu:.1f}s CPU): {dict(statuses)}; oracle {stats}; "
           f"features {dict(features)}; unknown findings: {unknown[:5]}")
    assert not unknown, msg
    assert statuses["ok"] >= 0.95 * n, msg
    assert stats["inputs"] == n and stats["calls"] >= n, msg
    assert stats["compiles"] >= 500, msg  # many distinct components, not one cached shape
    assert features["spills"] >= 50 and features["retptr"] >= 300, msg


def test_cache_hits_by_text_and_by_key():
    o = RoundTripOracle(cache_size=8)
    sig = echo(List(string))
    for _ in range(3):
        o.run(Case(sig, (Call((["a"],), ["a"]),)))
    assert o.stats["compiles"] == 1 and o.stats["inputs"] == 3 and o.stats["calls"] == 3
    # two different inputs decoding to the same signature share the compiled component
    rng = random.Random(11)
    while True:  # an input whose signature ends well before its values
        data = rng.randbytes(64)
        case = decode(data)
        if case.sig.key[:1] == b"\0" and len(case.sig.key) < 40 and case.config is not None:
            break
    o.run(case)
    compiles = o.stats["compiles"]
    prefix = data[:len(case.sig.key) - 1 + 10]  # signature, engine configuration (≤ 9), lane
    case2 = decode(prefix + bytes(255 - b for b in data[len(prefix):]))
    assert case2.sig == case.sig and case2.sig.key == case.sig.key
    assert case2.config == case.config
    o.run(case2)
    assert o.stats["compiles"] == compiles
    assert o.by_key[(case.config, case.sig.key)] == entry_key(case)


def test_component_texts_are_cached_by_signature_bytes(monkeypatch):
    """`RoundTripOracle.text` gives what `component_text` gives, for each decoded signature,
    and a configuration edit (same signature bytes) reuses the text."""
    o = RoundTripOracle(cache_size=16)
    rng = random.Random(12)
    cases = [decode(rng.randbytes(rng.choice((16, 48, 200)))) for _ in range(60)]
    for case in cases + cases[::-1]:
        assert o.text(case.sig) == component_text(case.sig)
    made = []
    monkeypatch.setattr(rt, "component_text", lambda sig: made.append(sig) or "")
    sig = cases[0].sig  # the one used last
    o.text(sig)
    assert made == []
    assert o.text(replace(sig, key=b"")) == "" and len(made) == 1  # no input bytes: not cached


def entry_key(case):
    """The oracle's cache key of a case's component: its text, per engine configuration."""
    wat = for_config(component_text(case.sig), case.config)
    return wat if case.config is None else (case.config, wat)


def test_cache_is_lru_and_bounded():
    o = RoundTripOracle(cache_size=3)
    sigs = [enum_echo(n) for n in (1, 2, 3)]
    for s in sigs:
        o.run(Case(s, (Call(("e0",), "e0"),)))
    o.run(Case(sigs[0], (Call(("e0",), "e0"),)))  # refresh sig 0
    o.run(Case(enum_echo(4), (Call(("e0",), "e0"),)))  # evicts sig 1
    assert len(o.cache) == 3
    assert component_text(sigs[1]) not in o.cache
    assert component_text(sigs[0]) in o.cache
    o.run(Case(sigs[1], (Call(("e1",), "e1"),)))
    assert o.stats["compiles"] == 5


def _live_components_after(oracle, sigs_or_cases):
    refs = []
    for item in sigs_or_cases:
        case = item if isinstance(item, Case) else Case(item, (Call(("e0",), "e0"),))
        try:
            oracle.run(case)
        except Finding:
            pass
        refs.append(weakref.ref(oracle.cache[entry_key(case)].component))
    gc.collect()
    return [i for i, r in enumerate(refs) if r() is not None]


def test_evicted_components_are_garbage_collected():
    o = RoundTripOracle(cache_size=4)
    live = _live_components_after(o, [enum_echo(n) for n in range(1, 41)])
    assert live == [36, 37, 38, 39], f"live components: {live}"


def _distinct_decoded_cases(n, seed):
    rng = random.Random(seed)
    seen, out = set(), []
    while len(out) < n:
        case = decode(rng.randbytes(32))
        wat = component_text(case.sig)
        if wat not in seen:
            seen.add(wat)
            out.append(case)
    return out


def test_evicted_components_of_decoded_inputs_are_garbage_collected():
    o = RoundTripOracle(cache_size=4)
    cases = _distinct_decoded_cases(40, 3)
    live = _live_components_after(o, cases)
    assert len(live) <= 4, f"live components: {live}"


def test_fresh_store_per_input_keeps_results_independent():
    """Guest state (the bump heap) does not leak between inputs or calls."""
    o = RoundTripOracle()
    sig = echo(List(string), "latin1+utf16")
    big = ["x" * 20000] * 8
    for _ in range(3):
        o.run(Case(sig, (Call((big,), big), Call(([],), []), Call((["é"],), ["é"]))))


def test_multi_param_and_no_result_signatures():
    o = RoundTripOracle()
    sig = Signature((("a", u8), ("b", string), ("c", Option(u32))), None, "utf16")
    o.run(Case(sig, (Call((1, "s", ("some", 3)), None), Call((255, "", ("none", None)), None))))
    sig = Signature((), Tuple((u32, string)))
    o.run(Case(sig, (Call((), (7, "seven")),)))
    assert o.stats["calls"] == 3


def test_compile_failure_is_a_finding(monkeypatch):
    plant_component_text(monkeypatch, rt,
                         lambda wat, sig: "(component (import \"g\" (func))) (not valid")
    with pytest.raises(Finding) as e:
        RoundTripOracle().run(Case(echo(u8), (Call((1,), 1),)))
    assert e.value.check == "compile"
    assert "Wasmtime rejected" in e.value.message and e.value.wat.startswith("(component")


def test_instantiation_trap_is_a_finding(monkeypatch):
    plant_component_text(monkeypatch, rt, lambda wat, sig: wat.replace(
        '(func (export "f")', '(func $boom unreachable) (start $boom) (func (export "f")'))
    with pytest.raises(Finding) as e:
        RoundTripOracle().run(Case(echo(u8), (Call((1,), 1),)))
    assert e.value.check == "instantiate-error", e.value.signature


def test_nondeterministic_errors_are_discarded():
    def t(entry):
        def boom(v):
            raise RecursionError("maximum recursion depth exceeded")
        entry.params_in = [boom]
    o = RoundTripOracle(transform=t)
    with pytest.raises(Discard):
        o.run(Case(echo(u8), (Call((1,), 1),)))
    assert o.stats["discarded"] == 1


def test_target_counts_discards():
    target = targets.get("component_roundtrip")

    def t(entry):
        def boom(v):
            raise MemoryError()
        entry.params_in = [boom] * len(entry.params_in)
    target._oracle = RoundTripOracle(transform=t)
    data = next(d for d in (bytes([i]) * 8 for i in range(256)) if decode(d).sig.params)
    out = target.execute(data)
    assert out.status == "discarded" and target.counts["discarded"] == 1
    assert target.counts["ok"] == 0


@pytest.mark.parametrize("text,expected", [
    ("wasm trap: call stack exhausted", True), ("out of memory", True),
    ("RecursionError: x", True), ("integer overflow", False),
    ("value not valid for this variant", False),
])
def test_is_nondeterministic(text, expected):
    assert is_nondeterministic(ValueError(text)) is expected


def test_normalize_error_is_value_free():
    assert normalize_error("discriminant 7 out of range [0..3)") == \
        "discriminant N out of range [N..N)"
    assert normalize_error("bad 'abc' and \"x\" at 0xFF") == "bad S and S at N"


def test_finding_for_unknown_call_error_names_the_exception():
    def t(entry):
        def boom(v):
            raise OverflowError("int too big")
        entry.params_in = [boom]
    with pytest.raises(Finding) as e:
        RoundTripOracle(transform=t).run(Case(echo(u32), (Call((1,), 1),)))
    assert e.value.signature == "call-error|OverflowError:int too big"
    assert "x = 1" in e.value.values


def test_released_oracles_free_their_components_and_engines():
    """`targets.release_oracles` (run by the suite after each module) drops what every oracle
    made so far holds: its compiled components and configured engines are then collected."""
    from itfuzz import targets
    from itfuzz.model.engine_config import EngineConfig
    target = targets.get("component_roundtrip")
    o = target.oracle
    cases = [replace(c, config=EngineConfig(strategy="pulley")) for c in
             _distinct_decoded_cases(3, 5)]
    live = _live_components_after(o, cases)
    engine = weakref.ref(o.engines.get(EngineConfig(strategy="pulley")))
    assert live and engine() is not None
    targets.release_oracles()
    gc.collect()
    assert len(o.cache) == 0 and len(o.engines.cache) == 0
    assert engine() is None  # nothing else kept it
