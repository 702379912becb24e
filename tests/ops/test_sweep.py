"""Releases: version parsing, crash-safe child runs, and `itfuzz sweep`'s attribution.

The attribution test plants a target that aborts the process on exactly one (pretend) release:
each pretend release is a wrapper "python" that registers the planted target in the child, so
the test needs no network; the slow test sweeps the shipped reproducers over real releases.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from itfuzz import cli
from itfuzz.ops import sweep as sweep_mod
from itfuzz.ops.isolate import Outcome, panic_message, run_isolated
from itfuzz.ops.sweep import KNOWN_RELEASES, SweepResult, select_versions, sweep
from itfuzz.versions import parse_version

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import os, sys
sys.path.insert(0, {src!r})
from itfuzz import targets
from itfuzz.ops import isolate

def make():
    t = targets.FACTORIES["component_roundtrip"]()
    real = t.execute
    def execute(data, skip_known=False):
        if data.startswith(b"ABORT") and os.environ["PRETEND_RELEASE"] == {bad!r}:
            sys.stderr.write("thread '<unnamed>' panicked at crates/planted.rs:1:1:\\nplanted\\n")
            sys.stderr.flush()
            os.abort()
        return real(data, skip_known)
    t.execute = execute
    t.name = "planted_abort"
    return t

targets.FACTORIES["planted_abort"] = make
args = sys.argv[1:]
if args[:2] == ["-m", "itfuzz.ops.isolate"]:
    sys.exit(isolate.child_main(args[2:]))
"""


def pretend_python(tmp_path: Path, release: str, bad: str) -> str:
    """An executable standing in for `release`'s Python: the planted target aborts on `bad`."""
    script = tmp_path / f"child-{release}.py"
    script.write_text(CHILD.format(src=str(ROOT / "src"), bad=bad))
    exe = tmp_path / f"python-{release}"
    exe.write_text(f"#!/bin/sh\nPRETEND_RELEASE={release} exec {sys.executable} {script} \"$@\"\n")
    exe.chmod(0o755)
    return str(exe)


def test_parse_version():
    assert parse_version("50.0.1") == (50, 0, 1)
    for bad in ("50", "50.0", "v50.0.1", "50.0.x", ""):
        with pytest.raises(ValueError):
            parse_version(bad)


def test_select_versions():
    assert select_versions(None) == list(KNOWN_RELEASES)
    assert select_versions("39.0.0..41.0.0") == ["39.0.0", "40.0.0", "41.0.0"]
    assert select_versions("44.0.0,41.0.0,44.0.0") == ["41.0.0", "44.0.0"]
    with pytest.raises(ValueError):
        select_versions("1.0.0..2.0.0")


def test_panic_message():
    err = "noise\nthread '<unnamed>' (31338) panicked at crates/x/src/a.rs:971:9:\nassertion failed\n"
    assert panic_message(err) == "crates/x/src/a.rs:971:9: assertion failed"
    assert panic_message("Segmentation fault") == ""


def test_a_child_abort_is_an_outcome_and_the_run_goes_on(tmp_path):
    files = []
    for name, data in (("a", b"\1"), ("boom", b"ABORT"), ("b", b"\2")):
        (tmp_path / name).write_bytes(data)
        files.append(str(tmp_path / name))
    python = pretend_python(tmp_path, "42.0.0", bad="42.0.0")
    outs = list(run_isolated("planted_abort", files, 30, python=python))
    assert [o.status for o in outs] == ["ok", "abort", "ok"]
    assert outs[1].signature == "abort|crates/planted.rs"
    assert "planted" in outs[1].detail and "SIGABRT" in outs[1].detail


def test_planted_abort_is_attributed_to_exactly_its_release(tmp_path, monkeypatch):
    releases = ["40.0.0", "41.0.0", "42.0.0"]
    pythons = {r: pretend_python(tmp_path, r, bad="41.0.0") for r in releases}
    monkeypatch.setattr(sweep_mod, "release_python", lambda r: Path(pythons[r]))
    monkeypatch.setattr(sweep_mod, "same_as_running", lambda r: False)
    (tmp_path / "boom").write_bytes(b"ABORT")
    (tmp_path / "clean").write_bytes(b"\1")
    files = [str(tmp_path / "boom"), str(tmp_path / "clean")]
    result = sweep("planted_abort", files, releases, timeout=30, jobs=2)
    assert [result.cells[files[0], r].status for r in releases] == ["ok", "abort", "ok"]
    assert result.first_showing(files[0]) == "41.0.0"
    assert result.first_fixed(files[0]) == "42.0.0"
    assert result.first_showing(files[1]) is None
    table = result.table()
    assert "first shows on 41.0.0; first release without it: 42.0.0" in table
    data = json.loads(result.to_json())
    assert data["inputs"][0]["first_showing"] == "41.0.0"


def test_a_release_whose_child_cannot_start_shows_as_an_error_not_an_abort(tmp_path,
                                                                          monkeypatch):
    """A release's Python that cannot import itfuzz: one child start per release, every cell
    `error|child-start` (a bug row: a harness problem must be seen), its traceback kept."""
    log = tmp_path / "starts.log"
    broken = tmp_path / "python-broken"
    broken.write_text(f"#!/bin/sh\necho start >> {log}\n"
                      "echo \"ModuleNotFoundError: No module named 'itfuzz'\" >&2\nexit 1\n")
    broken.chmod(0o755)
    good = pretend_python(tmp_path, "42.0.0", bad="none")
    pythons = {"41.0.0": broken, "42.0.0": Path(good)}
    monkeypatch.setattr(sweep_mod, "release_python", lambda r: pythons[r])
    monkeypatch.setattr(sweep_mod, "same_as_running", lambda r: False)
    files = []
    for name in ("a", "b", "c"):
        (tmp_path / name).write_bytes(b"\1")
        files.append(str(tmp_path / name))
    result = sweep("planted_abort", files, ["41.0.0", "42.0.0"], timeout=30, jobs=2)
    assert [result.cells[f, "41.0.0"].cell() for f in files] == ["error|child-start"] * 3
    assert [result.cells[f, "42.0.0"].cell() for f in files] == ["ok"] * 3
    assert log.read_text().count("start") == 1
    table = result.table()
    assert "error|child-start" in table and "abort" not in table
    assert "ModuleNotFoundError" in result.cells[files[0], "41.0.0"].detail


def test_cli_rejects_a_bad_release(capsys):
    assert cli.main(["repro", "--wasmtime", "not-a-version", "component_roundtrip", "x"]) == 2
    assert "MAJOR.MINOR.PATCH" in capsys.readouterr().err
    assert cli.main(["show", "component_roundtrip", "x", "--wasmtime", "1.0.0"]) == 2
    assert "first release with `wasmtime.component`" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("ITFUZZ_OFFLINE") == "1", reason="needs PyPI for old releases")
def test_sweep_of_the_shipped_reproducers_over_real_releases(capsys):
    """K1/K2 (wasmtime-py), K13 (wasmtime-py <= 43) and K8 (C API abort, fixed in 51) on the
    oldest supported, a middle and the pinned release: the ranges measured when they were
    registered (see known_findings; 39 rejects K1's and K2's kebab names: a release limit)."""
    rc = cli.main(["sweep", "component_roundtrip", str(ROOT / "findings/K1-untagged-object.bin"),
                   str(ROOT / "findings/K2-untagged-bool-int.bin"), "--versions",
                   "39.0.0,44.0.0,50.0.1", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1
    cells = {Path(i["file"]).name: i["cells"] for i in out["inputs"]}
    for v in ("44.0.0", "50.0.1"):
        assert cells["K1-untagged-object.bin"][v]["signature"] == "wasmtime-py-untagged|object"
        assert cells["K2-untagged-bool-int.bin"][v]["signature"] == "wasmtime-py-untagged|bool-int"
    for name in ("K1-untagged-object.bin", "K2-untagged-bool-int.bin"):
        assert cells[name]["39.0.0"]["status"] == "discarded"
    rc = cli.main(["sweep", "component_hostile",
                   str(ROOT / "findings/K13-wasmtime-py-nested-variant-classes.bin"),
                   "--versions", "43.0.0,44.0.0", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["inputs"][0]["first_showing"] == "43.0.0"
    assert out["inputs"][0]["first_fixed"] == "44.0.0"
    rc = cli.main(["sweep", "host_api_misuse", str(ROOT / "findings/K8-misuse-char-surrogate-abort.bin"),
                   "--versions", "39.0.0,50.0.1", "--json"])
    out = json.loads(capsys.readouterr().out)
    for v in ("39.0.0", "50.0.1"):
        assert out["inputs"][0]["cells"][v]["status"] == "abort"


def test_a_setting_a_release_lacks_is_an_unsupported_cell_not_a_fix():
    """An input discarded as `unsupported:…` (e.g. Winch before 45) is not "ok": its cell names
    why, and it neither starts nor ends a range of releases showing the bug."""
    lacks = Outcome("x", "discarded", detail="unsupported:strategy:winch")
    assert lacks.unsupported and lacks.cell() == "unsupported:strategy:winch"
    assert Outcome("x", "discarded", detail="release-limit:q").cell() == "ok"
    bug = Outcome("x", "finding", "check|detail")
    ok = Outcome("x", "ok")
    versions = ["43.0.0", "44.0.0", "45.0.0", "46.0.1"]
    result = SweepResult(versions, ["x"], dict(zip((("x", v) for v in versions),
                                                   (bug, lacks, bug, ok))))
    assert result.first_fixed("x") == "46.0.1"
