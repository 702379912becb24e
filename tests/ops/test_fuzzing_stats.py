"""The fuzzing process's final `stat::` lines carry the oracle's counters, nested ones (the
calls per lane) flattened, so that bench/bench_throughput.py can read them."""
from __future__ import annotations

from itfuzz import fuzzing


def test_oracle_counters_become_stat_lines(monkeypatch):
    stats = {"inputs": 7, "calls": 20, "compile-disk-hits": 2, "engine:x": 1, "name": "skip",
             "lanes": {"c": 15, "py": 5}}
    monkeypatch.setattr(fuzzing, "_oracle_stats", [stats])
    lines = fuzzing.final_stats().splitlines()
    for want in ("stat::itfuzz_oracle_inputs: 7", "stat::itfuzz_oracle_calls: 20",
                 "stat::itfuzz_oracle_compile_disk_hits: 2", "stat::itfuzz_oracle_engine_x: 1",
                 "stat::itfuzz_oracle_lanes_c: 15", "stat::itfuzz_oracle_lanes_py: 5"):
        assert want in lines
    assert not [line for line in lines if "name" in line]
