"""`itfuzz triage`: crash files grouped by finding signature, one line per group with its count
and smallest input; files without a finding get their own group; bad paths are clear errors."""
from __future__ import annotations

import faults
import pytest

from itfuzz import cli
from itfuzz.ops.triage import triage


@pytest.fixture
def crash_dir(tmp_path):
    d = tmp_path / "artifacts" / faults.PLANTED
    d.mkdir(parents=True)
    files = {}
    for kind, n in (("string", 2), ("bool", 3)):
        for i, data in enumerate(faults.planted_inputs(kind, n, seed=21)):
            files[(kind, i)] = d / f"crash-{kind}-{i}"
            files[(kind, i)].write_bytes(data)
    (d / "crash-clean").write_bytes(faults.planted_clean_input())
    (d / ".hidden").write_bytes(b"ignored")
    return d, files


def test_two_planted_findings_group_apart(crash_dir):
    d, files = crash_dir
    groups = {g.key[0]: g for g in triage(faults.planted_target(), [str(d)])}
    assert set(groups) == {faults.PLANTED_SIG_STRING, faults.PLANTED_SIG_BOOL, "no-finding|ok"}
    for sig, kind, n in ((faults.PLANTED_SIG_STRING, "string", 2), (faults.PLANTED_SIG_BOOL, "bool", 3)):
        g = groups[sig]
        assert sorted(p for p, _ in g.files) == sorted(files[(kind, i)] for i in range(n))
        assert g.key[1].startswith("wasmtime ")  # the engine
        smallest = min(files[(kind, i)].stat().st_size for i in range(n))
        assert g.smallest[1] == smallest
    assert [p.name for p, _ in groups["no-finding|ok"].files] == ["crash-clean"]


def test_cli_one_line_per_group_bugs_first(capsys, monkeypatch, crash_dir):
    faults.plant_target(monkeypatch)
    d, _ = crash_dir
    rc = cli.main(["triage", str(d)])  # target taken from the path (artifacts/TARGET/)
    out = capsys.readouterr().out
    assert rc == 1
    lines = [line for line in out.splitlines() if "smallest:" in line]
    assert len(lines) == 3
    assert lines[0].split()[:2] == ["3", faults.PLANTED_SIG_BOOL]
    assert lines[1].split()[:2] == ["2", faults.PLANTED_SIG_STRING]
    assert lines[2].split()[:2] == ["1", "no-finding|ok"]
    assert "6 files, 2 finding groups (5 files)" in out


def test_clean_dir_exits_0(capsys, tmp_path):
    (tmp_path / "a").write_bytes(b"")
    rc = cli.main(["triage", "--target", "component_roundtrip", str(tmp_path)])
    assert rc == 0 and "no-finding|ok" in capsys.readouterr().out


@pytest.mark.parametrize("what", ["missing", "empty-dir"])
def test_bad_paths_are_clear_errors(capsys, tmp_path, what):
    path = tmp_path / "d"
    if what == "empty-dir":
        path.mkdir()
    rc = cli.main(["triage", "--target", "component_roundtrip", str(path)])
    err = capsys.readouterr().err
    assert rc == 2
    assert {"missing": "no such file or directory", "empty-dir": "no files to triage"}[what] in err


def test_hang_and_harness_error_get_their_own_groups(tmp_path):
    """A hang in Python code is cut by the time limit; an exception the oracle did not turn
    into a Finding (a harness bug, a crash under libFuzzer too) is grouped by its class."""
    real = faults.planted_target()

    class Flaky:
        name = "flaky"
        decode = real.decode

        def execute(self, data, skip_known=False):
            if data.startswith(b"H"):
                while True:
                    pass
            if data.startswith(b"E"):
                raise ValueError("boom 42")
            return real.execute(data, skip_known)

    bool_input = faults.planted_inputs("bool", 1)[0]
    for name, data in (("h1", b"H1"), ("h2", b"H22"), ("e", b"E"), ("b", bool_input)):
        (tmp_path / name).write_bytes(data)
    groups = {g.key[0]: g for g in triage(Flaky(), [str(tmp_path)], timeout=0.5)}
    assert set(groups) == {"timeout|", "error|ValueError:boom N", faults.PLANTED_SIG_BOOL}
    assert sorted(p.name for p, _ in groups["timeout|"].files) == ["h1", "h2"]
    assert groups["timeout|"].smallest[1] == 2
