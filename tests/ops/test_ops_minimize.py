"""`itfuzz minimize`: the result keeps the finding signature and is smaller (bytes and decoded
case); inputs without a finding are a clear error; libFuzzer's stage keeps the signature too."""
from __future__ import annotations

import faults
import pytest

from itfuzz import cli, targets
from itfuzz.known_findings import KNOWN
from itfuzz.ops.minimize import NotReproducible, case_size, minimize
from itfuzz.ops.run import run_one

TARGET = "component_roundtrip"


def test_structural_shrink_keeps_the_signature_and_shrinks():
    target = faults.planted_target()
    data = faults.planted_inputs("string", 1, min_len=300)[0]
    assert run_one(target, data).signature == faults.PLANTED_SIG_STRING
    m = minimize(target, data, max_execs=300)
    assert m.result.signature == faults.PLANTED_SIG_STRING
    assert run_one(faults.planted_target(), m.data).signature == faults.PLANTED_SIG_STRING  # fresh oracle
    assert len(m.data) < len(data) // 2
    assert case_size(target, m.data) < case_size(target, data) // 2
    case = target.decode(m.data)
    assert any(t.kind == "string" for _, t in case.sig.params)
    assert len(case.sig.params) <= len(target.decode(data).sig.params)
    # deterministic: the same input and budget give the same result
    assert minimize(faults.planted_target(), data, max_execs=300).data == m.data


def test_shrink_does_not_switch_to_another_finding():
    """A bool-and-string input: shrinking must keep the bool fault even though dropping the
    bool param would leave the (other) string finding."""
    target = faults.planted_target()
    data = next(d for d in faults.planted_inputs("bool", 8, seed=3, both=True)
                if run_one(target, d).signature == faults.PLANTED_SIG_BOOL)
    assert {"bool", "string"} <= {t.kind for _, t in target.decode(data).sig.params}
    m = minimize(target, data, max_execs=150)
    assert m.result.signature == faults.PLANTED_SIG_BOOL


def test_cli_minimize_writes_and_prints_the_smallest_reproducer(capsys, monkeypatch, tmp_path):
    faults.plant_target(monkeypatch)
    src = tmp_path / "crash"
    src.write_bytes(faults.planted_inputs("bool", 1, min_len=150)[0])
    out = tmp_path / "small"
    rc = cli.main(["minimize", faults.PLANTED, str(src), "-o", str(out), "--libfuzzer-seconds", "0",
                   "--max-execs", "200"])
    text = capsys.readouterr().out
    assert rc == 0
    small = out.read_bytes()
    assert len(small) < src.stat().st_size
    assert f"signature {faults.PLANTED_SIG_BOOL} kept" in text
    assert f"smallest reproducer: {out} ({len(small)} bytes, hex {small.hex()})" in text
    assert "FINDING [" in text and "-- component (WAT) --" in text


@pytest.mark.parametrize("content", [b"", b"garbage \x00\xff" * 20], ids=["empty", "garbage"])
def test_input_without_finding_is_a_clear_error(capsys, tmp_path, content):
    f = tmp_path / "f"
    f.write_bytes(content)
    with pytest.raises(NotReproducible):
        minimize(targets.get(TARGET), content)
    rc = cli.main(["minimize", TARGET, str(f), "--libfuzzer-seconds", "0"])
    err = capsys.readouterr().err
    assert rc == 2 and "nothing to minimize: no finding (outcome: ok)" in err
    assert not (tmp_path / "f.min").exists()


def test_missing_file(capsys, tmp_path):
    rc = cli.main(["minimize", TARGET, str(tmp_path / "nope")])
    assert rc == 2 and "no such file" in capsys.readouterr().err


@pytest.mark.slow
def test_libfuzzer_stage_keeps_the_known_signature(repo_root):
    k = next(k for k in KNOWN if k.id == "K2")
    data = (repo_root / k.reproducer).read_bytes()
    m = minimize(targets.get(TARGET), data, target_name=TARGET, root=repo_root,
                 libfuzzer_seconds=12, max_execs=100)
    assert m.stages[0].startswith("libFuzzer -minimize_crash: ")
    assert "another signature" not in m.stages[0] and "no result" not in m.stages[0]
    assert m.result.signature == k.signature
    assert len(m.data) <= len(data)
