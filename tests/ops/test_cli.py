"""The `itfuzz` command line, in process (`itfuzz.cli.main([...])`), output captured."""
from __future__ import annotations

import subprocess
import sys

import pytest

from itfuzz import cli
from itfuzz.known_findings import KNOWN

TARGET = "component_roundtrip"


def run(capsys, *argv):
    """(exit status, stdout, stderr) of `itfuzz ARGV…`, however the CLI reports an error: a
    returned status or a SystemExit (with a message, which Python prints, as status 1)."""
    try:
        rc = cli.main(list(argv))
    except SystemExit as e:
        rc = e.code
        if isinstance(rc, str):
            sys.stderr.write(rc + "\n")
            rc = 1
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def corpus_file(repo_root):
    files = sorted(p for p in (repo_root / "corpus" / TARGET).iterdir() if p.stat().st_size > 20)
    return files[0]


def test_repro_known_finding_exits_1_with_report(capsys, repo_root):
    k = KNOWN[0]
    rc, out, err = run(capsys, "repro", TARGET, str(repo_root / k.reproducer))
    assert rc == 1, (out, err)
    assert f"FINDING {k.signature}" in out
    assert f"known finding {k.id}" in out
    for section in ("-- signature (WIT) --", "-- values --", "-- component (WAT) --"):
        assert section in out, section
    assert "f: func(" in out and "(component" in out and "x = " in out
    assert "Traceback" not in out + err


def test_repro_corpus_file_exits_0(capsys, corpus_file):
    rc, out, err = run(capsys, "repro", TARGET, str(corpus_file))
    assert rc == 0, (out, err)
    assert f"{corpus_file}: ok" in out
    assert "FINDING" not in out


def test_repro_several_files_reports_the_worst(capsys, repo_root, corpus_file):
    k = KNOWN[1]
    rc, out, _ = run(capsys, "repro", TARGET, str(corpus_file), str(repo_root / k.reproducer))
    assert rc == 1
    assert f"{corpus_file}: ok" in out and f"FINDING {k.signature}" in out


def test_show_prints_wit_calls_and_wat(capsys, corpus_file):
    rc, out, err = run(capsys, "show", TARGET, str(corpus_file))
    assert rc in (0, None)
    assert "-- signature (WIT) --" in out and "f: func(" in out
    assert "-- calls --" in out and "#0: f(" in out
    assert "-- component (WAT) --" in out and "(component" in out
    assert out.rstrip().endswith(")")


def test_show_decodes_empty_and_garbage_files(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage"
    garbage.write_bytes(bytes(range(256))[::-1] * 3 + b"\xff\x00garbage\xfe")
    for f in (empty, garbage):
        rc, out, err = run(capsys, "show", TARGET, str(f))
        assert rc in (0, None), err
        assert "f: func(" in out and "#0: f(" in out and "(component" in out


def test_repro_empty_file_runs(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    rc, out, err = run(capsys, "repro", TARGET, str(empty))
    assert rc == 0, (out, err)
    assert f"{empty}: ok" in out


@pytest.mark.parametrize("cmd", ["repro", "show"])
def test_missing_file_is_a_clear_error(capsys, tmp_path, cmd):
    missing = tmp_path / "nope.bin"
    rc, out, err = run(capsys, cmd, TARGET, str(missing))
    assert rc not in (0, None)
    assert f"{missing}: no such file" in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize("cmd", ["repro", "show"])
def test_directory_is_a_clear_error(capsys, tmp_path, cmd):
    rc, out, err = run(capsys, cmd, TARGET, str(tmp_path))
    assert rc not in (0, None)
    assert f"{tmp_path}: is a directory" in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize("cmd", ["repro", "show"])
def test_unknown_target_is_a_clear_error(capsys, corpus_file, cmd):
    rc, out, err = run(capsys, cmd, "no_such_target", str(corpus_file))
    assert rc not in (0, None)
    assert "unknown target 'no_such_target'" in err and TARGET in err
    assert "Traceback" not in out + err


def test_usage_errors():
    with pytest.raises(SystemExit) as e:
        cli.main([])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        cli.main(["repro", TARGET])  # no files
    assert e.value.code == 2


def test_errors_have_no_traceback_out_of_process(tmp_path, repo_root):
    env_path = str(repo_root / "src")
    import os
    env = dict(os.environ, PYTHONPATH=env_path)
    p = subprocess.run([sys.executable, "-m", "itfuzz.cli", "repro", TARGET,
                        str(tmp_path / "missing")], capture_output=True, text=True, env=env,
                       timeout=120)
    assert p.returncode != 0
    assert "no such file" in p.stderr
    assert "Traceback" not in p.stderr + p.stdout
