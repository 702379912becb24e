"""bench/bench_bugfinding.py --before/--after prints one table of two checkouts' `--json`
results: found/runs, median seconds and executions per planted bug, before | after."""
from __future__ import annotations

import json
import subprocess
import sys


def run(repo_root, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(repo_root / "bench" / "bench_bugfinding.py"),
                           *args], capture_output=True, text=True, timeout=120)


def rec(plant: str, found: bool, seconds: float, execs: int) -> dict:
    return {"plant": plant, "target": "component_roundtrip", "semantic": True, "found": found,
            "seconds": seconds if found else float("inf"), "execs": execs, "limit": 90.0}


def test_before_after_table(repo_root, tmp_path):
    before = [rec("u64-truncate", True, 10.0, 100), rec("u64-truncate", False, 0.0, 900),
              rec("u64-truncate", True, 30.0, 300), rec("flags-swap", False, 0.0, 500)]
    after_a = [rec("u64-truncate", True, 2.0, 1000), rec("flags-swap", True, 5.5, 70)]
    after_b = [rec("flags-swap", False, 0.0, 800)]
    paths = []
    for name, records in (("b.json", before), ("a1.json", after_a), ("a2.json", after_b)):
        (tmp_path / name).write_text(json.dumps(records))
        paths.append(str(tmp_path / name))
    out = run(repo_root, "--before", paths[0], "--after", paths[1], paths[2])
    assert out.returncode == 0, out.stderr
    rows = {line.split()[0]: line.split()[3:] for line in out.stdout.splitlines()
            if line.startswith(("u64-truncate", "flags-swap"))}
    # before: 2 of 3 found, median of (10, 30, inf) = 30 s and of (100, 300, inf) = 300 execs
    assert rows["u64-truncate"] == ["2/3", "30.0", "300", "1/1", "2.0", "1000"]
    # a side whose median run misses shows >limit and the median executions run
    assert rows["flags-swap"] == ["0/1", ">90", ">500", "1/2", ">90", ">435"]
    assert "limit 90 s" in out.stdout


def test_before_needs_after(repo_root, tmp_path):
    (tmp_path / "b.json").write_text("[]")
    out = run(repo_root, "--before", str(tmp_path / "b.json"))
    assert out.returncode != 0 and "go together" in out.stderr
