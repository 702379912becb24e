"""Semantic coverage features (feedback/semantic.py): deterministic, value-free, bounded, switchable."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from itfuzz import targets
from itfuzz.feedback import semantic
from itfuzz.generators.signatures import decode_roundtrip as decode
from itfuzz.model.case import Call, Signature
from itfuzz.model.case import TestCase as Case
from itfuzz.model.types import PRIMS, Flags, List, Option, Record, Variant

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus" / "component_roundtrip"


def corpus(name: str = "component_roundtrip") -> list[bytes]:
    return [p.read_bytes() for p in sorted((ROOT / "corpus" / name).iterdir())]


def fake_reporter(block: int = 64):
    hits: list[int] = []
    it = iter(range(100, 100 + block))
    return semantic.Reporter(lambda: next(it), hits.append, block=block), hits


def test_same_input_same_features():
    for data in corpus():
        a = semantic.roundtrip_features(decode(data), "ok")
        semantic._by_key.clear()  # recompute, not the cache
        b = semantic.roundtrip_features(decode(data), "ok")
        assert a == b and a


def test_counter_indices_stable_across_processes():
    """crc32, not Python's salted hash: other hash seeds give the same counters."""
    code = ("import json, sys; from pathlib import Path; from itfuzz.feedback import semantic; "
            "from itfuzz.generators.signatures import decode_roundtrip as decode; it = iter(range(10**6)); "
            "r = semantic.Reporter(lambda: next(it), lambda i: None); "
            f"ds = [p.read_bytes() for p in sorted(Path({str(CORPUS)!r}).iterdir())][:12]; "
            "print(json.dumps(sorted({f: r.counter(f) for d in ds "
            "for f in semantic.roundtrip_features(decode(d), 'ok')}.items())))")
    outs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT / "src"))
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=True)
        outs.append(json.loads(p.stdout))
    assert outs[0] == outs[1] and len(outs[0]) > 50


def test_type_and_value_features():
    v = Variant((("a", PRIMS["string"]), ("b", None)))
    t = List(v)
    sig = Signature((("x", t), ("y", PRIMS["f64"]), ("z", PRIMS["u64"]),
                     ("w", Option(Option(PRIMS["char"]))), ("o", Option(v))), None, "utf16")
    case = Case(sig, (Call(([("a", "\U0001f600"), ("b", None)], float("nan"), (1 << 64) - 1,
                            ("some", ("none", None)), ("some", ("a", ""))), None),
                      Call(([], -0.0, 0, ("none", None), ("none", None)), None)))
    f = semantic.roundtrip_features(case, "ok")
    for want in ("path:list>variant>string", "edge:string:astral:utf16", "edge:f64:nan",
                 "edge:f64:-0", "edge:u64:max", "edge:u64:min", "edge:list:empty", "edge:list:2",
                 "edge:option>option:none", "edge:variant:last:empty", "encoding:utf16",
                 "edge:option>variant:first",
                 "outcome:ok", "outcome:ok:single", "calls:2", "spill:False"):
        assert want in f, want
    assert not any("1f600" in x or "nan" == x for x in f)


def test_count_buckets_and_flat_counts():
    flags = Flags(tuple(f"f{i}" for i in range(17)))
    rec = Record(tuple((f"r{i}", PRIMS["u8"]) for i in range(17)))
    sig = Signature((("a", flags), ("b", rec)), None)
    f = semantic.roundtrip_features(Case(sig, (Call((frozenset(), (0,) * 17), None),)))
    assert {"flags-count:<=32", "record-fields:<=32", "flat-params-exact:18", "spill:True",
            "edge:flags:none"} <= f
    assert [semantic.bucket(n) for n in (0, 1, 2, 3, 4, 5, 256, 257)] == \
        ["0", "1", "2", "<=4", "<=4", "<=8", "<=256", "<=512"]


def test_outcome_classes_are_value_free():
    assert semantic.outcome_class("ok") == "ok"
    assert semantic.outcome_class("known", "K1") == "known:K1"
    a = semantic.outcome_class("discarded", "call stack exhausted at depth 1234")
    assert a == semantic.outcome_class("discarded", "call stack exhausted at depth 99")


@pytest.mark.parametrize("name", ["component_roundtrip", "component_static", "host_api_misuse"])
def test_every_target_gives_features(name):
    t = targets.get(name)
    for data in corpus(name)[:8]:
        f = t.features(t.decode(data), "ok")
        assert any(x.startswith("kind:") for x in f) and len(f) <= 2000


def test_core_cases_give_what_they_name_of_themselves():
    """differential_spec's cases: source, engine and call count (opcodes come separately)."""
    from types import SimpleNamespace
    case = SimpleNamespace(source="smith", engine="winch", calls=(1, 2, 3), wasm=b"")
    assert semantic.core_features(case, "discarded:fuel") == {
        "source:smith", "engine:winch", "calls:<=4", "outcome:discarded:fuel"}
    assert targets.get("differential_spec").features is semantic.core_features


def test_misuse_cases_report_the_misuse():
    t = targets.get("host_api_misuse")
    f = set().union(*(t.features(t.decode(d)) for d in corpus("host_api_misuse")))
    assert any(x.startswith("misuse:") for x in f)


def test_reporter_bounded_to_its_block():
    r, hits = fake_reporter(64)
    feats = {f"f{i}" for i in range(semantic.MAX_FEATURES + 100)}
    r.report(feats)
    assert len(hits) == semantic.MAX_FEATURES
    assert all(100 <= h < 164 for h in hits)
    r2, hits2 = fake_reporter(64)
    r2.report(feats)
    assert hits == hits2


def test_reporter_resolves_trace_late():
    """The trace function is looked up at the first report (after atheris.Setup)."""
    hits: list[int] = []
    it = iter(range(10))
    r = semantic.Reporter(lambda: next(it), block=4, resolve=lambda: hits.append)
    r.report({"a"})
    assert len(hits) == 1


def test_switch_off(monkeypatch):
    monkeypatch.setenv(semantic.ENV, "0")
    assert semantic.install() is None
    monkeypatch.setenv(semantic.ENV, "1")
    assert semantic.enabled()


def test_opcode_features():
    f = semantic.opcode_features({0x20: 3, 0x6a: 1, 0xFC0A: 5000, 0x41: 0})
    assert f == {"op:0x20:<=4", "op:0x6a:1", "op:0xfc0a:<=1024"}


def test_report_case_noop_without_install(monkeypatch):
    monkeypatch.setattr(semantic, "_reporter", [None])
    semantic.report_case(semantic.roundtrip_features, decode(b""), "ok")  # nothing to report to
    semantic.report_opcodes({1: 1})


def test_engine_features():
    """The engine is coverage: its strategy, each setting paired with it; the default engine
    has its own feature. Every round-trip target reports them."""
    from dataclasses import replace

    from itfuzz.model.engine_config import EngineConfig
    winch = EngineConfig("winch", None, True, None, 0, True)
    assert semantic.engine_features(None) == {"engine:default"}
    assert semantic.engine_features(winch) == {
        "engine:winch", "engine:winch:pooling", "engine:winch:guard=0", "engine:winch:signals=on"}
    case = decode(bytes(range(64)))
    for config in (None, winch):
        got = semantic.roundtrip_features(replace(case, config=config), "ok")
        assert semantic.engine_features(config) <= got
