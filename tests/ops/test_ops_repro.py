"""`itfuzz repro` on real inputs: exit codes and report contents for planted findings, clear
errors for bad files, and the standalone `--script` reproducer (wasmtime only) failing the
same way as the known findings it reproduces."""
from __future__ import annotations

import subprocess
import sys

import faults
import pytest

from itfuzz import cli, targets
from itfuzz.known_findings import KNOWN
from itfuzz.ops.run import run_one

TARGET = "component_roundtrip"


def run(capsys, *argv):
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def planted_files(monkeypatch, tmp_path):
    faults.plant_target(monkeypatch)
    files = {}
    for kind in ("string", "bool"):
        data = faults.planted_inputs(kind, 1)[0]
        files[kind] = tmp_path / f"{kind}.bin"
        files[kind].write_bytes(data)
    return files


def test_planted_finding_exits_1_with_full_report(capsys, planted_files):
    rc, out, err = run(capsys, "repro", "--in-process", faults.PLANTED, str(planted_files["string"]))
    assert rc == 1, (out, err)
    assert f"FINDING {faults.PLANTED_SIG_STRING}" in out
    for section in ("-- signature (WIT) --", "-- values --", "-- component (WAT) --"):
        assert section in out
    assert "string" in out and "(component" in out
    # the diff: what the host expected and what it got (the planted "!")
    assert "expected '" in out and "!'" in out


def test_same_inputs_are_clean_without_the_fault(planted_files):
    real = targets.get(TARGET)
    for path in planted_files.values():
        assert run_one(real, path.read_bytes()).signature is None


def test_exit_code_is_1_if_any_file_has_a_finding(capsys, planted_files, tmp_path):
    clean = tmp_path / "clean"
    clean.write_bytes(faults.planted_clean_input())
    rc, out, _ = run(capsys, "repro", "-q", "--in-process", faults.PLANTED, str(clean),
                     str(planted_files["bool"]))
    assert rc == 1
    assert f"{clean}: ok" in out and f"FINDING {faults.PLANTED_SIG_BOOL}" in out
    rc, out, _ = run(capsys, "repro", TARGET, str(clean))
    assert rc == 0
    assert "-- signature (WIT) --" in out and f"{clean}: ok" in out  # decoded case shown


def test_empty_and_garbage_files_run(capsys, tmp_path):
    empty, garbage = tmp_path / "empty", tmp_path / "garbage"
    empty.write_bytes(b"")
    garbage.write_bytes(bytes(range(255, -1, -1)) * 2)
    rc, out, err = run(capsys, "repro", "-q", TARGET, str(empty), str(garbage))
    assert rc == 0, (out, err)
    assert "empty: decodes to the default case" in out and f"{garbage}: ok" in out


@pytest.mark.parametrize("what", ["missing", "directory", "unreadable"])
def test_bad_file_is_a_clear_error(capsys, tmp_path, what):
    path = tmp_path / "x"
    if what == "directory":
        path.mkdir()
    elif what == "unreadable":
        path.write_bytes(b"x")
        path.chmod(0)
        if _readable(path):  # running as root: permissions do not apply
            pytest.skip("root can read mode-0 files")
    rc, out, err = run(capsys, "repro", TARGET, str(path))
    assert rc == 2
    assert str(path) in err and {"missing": "no such file", "directory": "is a directory",
                                 "unreadable": "cannot read"}[what] in err
    assert "Traceback" not in out + err


def _readable(path) -> bool:
    try:
        path.read_bytes()
        return True
    except OSError:
        return False


# -- standalone reproducer -----------------------------------------------------------------

# How the oracle's finding message and the script's FAIL[check] line name the same failure.
SAME_WAY = (("host saw a different argument", "host-arg-mismatch"),
            ("f returned a different value", "result-mismatch"),
            ("wasmtime-py rejected a valid value", "call-error"))


def run_script(path) -> subprocess.CompletedProcess:
    """Run a reproducer with this Python in isolated mode, itfuzz made unimportable."""
    code = ("import runpy, sys; sys.modules['itfuzz'] = None; "
            f"runpy.run_path({str(path)!r}, run_name='__main__')")
    return subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("k", [k for k in KNOWN if k.target == TARGET and
                               k.reproducer.startswith("findings/K")][:2], ids=lambda k: k.id)
def test_script_fails_the_same_way_as_a_known_finding(capsys, tmp_path, repo_root, k):
    data_path = repo_root / k.reproducer
    finding = run_one(targets.get(TARGET), data_path.read_bytes()).finding
    assert finding is not None and finding.signature == k.signature
    out_py = tmp_path / "repro.py"
    rc, out, _ = run(capsys, "repro", "-q", TARGET, str(data_path), "--script", str(out_py))
    assert rc == 1 and f"wrote standalone reproducer {out_py}" in out
    text = out_py.read_text()
    assert "import itfuzz" not in text and "from itfuzz" not in text
    p = run_script(out_py)
    assert p.returncode == 1, (p.stdout, p.stderr)
    checks = [check for phrase, check in SAME_WAY if finding.message.startswith(phrase)]
    assert checks and f"FAIL[{checks[0]}]" in p.stdout, (finding.message, p.stdout)
    if checks[0] == "call-error":  # the same exception text as the oracle saw
        assert finding.message.split(": ", 1)[1] in p.stdout


def test_script_of_a_clean_input_passes(capsys, tmp_path, repo_root):
    corpus = sorted((repo_root / "corpus" / TARGET).iterdir(), key=lambda p: -p.stat().st_size)
    out_py = tmp_path / "clean.py"
    rc, out, _ = run(capsys, "repro", "-q", TARGET, str(corpus[0]), "--script", str(out_py))
    assert rc == 0 and "the script should pass" in out
    p = run_script(out_py)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert p.stdout.startswith("OK:")


def test_script_needs_exactly_one_file_and_a_supported_target(capsys, tmp_path, monkeypatch):
    a = tmp_path / "a"
    a.write_bytes(b"")
    rc, _, err = run(capsys, "repro", TARGET, str(a), str(a), "--script", str(tmp_path / "s.py"))
    assert rc == 2 and "exactly one input" in err
    faults.plant_target(monkeypatch)
    rc, _, err = run(capsys, "repro", "--in-process", faults.PLANTED, str(a), "--script",
                     str(tmp_path / "s.py"))
    assert rc == 2 and "no standalone reproducer writer" in err
