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
    assert fuzzing.fork_job_argv(job, -5) == job
    plain = ["t.py", "-max_total_time=3", "-stop_file=/x/STOP", "/x/C"]  # no -features_dir
    assert fuzzing.fork_job_argv(plain, 30) == plain


@pytest.mark.parametrize("user, bound", [
    ([], 30),  # only libFuzzer's bound: no user bound to respect
    (["-max_total_time=10"], 10),  # the user's run is shorter than the minimum
    (["-max_total_time=0"], 30),  # 0: no bound
    (["-max_total_time=-4"], 30),  # as libFuzzer reads it: no bound
    (["-max_total_time=600", "-max_total_time=10"], 10),  # the user's last one wins
    (["-max_total_time=12s"], 12),  # libFuzzer reads the leading digits
    (["-max_total_time=x"], 30),  # ... none: 0
])
def test_a_fork_job_never_outlasts_the_users_bound(user, bound):
    job = ["t.py", *user, "-reload=0", "-max_total_time=3", "-stop_file=/x/STOP",
           "-features_dir=/x/F3", "/x/C3"]
    got = fuzzing.fork_job_argv(job, 30)
    assert [a for a in got if a.startswith("-max_total_time=")] == \
        user + [f"-max_total_time={bound}"]


def test_process_roles():
    job = ["t.py", "-max_total_time=3", "-stop_file=/x/STOP", "-features_dir=/x/F3"]
    assert fuzzing.process_role(job) == fuzzing.ROLE_FORK_JOB == "fork-job"
    assert fuzzing.process_role(job[:3]) == fuzzing.ROLE_FUZZ  # no -features_dir
    assert fuzzing.process_role(["t.py", "-merge_control_file=/x/m"]) == fuzzing.ROLE_MERGE
    assert fuzzing.process_role(["t.py", "-fork=2", "-max_total_time=9"]) == \
        fuzzing.ROLE_FORK_PARENT
    for not_fork in (["-fork=0"], ["-fork"], ["-fork=2", "-fork=0"], ["-fork=x"]):
        assert fuzzing.process_role(["t.py", *not_fork]) == fuzzing.ROLE_FUZZ


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
    assert fuzzing.read_stats(path) == records


def test_reading_records_skips_what_is_not_one_and_starts_at_an_offset(tmp_path):
    job = {"role": "fork-job", "stats": {"itfuzz_oracle_inputs": 5}}
    old = {"role": "fork-job", "stats": {"itfuzz_oracle_inputs": 1000}}
    path = tmp_path / "stats.jsonl"
    path.write_text(json.dumps(old) + "\n")
    start = path.stat().st_size
    with open(path, "a") as f:
        f.write(json.dumps(job) + "\n" + '{"role": "fork-job", "sta' + "\n" + "[1]\n"
                + json.dumps({"role": "merge", "stats": {"itfuzz_oracle_inputs": 7}}) + "\n"
                + json.dumps(job) + "\n")
    records = fuzzing.read_stats(path, start)
    assert [r["role"] for r in records] == ["fork-job", "merge", "fork-job"]
    assert fuzzing.summed_stats(records) == {"itfuzz_oracle_inputs": 10}
    assert fuzzing.read_stats(tmp_path / "missing.jsonl") == []


def test_a_failing_stats_file_keeps_the_stat_lines(monkeypatch, tmp_path, capfd):
    monkeypatch.setattr(fuzzing, "_exit_done", [False])
    monkeypatch.setattr(fuzzing, "_print_stats", [True])
    monkeypatch.setattr(fuzzing, "_closers", [])
    monkeypatch.setenv(fuzzing.STATS_FILE_ENV, str(tmp_path))  # a directory: cannot append
    fuzzing._at_exit()
    err = capfd.readouterr().err
    assert "stat::itfuzz_known_findings_skipped:" in err
    assert f"cannot append the final stats to {tmp_path}" in err
