"""`repro --script` of resource inputs: standalone scripts that make the host's handles at run
time and check what the oracles check. Each runs in a child process with only wasmtime-py: clean
on the seeds (host resources, and the guest's gr in f's types), the known resource findings
(K24, K27; K25 on 49.0.0) reported, and every check shown to fire on a planted fault."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from faults import RESOURCE_SCRIPT_FAULTS, plant_component_text, plant_script

from itfuzz import targets
from itfuzz.engines.resource_misuse import MAGIC
from itfuzz.model.resources import GuestHandle
from itfuzz.model.types import walk
from itfuzz.ops import reproducer
from itfuzz.ops.reproducer import script
from itfuzz.ops.script_parts import Unsupported

ROOT = Path(__file__).resolve().parents[2]
FINDINGS = ROOT / "findings"


def run(text: str, tmp_path: Path, python: str = sys.executable) -> tuple[int, str]:
    """(exit status, stdout) of a script in a child process; the script imports no itfuzz."""
    assert not [line for line in text.splitlines()
                if line.lstrip().startswith(("import itfuzz", "from itfuzz"))]
    path = tmp_path / "repro.py"
    path.write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([python, "-I", str(path)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, env=env)
    return done.returncode, done.stdout + done.stderr


def seeds(target: str, keep) -> list[Path]:
    t = targets.get(target)
    return [p for p in sorted((ROOT / "corpus" / target).iterdir()) if keep(t.decode(p.read_bytes()))]


def write(target: str, path: Path) -> str:
    return script(targets.get(target), path.read_bytes(), None)


def _k22(sig) -> bool:
    """A map the host sees (single shape): wasmtime-py cannot call f (K22; the oracle runs such
    seeds on the C lane)."""
    return sig.shape == "single" and any(n.kind == "map" for t in sig.types() for n in walk(t))


ROUNDTRIP = seeds("component_roundtrip",
                  lambda c: bool(c.sig.resources) and not c.sig.guest and not _k22(c.sig))
GUEST_IN_F = seeds("component_roundtrip", lambda c: c.sig.guest)
MISUSE = seeds("host_api_misuse", lambda c: c.res is not None)


def first(pred) -> Path:
    t = targets.get("component_roundtrip")
    return next(p for p in ROUNDTRIP if pred(t.decode(p.read_bytes())))


def _has(case, what: str) -> bool:
    wit = case.sig.wit()
    return f"{what}<r0>" in wit.split("f: func(")[-1].split("->")[0]


def test_the_seeds_have_the_shapes_the_tests_need():
    t = targets.get("host_api_misuse")
    kinds = {(c.where, c.res.kind) for c in (t.decode(p.read_bytes()) for p in MISUSE)}
    assert len(ROUNDTRIP) >= 20 and len(kinds) >= 8


@pytest.mark.parametrize("path", ROUNDTRIP, ids=lambda p: p.name[:12])
def test_roundtrip_resource_seeds_run_clean(path, tmp_path):
    status, out = run(write("component_roundtrip", path), tmp_path)
    assert status == 0 and "OK:" in out, out[-2000:]


def _one_per_kind(paths):
    t = targets.get("host_api_misuse")
    picked: dict = {}
    for p in paths:
        c = t.decode(p.read_bytes())
        picked.setdefault((c.where, c.res.kind), p)
    return list(picked.values())


@pytest.mark.parametrize("path", _one_per_kind(MISUSE), ids=lambda p: p.name[:12])
def test_resource_misuse_seeds_run_clean(path, tmp_path):
    status, out = run(write("host_api_misuse", path), tmp_path)
    assert status == 0 and "OK: the misuse was rejected" in out, out[-2000:]


def test_static_resource_cases_run_clean(tmp_path):
    t = targets.get("component_static")
    done = 0
    for first_byte in range(0x72, 0x8f, 7):
        data = bytes([first_byte]) + bytes(range(40, 200))
        if not t.decode(data).sig.resources:
            continue
        status, out = run(script(t, data, None), tmp_path)
        assert status == 0 and "OK:" in out, out[-2000:]
        done += 1
    assert done >= 2


def test_static_gr_cases_run_clean(tmp_path):
    from itfuzz.static.decode import GUEST_FIRST
    t = targets.get("component_static")
    for first_byte in (GUEST_FIRST[0], GUEST_FIRST[-1]):
        data = bytes([first_byte]) + bytes(range(40, 200))
        assert t.decode(data).sig.guest
        status, out = run(script(t, data, None), tmp_path)
        assert status == 0 and "OK:" in out, out[-2000:]


# -- the guest's gr in f's types ----------------------------------------------------------------

@pytest.mark.parametrize("path", GUEST_IN_F, ids=lambda p: p.name[:12])
def test_gr_seeds_run_clean(path, tmp_path):
    status, out = run(write("component_roundtrip", path), tmp_path)
    assert status == 0 and "OK:" in out, out[-2000:]


def _top(kind: str, where: str = "param"):
    """A gr seed whose first parameter (or result) is `kind<gr>` itself."""
    def pick(c):
        t = c.sig.params[0][1] if where == "param" and c.sig.params else c.sig.result
        return type(t) is GuestHandle and t.kind == kind
    t = targets.get("component_roundtrip")
    return next(p for p in GUEST_IN_F if pick(t.decode(p.read_bytes())))


@pytest.mark.parametrize("old, new, where, check", [
    # f keeps the own it got: gr's destructor does not run during the call
    ("(call $gr_drop (local.get 0)) (local.get 1))", "(local.get 1))", "param",
     "FAIL[gr-dtor|in-call:count=less]"),
    # the destructor runs for another rep
    ("(global.set $sum (i32.add (global.get $sum) (local.get 0)))",
     "(global.set $sum (i32.add (global.get $sum) (i32.const 7)))", "param",
     "FAIL[gr-dtor|in-call:reps]"),
    # f hands g another rep than the own it got
    ("(local.set 1 (call $gr_rep (local.get 0)))",
     "(local.set 1 (i32.add (call $gr_rep (local.get 0)) (i32.const 1)))", "param",
     "FAIL[host-arg-mismatch]"),
    # the handle f returns names another rep than g returned
    ("(call $g) (call $gr_new)", "(call $g) (i32.add (i32.const 1)) (call $gr_new)", "result",
     "FAIL[result-mismatch]"),
])
def test_planted_gr_guest_faults_are_reported(monkeypatch, old, new, where, check, tmp_path):
    plant_component_text(monkeypatch, reproducer, lambda wat, sig: wat.replace(old, new))
    status, out = run(write("component_roundtrip", _top("own", where)), tmp_path)
    assert status == 1 and check in out, out[-2000:]


@pytest.mark.parametrize("fault, kind, check", [
    ("gr-own-kept", "own", "FAIL[gr-ownership|own:not-moved]"),
    ("gr-lender-rep", "borrow", "FAIL[gr-borrow|lender:rep]"),
    ("gr-drop-skipped", "borrow", "FAIL[gr-dtor|host-drop:count=less]"),
])
def test_planted_gr_host_faults_are_reported(fault, kind, check, tmp_path):
    text = write("component_roundtrip", _top(kind))
    status, out = run(plant_script(text, *RESOURCE_SCRIPT_FAULTS[fault]), tmp_path)
    assert status == 1 and check in out, out[-2000:]


# -- known findings -----------------------------------------------------------------------------

def test_k24_is_reported(tmp_path):
    status, out = run(write("component_roundtrip", FINDINGS / "K24-resource-drop-other-store.bin"),
                      tmp_path)
    assert status == 1 and "FAIL[guest-resource|other-store-drop]" in out, out[-2000:]


def test_k27_is_reported(tmp_path):
    status, out = run(write("host_api_misuse", FINDINGS / "K27-resource-other-store-argument.bin"),
                      tmp_path)
    assert status == 1 and "FAIL[misuse-accepted] other-store" in out, out[-2000:]


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("ITFUZZ_OFFLINE") == "1", reason="needs PyPI for 49.0.0")
def test_k25_is_reported_on_49_and_gone_on_50(tmp_path):
    from itfuzz.ops.releases import release_python
    text = write("component_roundtrip", FINDINGS / "K25-host-borrow-argument.bin")
    status, out = run(text, tmp_path, str(release_python("49.0.0")))
    assert status == 1 and "FAIL[call-error]" in out and "no current scope" in out, out[-2000:]
    status, out = run(text, tmp_path)
    assert status == 0, out[-2000:]


# -- planted faults -----------------------------------------------------------------------------

@pytest.mark.parametrize("fault, pick, check", [
    ("rep-flip", lambda c: _has(c, "own"), "FAIL[host-arg-mismatch]"),
    ("own-kept", lambda c: _has(c, "own"), "FAIL[resource-ownership|own:not-moved]"),
    ("borrow-kept", lambda c: _has(c, "borrow"), "FAIL[resource-borrow|outlived-call]"),
    ("dtor-twice", lambda c: c.sig.result is not None and "own<" in c.sig.result.wit(c.sig.names),
     "FAIL[resource-dtor|count=2]"),
])
def test_planted_host_faults_are_reported(fault, pick, check, tmp_path):
    text = write("component_roundtrip", first(pick))
    status, out = run(plant_script(text, *RESOURCE_SCRIPT_FAULTS[fault]), tmp_path)
    assert status == 1 and check in out, out[-2000:]


@pytest.mark.parametrize("old, new, pick, check", [
    ('(param i32) (call $drop_r0 (local.get 0))', '(param i32)',
     lambda c: c.sig.result is not None and "own<r0>" in c.sig.result.wit(c.sig.names),
     "FAIL[resource-dtor|count=0]"),
    ('(func (export "rep") (param i32) (result i32) (local.get 0))',
     '(func (export "rep") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))',
     lambda c: c.sig.shape == "single" and _has(c, "own"), "FAIL[guest-resource|rep]"),
])
def test_planted_guest_faults_are_reported(monkeypatch, old, new, pick, check, tmp_path):
    plant_component_text(monkeypatch, reproducer, lambda wat, sig: wat.replace(old, new))
    status, out = run(write("component_roundtrip", first(pick)), tmp_path)
    assert status == 1 and check in out, out[-2000:]


@pytest.mark.parametrize("where, kind", [("arg", "moved-own"), ("ret", "dropped"),
                                         ("ret", "moved-clone"), ("ret", "other-type")])
def test_accepting_a_bad_handle_is_reported(where, kind, tmp_path):
    t = targets.get("host_api_misuse")
    path = next(p for p in MISUSE if (lambda c: (c.where, c.res.kind))(t.decode(p.read_bytes()))
                == (where, kind))
    text = plant_script(write("host_api_misuse", path), *RESOURCE_SCRIPT_FAULTS["accept-bad"])
    status, out = run(text, tmp_path)
    assert status == 1 and f"FAIL[misuse-accepted] {kind}" in out, out[-2000:]


def test_other_misuse_inputs_still_get_plain_scripts():
    text = write("host_api_misuse", FINDINGS / "K4-misuse-int-range.bin")
    assert "ResourceHost" not in text and "RESOURCE_MISUSE = False" in text
    assert MAGIC not in (FINDINGS / "K4-misuse-int-range.bin").read_bytes()[:4]


def test_gr_handles_only_where_the_script_makes_them():
    """The round-trip script makes gr handles; a writer that does not (the misuse script's) is
    refused with the reason rather than writing a script that cannot run."""
    from itfuzz.ops.resource_script import handle_literals
    sig = targets.get("component_roundtrip").decode(GUEST_IN_F[0].read_bytes()).sig
    assert handle_literals(sig, guest=True)["params_in"]
    with pytest.raises(Unsupported, match="not of the guest's resource gr"):
        handle_literals(sig)


def test_a_consumed_handle_as_host_result_says_k28():
    """ret:moved-own is K28 (memory corruption that aborts only by allocation luck): its script
    says what to look for; other kinds' scripts do not."""
    import random
    t = targets.get("host_api_misuse")
    rng = random.Random(5)
    seen = set()
    while len(seen) < 2:
        data = MAGIC + bytes(rng.getrandbits(8) for _ in range(128))
        c = t.decode(data)
        if c.res is None or c.lane == "c" or c.where != "ret":
            continue
        k28 = c.res.kind == "moved-own"
        if k28 not in seen:
            seen.add(k28)
            assert ("K28:" in script(t, data, None)) == k28


def _misuse_inputs_per_kind() -> dict:
    """One resource misuse input per (site, kind), from a seeded search (the seeds lack the
    kinds that show K9 or K27, and stale borrows)."""
    import random
    t = targets.get("host_api_misuse")
    rng = random.Random(11)
    found: dict = {}
    for _ in range(3000):
        data = MAGIC + bytes(rng.getrandbits(8) for _ in range(rng.choice((32, 128))))
        c = t.decode(data)
        if c.res is not None and c.lane != "c":
            found.setdefault((c.where, c.res.kind), data)
    return found


MISUSE_KINDS = _misuse_inputs_per_kind()


@pytest.mark.parametrize("where, kind", sorted(k for k in MISUSE_KINDS
                                               if k != ("ret", "moved-own")))  # K28: predicted
def test_misuse_script_agrees_with_the_oracle(where, kind, tmp_path):
    """Every site and kind: the script fails exactly when the oracle has a finding, and with its
    check and detail (`FAIL[check] detail:`)."""
    from itfuzz.findings import Finding
    t = targets.get("host_api_misuse")
    data = MISUSE_KINDS[(where, kind)]
    try:
        t.execute(data)
        want = None
    except Finding as f:
        want = f
    status, out = run(script(t, data, None), tmp_path)
    if want is None:
        assert status == 0 and "OK:" in out, out[-2000:]
    else:
        assert status == 1 and f"FAIL[{want.check}] {want.detail}:" in out, (want.signature,
                                                                              out[-2000:])


def test_roundtrip_script_agrees_with_the_oracle(tmp_path):
    """Random inputs with host resources or gr in f, until 6 clean ones and 3 with a finding:
    the script fails exactly when the oracle (on the wasmtime-py lane, which the script uses)
    has a finding; a resource or gr check by its signature, a wasmtime-py ambiguity (K1/K2) by
    any failure, a reflection error (K22) by its error, another check by its name."""
    import random

    from itfuzz.findings import Finding
    from itfuzz.oracles.roundtrip import UNTAGGED
    t = targets.get("component_roundtrip")
    rng = random.Random(13)
    seen = {"ok": 0, "finding": 0}
    for _ in range(400):
        if seen["ok"] >= 6 and seen["finding"] >= 3:
            break
        first = rng.choice([*range(0x80, 0xa0), *range(0xa0, 0xbf, 2)])
        data = bytes([first]) + bytes(rng.getrandbits(8) for _ in range(128))
        if not (t.decode(data).sig.resources or t.decode(data).sig.guest):
            continue
        t.oracle.c_lane.force = "py"
        try:
            t.execute(data)
            want = None
        except Finding as f:
            want = f
        finally:
            t.oracle.c_lane.force = None
        kind = "ok" if want is None else "finding"
        if seen[kind] >= (6 if kind == "ok" else 3):
            continue
        seen[kind] += 1
        status, out = run(script(t, data, None), tmp_path)
        if want is None:
            assert status == 0 and "OK:" in out, out[-2000:]
        elif want.check == UNTAGGED:
            assert status == 1 and "FAIL[" in out, out[-2000:]
        elif want.check == "type-reflection":  # the script does not reflect: the call fails so
            assert status == 1 and want.detail.split(":", 1)[-1] in out, out[-2000:]
        else:
            check = (want.signature if "resource" in want.check or want.check.startswith("gr-")
                     else want.check)
            assert status == 1 and f"FAIL[{check}" in out, (want.signature, out[-2000:])
    assert seen == {"ok": 6, "finding": 3}
