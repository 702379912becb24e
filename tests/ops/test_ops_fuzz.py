"""`itfuzz fuzz` and `itfuzz merge` on the real executable targets: defaults a user can override,
known findings counted in the final stats, a planted crash written under artifacts/TARGET/ and
triaged, and merge keeping a coverage-equivalent corpus."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import faults
import pytest

from itfuzz import cli
from itfuzz.known_findings import KNOWN
from itfuzz.ops.libfuzzer import fuzz_command

TARGET = "component_roundtrip"
TESTS = Path(__file__).resolve().parents[1]  # tests/, where faults.py (the planted target) is


def test_fuzz_command_defaults_and_overrides(repo_root, tmp_path):
    cmd = fuzz_command(TARGET, [], repo_root)
    assert cmd[0] == str(repo_root / "fuzz_targets" / f"{TARGET}.py")
    for flag in ("-timeout=30", "-rss_limit_mb=4096", "-print_final_stats=1",
                 f"-artifact_prefix={repo_root}/artifacts/{TARGET}/"):
        assert flag in cmd
    assert cmd[-2:] == [str(repo_root / "work-corpus" / TARGET), str(repo_root / "corpus" / TARGET)]
    cmd = fuzz_command(TARGET, ["-timeout=5", "-jobs=2", f"-artifact_prefix={tmp_path}/",
                                str(tmp_path / "c")], repo_root)
    assert "-timeout=5" in cmd and "-timeout=30" not in cmd and "-jobs=2" in cmd
    assert [a for a in cmd if a.startswith("-artifact_prefix")] == [f"-artifact_prefix={tmp_path}/"]
    assert cmd[-1] == str(tmp_path / "c") and (tmp_path / "c").is_dir()


def test_known_findings_are_skipped_and_counted_in_final_stats(capfd, repo_root, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    ks = [k for k in KNOWN if k.target == TARGET][:2]
    for k in ks:
        shutil.copy(repo_root / k.reproducer, corpus)
    rc = cli.main(["fuzz", TARGET, f"-runs={len(ks)}", f"-artifact_prefix={tmp_path}/",
                   str(corpus)])
    out, err = capfd.readouterr()
    assert rc == 0, err[-3000:]
    assert "stat::number_of_executed_units:" in err
    m = re.search(r"stat::itfuzz_known_findings_skipped: (\d+)", err)
    assert m and int(m.group(1)) == len(ks), err[-2000:]
    for k in ks:
        assert f"stat::itfuzz_known_{k.id}: 1" in err
    assert not list(tmp_path.glob("crash-*"))


@pytest.fixture
def planted_root(tmp_path):
    """A checkout-like root whose fuzz_targets/ has an executable script for the planted
    target (ITFUZZ_ROOT points the CLI at it)."""
    root = tmp_path / "root"
    (root / "fuzz_targets").mkdir(parents=True)
    script = root / "fuzz_targets" / f"{faults.PLANTED}.py"
    script.write_text(f"""#!/usr/bin/env python3
import sys
sys.path.insert(0, {str(TESTS)!r})
import atheris
with atheris.instrument_imports(include=["itfuzz"]):
    import faults
from itfuzz import targets
targets.FACTORIES[faults.PLANTED] = faults.planted_target
from itfuzz.fuzzing import main
main(faults.PLANTED)
""")
    script.chmod(0o755)
    seeds = root / "corpus" / faults.PLANTED
    seeds.mkdir(parents=True)
    (seeds / "bool").write_bytes(faults.planted_inputs("bool", 1, seed=5)[0])
    return root


def test_planted_crash_lands_in_artifacts_and_triages(capfd, monkeypatch, planted_root):
    monkeypatch.setenv("ITFUZZ_ROOT", str(planted_root))
    faults.plant_target(monkeypatch)
    rc = cli.main(["fuzz", faults.PLANTED, "-runs=10"])
    _, err = capfd.readouterr()
    assert rc != 0  # libFuzzer's crash exit
    assert f"FINDING [{faults.PLANTED_SIG_BOOL}]" in err and "stat::itfuzz_known_findings_skipped: 0" in err
    crashes = list((planted_root / "artifacts" / faults.PLANTED).glob("crash-*"))
    assert len(crashes) == 1
    assert (planted_root / "work-corpus" / faults.PLANTED).is_dir()
    assert cli.main(["repro", "-q", faults.PLANTED, str(crashes[0])]) == 1
    assert cli.main(["triage", str(planted_root / "artifacts" / faults.PLANTED)]) == 1
    out, _ = capfd.readouterr()
    assert f"    1  {faults.PLANTED_SIG_BOOL}" in out


def test_merge_keeps_a_coverage_equivalent_corpus(capfd, repo_root, tmp_path):
    seeds = tmp_path / "seeds"  # a slice of the shipped seeds keeps the test short
    seeds.mkdir()
    for f in sorted((repo_root / "corpus" / TARGET).iterdir())[:12]:
        shutil.copy(f, seeds)
    new = tmp_path / "new"
    shutil.copytree(seeds, new)
    for f in list(new.iterdir()):
        shutil.copy(f, new / (f.name + ".copy"))  # duplicates must collapse
    corpus = tmp_path / "merged"
    rc = cli.main(["merge", TARGET, str(corpus), str(new)])
    out, err = capfd.readouterr()
    assert rc == 0, err[-2000:]
    n_new = len(list(new.iterdir()))
    assert "corpus before: 0 files, 0 bytes" in out
    assert f"new inputs:    {n_new} files" in out
    merged = {f.read_bytes() for f in corpus.iterdir()}
    seed_data = {f.read_bytes() for f in seeds.iterdir()}
    assert 0 < len(merged) <= len(seed_data) and merged <= seed_data
    assert f"corpus after:  {len(merged)} files" in out
    # libFuzzer's own verdict: the merged corpus already has every feature of the inputs
    rc = cli.main(["merge", TARGET, str(corpus), str(new)])
    out, _ = capfd.readouterr()
    assert rc == 0 and "(+0 files;" in out
    assert {f.read_bytes() for f in corpus.iterdir()} == merged


def test_merge_errors(capfd, tmp_path):
    assert cli.main(["merge", TARGET, str(tmp_path / "c")]) == 2
    assert "at least one NEW directory" in capfd.readouterr().err
    assert cli.main(["merge", TARGET, str(tmp_path / "c"), str(tmp_path / "missing")]) == 2
    assert "not a directory" in capfd.readouterr().err


def test_fork_jobs_are_lengthened_and_leave_their_counters(capfd, monkeypatch, repo_root,
                                                           tmp_path):
    """Under libFuzzer's real -fork, our jobs are told apart (their time bound raised to
    ITFUZZ_FORK_JOB_MIN), and every process's counters reach ITFUZZ_STATS_FILE although the
    parent deletes the jobs' logs; `itfuzz fuzz` prints the jobs' counters summed."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for f in sorted((repo_root / "corpus" / TARGET).iterdir())[:3]:
        shutil.copy(f, seeds)
    stats = tmp_path / "stats.jsonl"  # a file of the user's, with an earlier run's job in it
    old = {"role": "fork-job", "stats": {"itfuzz_oracle_inputs": 10**6}}
    stats.write_text(json.dumps(old) + "\n")
    monkeypatch.setenv("ITFUZZ_STATS_FILE", str(stats))
    monkeypatch.setenv("ITFUZZ_FORK_JOB_MIN", "2")
    monkeypatch.chdir(tmp_path)
    rc = cli.main(["fuzz", TARGET, "-fork=1", "-max_total_time=3",
                   f"-artifact_prefix={tmp_path}/", str(seeds)])
    out, err = capfd.readouterr()
    assert rc == 0, err[-3000:]
    records = [json.loads(line) for line in stats.read_text().splitlines()][1:]
    jobs = [r for r in records if r["role"] == "fork-job"]
    assert jobs and {r["role"] for r in records} >= {"fork-parent", "fork-job", "merge"}
    # libFuzzer gave job 1 `-max_total_time=1`; the job ran with the minimum
    bounds = [a for a in jobs[0]["argv"] if a.startswith("-max_total_time=")]
    assert bounds[-1] == "-max_total_time=2"
    inputs = sum(r["stats"]["itfuzz_oracle_inputs"] for r in jobs)
    assert inputs > 0
    assert f"the counters of the {len(jobs)} fork jobs that reported, summed" in out
    assert f"stat::itfuzz_oracle_inputs: {inputs}" in out.splitlines()


def test_fork_sums_with_an_empty_stats_variable_and_a_failing_read(capfd, monkeypatch, tmp_path):
    """`ITFUZZ_STATS_FILE=` (empty) means unset: `itfuzz fuzz` uses a file of its own and
    removes it; a summary that cannot be made never costs libFuzzer's exit status."""
    seen = []

    def fake_call(cmd, env):
        path = Path(env["ITFUZZ_STATS_FILE"])
        seen.append(path)
        with open(path, "a") as f:
            f.write(json.dumps({"role": "fork-job", "stats": {"itfuzz_oracle_inputs": 3}}) + "\n")
        return 7  # as after a crash

    monkeypatch.setattr(cli.subprocess, "call", fake_call)
    monkeypatch.setenv("ITFUZZ_STATS_FILE", "")
    flags = ["fuzz", TARGET, "-fork=2", f"-artifact_prefix={tmp_path}/", str(tmp_path / "c")]
    assert cli.main(flags) == 7
    out = capfd.readouterr().out
    assert "stat::itfuzz_oracle_inputs: 3" in out.splitlines()
    assert seen and seen[0].name.startswith("itfuzz-stats-") and not seen[0].exists()

    def broken(path, offset=0):
        raise OSError("disk gone")
    monkeypatch.setattr(cli, "read_stats", broken)
    assert cli.main(flags) == 7
    assert "cannot sum the fork jobs' counters" in capfd.readouterr().out
