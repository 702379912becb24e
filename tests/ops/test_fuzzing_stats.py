"""The fuzzing process's final `stat::` lines carry the oracle's counters, nested ones (the
calls per lane) flattened, so that bench/bench_throughput.py can read them; with
ITFUZZ_STATS_FILE each process also appends them as a JSON line; a `-fork` job runs at least
ITFUZZ_FORK_JOB_MIN seconds."""
from __future__ import annotations

import json

import pytest

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


def test_a_fork_job_runs_at_least_the_minimum():
    job = ["t.py", "-max_total_time=120", "-reload=0", "-max_total_time=3",
           "-stop_file=/x/STOP", "-features_dir=/x/F3", "/x/C3"]
    assert fuzzing.fork_job_argv(job, 30) == (job[:3] + ["-max_total_time=30"] + job[4:])
    assert fuzzing.fork_job_argv(job, 2) == job  # libFuzzer's own bound is already longer
    assert fuzzing.fork_job_argv(job, 0) == job  # 0: libFuzzer's schedule
    short = ["t.py", "-max_total_time=10"] + job[2:]  # the user's run is shorter than 30 s
    assert fuzzing.fork_job_argv(short, 30)[3] == "-max_total_time=10"
    alone = job[:1] + job[2:]  # only libFuzzer's bound: no user bound to respect
    assert fuzzing.fork_job_argv(alone, 30)[2] == "-max_total_time=30"
    plain = ["t.py", "-max_total_time=3", "-stop_file=/x/STOP", "/x/C"]  # no -features_dir
    assert fuzzing.fork_job_argv(plain, 30) == plain
    assert fuzzing.process_role(job) == "fork-job" and fuzzing.process_role(plain) == "fuzz"
    assert fuzzing.process_role(["t.py", "-merge_control_file=/x/m"]) == "merge"
    assert fuzzing.process_role(["t.py", "-fork=2", "-max_total_time=9"]) == "fork-parent"


def test_bad_fork_job_minimum_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(fuzzing.FORK_JOB_MIN_ENV, "ten")
    with pytest.raises(SystemExit, match="ITFUZZ_FORK_JOB_MIN='ten'"):
        fuzzing._env_int(fuzzing.FORK_JOB_MIN_ENV, 30)


def test_each_process_appends_one_json_line(monkeypatch, tmp_path):
    monkeypatch.setattr(fuzzing, "_oracle_stats", [{"inputs": 4, "lanes": {"c": 3}}])
    monkeypatch.setattr(fuzzing, "_argv", [["t.py", "-runs=4"]])
    path = tmp_path / "stats.jsonl"
    fuzzing._append_stats(str(path))
    fuzzing._append_stats(str(path))
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(records) == 2
    assert records[0]["role"] == "fuzz" and records[0]["argv"] == ["-runs=4"]
    assert records[0]["stats"]["itfuzz_oracle_inputs"] == 4
    assert records[0]["stats"]["itfuzz_oracle_lanes_c"] == 3
    assert records[0]["cpu_s"] > 0
