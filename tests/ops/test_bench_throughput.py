"""bench/bench_throughput.py runs a real (short) libFuzzer run and reports the keys the issue
asks for, read from the fuzzing process's stat lines."""
from __future__ import annotations

import json
import subprocess
import sys


def test_json_has_the_throughput_keys(repo_root):
    out = subprocess.run([sys.executable, str(repo_root / "bench" / "bench_throughput.py"),
                          "--seconds", "3", "--json"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout)
    for key in ("round_trips_per_s", "exec_per_s", "cache_hit_rate", "signatures_per_min",
                "lanes", "disk_hit_rate", "exec_per_cpu_s"):
        assert key in r
    assert r["executions"] > 0 and r["round_trips_per_s"] > 0 and r["exit_code"] == 0
    assert sum(r["lanes"].values()) == r["oracle_stats"]["calls"]
    assert 0 <= r["cache_hit_rate"] <= 1
