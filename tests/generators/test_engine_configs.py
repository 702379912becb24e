"""Engine configurations decoded from bytes: total, valid, deterministic, and stable when only
the value bytes of an input change."""
from __future__ import annotations

import random

import pytest

from itfuzz.generators.engine_configs import decode_config
from itfuzz.generators.signatures import decode_roundtrip
from itfuzz.generators.unstructured import Unstructured
from itfuzz.model.engine_config import EngineConfig, engine_text


def configs(n: int, seed: int = 14) -> list[EngineConfig | None]:
    rng = random.Random(seed)
    return [decode_config(Unstructured(rng.randbytes(rng.randrange(0, 16)))) for _ in range(n)]


def test_zero_bytes_mean_the_default_engine():
    assert decode_config(Unstructured(b"")) is None
    assert decode_config(Unstructured(bytes(16))) is None
    assert decode_roundtrip(b"").config is None


def test_every_strategy_and_setting_is_reached_and_valid():
    seen = configs(3000)
    made = [c for c in seen if c is not None]
    assert 0.15 < seen.count(None) / len(seen) < 0.35
    assert {c.strategy for c in made} == {"cranelift", "winch", "pulley"}
    assert any(c.pooling for c in made) and any(not c.pooling for c in made)
    for name in ("opt_level", "memory_reservation", "guard_size", "signals_based_traps",
                 "concurrency", "exceptions", "custom_page_sizes"):
        assert len({getattr(c, name) for c in made}) >= 3, name
    for c in made:  # constructible means valid; the Winch rules hold
        assert c.invalid_reason() is None
        if c.strategy == "winch":
            assert c.signals_based_traps is not False and not c.exceptions
    # the short text names a configuration exactly (it is the disk cache's key part)
    assert len({c.text() for c in made}) == len(set(made))


@pytest.mark.parametrize("bad", [
    dict(strategy="winch", signals_based_traps=False),
    dict(strategy="winch", exceptions=True),
    dict(strategy="winch", opt_level="speed"),
    dict(pooling=True, memory_reservation=1 << 16),
    dict(strategy="llvm"),
])
def test_invalid_combinations_cannot_be_made(bad):
    with pytest.raises(ValueError, match="invalid engine configuration"):
        EngineConfig(**bad)


def test_text():
    c = EngineConfig("winch", None, True, 1 << 32, 0, True, False)
    assert c.text() == "winch,pooling,reserve=4G,guard=0,signals=on,async=off"
    assert engine_text(None) == "default" and engine_text(c) == c.text()


def test_config_is_stable_when_only_values_change():
    """The configuration is structure: bytes after it (values) never change it."""
    rng = random.Random(7)
    checked = 0
    for _ in range(300):
        data = bytearray(rng.randbytes(rng.randrange(8, 300)))
        case = decode_roundtrip(bytes(data))
        u = Unstructured(bytes(data))
        u.front = len(case.sig.key) - 1  # the signature's bytes (its key: a flag, then them)
        config = decode_config(u)
        end, back = u.front, u.back  # the bytes in between are left for the values
        if end >= back - 1:
            continue
        assert decode_roundtrip(bytes(data)).config == config
        for _ in range(5):  # mutate only bytes after the configuration
            i = rng.randrange(end, back)
            data[i] = rng.randrange(256)
            assert decode_roundtrip(bytes(data)).config == config
        checked += 1
    assert checked > 200


def test_byte_pages_rewrites_every_libc_memory():
    from itfuzz.generators.components import byte_pages, component_text, for_config
    rng = random.Random(3)
    shapes = set()
    for _ in range(60):
        sig = decode_roundtrip(rng.randbytes(96)).sig
        wat = component_text(sig)
        paged = byte_pages(wat)
        memories = 2 if sig.shape == "composed" else 1
        shapes.add(sig.shape)
        assert paged.count("(pagesize 1)") == 2 * memories  # each libc memory and its import
        assert "(i32.shl (memory.size) (i32.const 16))" not in paged  # sizes in bytes now
        assert for_config(wat, EngineConfig(custom_page_sizes=True)) == paged
        assert for_config(wat, EngineConfig(custom_page_sizes=False)) == wat
        assert for_config(wat, None) == wat
    assert shapes == {"single", "composed"}
    with pytest.raises(ValueError, match="not a generated component"):
        byte_pages("(component)")
