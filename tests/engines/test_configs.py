"""Engines per configuration: each strategy really compiles as asked (a planted engine that
ignores its strategy is caught), settings a release lacks are unsupported, the feature probe."""
from __future__ import annotations

import pytest

from itfuzz.engines import configs
from itfuzz.engines.component_engine import make_component_engine
from itfuzz.engines.configs import Engines, StrategyMismatch, check_strategy, make_engine
from itfuzz.findings import Discard
from itfuzz.model.engine_config import EngineConfig, GiB, MiB

VARIANTS = [
    EngineConfig("cranelift"),
    EngineConfig("winch"),
    EngineConfig("pulley"),
    EngineConfig("cranelift", "none", True, 64 * MiB, 0, False, True, True, True),
    EngineConfig("winch", None, True, 4 * GiB, 2 * GiB, True, False, False, False),
    EngineConfig("pulley", "speed_and_size", False, 0, 64 * 1024, True, True, True, True),
]


@pytest.mark.parametrize("config", VARIANTS, ids=str)
def test_engine_compiles_with_its_strategy(config):
    engine = make_engine(config)
    check_strategy(engine, config)  # raises on a mismatch
    pulley = configs.artifact(engine)[18:20] == b"\xf3\x00"
    assert pulley == (config.strategy == "pulley")


def test_winch_ignored_is_caught(monkeypatch):
    """Planted: the strategy setter does nothing (what the C API did before 45 for Winch)."""
    monkeypatch.setattr(configs.capi, "wasmtime_config_strategy_set", lambda ptr, code: None)
    with pytest.raises(StrategyMismatch, match="exactly as Cranelift"):
        Engines(make_component_engine()).get(EngineConfig("winch"))


def test_pulley_ignored_is_caught(monkeypatch):
    """Planted: the Pulley target is dropped from the setter calls."""
    real = configs.setter_calls
    monkeypatch.setattr(configs, "setter_calls",
                        lambda c: [s for s in real(c) if s[0] != "wasmtime_config_target_set"])
    with pytest.raises(StrategyMismatch, match="native code"):
        Engines(make_component_engine()).get(EngineConfig("pulley"))


def test_engines_are_cached_per_configuration():
    default = make_component_engine()
    engines = Engines(default)
    a, b = EngineConfig("pulley"), EngineConfig("pulley", "none")
    assert engines.get(None) is default
    assert engines.get(a) is engines.get(EngineConfig("pulley"))
    assert engines.get(a) is not engines.get(b)
    assert engines.made == {"pulley": 2}


def test_engines_are_bounded_and_say_which_they_evict():
    evicted = []
    engines = Engines(make_component_engine(), size=2, on_evict=evicted.append)
    a, b, c = EngineConfig("pulley"), EngineConfig("pulley", "none"), EngineConfig("cranelift")
    engines.get(a), engines.get(b), engines.get(a), engines.get(c)  # a was used last of a, b
    assert evicted == [b] and list(engines.cache) == [a, c]
    assert engines.made == {"pulley": 2, "cranelift": 1}


def test_settings_a_release_lacks_are_unsupported(monkeypatch):
    monkeypatch.setattr(configs, "release", lambda: (44, 0, 0))
    assert configs.unsupported(EngineConfig("winch")) == "strategy:winch"
    assert configs.unsupported(EngineConfig(concurrency=True)) == "concurrency"
    assert configs.unsupported(EngineConfig(concurrency=False)) is None
    with pytest.raises(Discard, match="unsupported:strategy:winch"):
        make_engine(EngineConfig("winch"))
    monkeypatch.delattr(configs.capi, "wasmtime_config_wasm_exceptions_set")
    assert configs.unsupported(EngineConfig(exceptions=True)) == "exceptions"
    assert configs.unsupported(EngineConfig(exceptions=False)) is None  # off: what it is
    make_engine(EngineConfig(exceptions=False))  # the missing setter is not called


def test_probe_reports_strategies_settings_and_fixed_length_lists():
    lines = configs.probe()
    text = "\n".join(lines)
    for strategy in ("cranelift", "winch", "pulley"):
        assert f"strategy {strategy}: yes" in lines
    assert "pooling: yes" in lines and "concurrency: yes" in lines
    # no wasmtime-py release up to 50.0.1 can enable list<T, N>: reported, not hidden
    assert "fixed-length lists list<T, N>: no" in text
    assert text.count("never combined:") == 3


def test_core_engines_compile_with_their_strategy(monkeypatch):
    """differential_spec's engines: Winch is not Cranelift, and a release whose C API has no
    Winch (before 45, where the value 2 silently means Cranelift) discards Winch cases."""
    from itfuzz.engines import core_engine
    arts = {k: configs.artifact(core_engine.make_core_engine(k))
            for k in ("cranelift", "winch", "pulley")}
    assert len(set(arts.values())) == 3
    monkeypatch.setattr(core_engine, "release", lambda: (44, 0, 0))
    with pytest.raises(Discard, match="unsupported:winch"):
        core_engine.make_core_engine("winch")
