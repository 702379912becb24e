"""`itfuzz repro` on real inputs: exit codes and report contents for planted findings, clear
errors for bad files, and the standalone `--script` reproducer (wasmtime only) failing the
same way as the known findings it reproduces."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import faults
import pytest

from itfuzz import cli, targets
from itfuzz.findings import Finding
from itfuzz.known_findings import KNOWN
from itfuzz.ops.run import run_one
from itfuzz.versions import release

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


# -- standalone reproducers of the other targets ----------------------------------------------

OLD_PYTHON = Path("/root/.cache/itfuzz/wasmtime-41.0.0/bin/python")  # an older release's venv


def run_script_with(python, path) -> subprocess.CompletedProcess:
    """`run_script` with another Python (an older release's virtualenv)."""
    code = ("import runpy, sys; sys.modules['itfuzz'] = None; "
            f"runpy.run_path({str(path)!r}, run_name='__main__')")
    return subprocess.run([str(python), "-I", "-c", code], capture_output=True, text=True,
                          timeout=120)


def write_script(capsys, tmp_path, target, data_path, *flags) -> tuple[int, Path]:
    """`itfuzz repro TARGET FILE --script OUT.py`: (repro's exit status, OUT.py)."""
    out_py = tmp_path / f"{target}-{Path(data_path).name}.py"
    rc, out, err = run(capsys, "repro", "-q", *flags, target, str(data_path), "--script",
                       str(out_py))
    assert f"wrote standalone reproducer {out_py}" in out, (out, err)
    text = out_py.read_text()
    assert "import itfuzz" not in text and "from itfuzz" not in text
    return rc, out_py


def fail_line(check: str, detail: str) -> str:
    """How the misuse and differential scripts name a finding: `FAIL[check] detail: …`."""
    return f"FAIL[{check}]" + (f" {detail}" if detail else "") + ": "


MISUSE = "host_api_misuse"


# Memory corruption that crashes the process only by allocation luck: tries of the script
# (K15's aborts in about 2 runs of 3 on 50.0.1, so 12 tries all pass with odds below 1e-5).
ALLOCATION_LUCK = {"K15": 12}


# K27, K28: resource misuse inputs, which get no script (tests/ops/test_resource_misuse_script.py)
@pytest.mark.parametrize("k", [k for k in KNOWN if k.target == MISUSE
                               and k.id not in ("K27", "K28")], ids=lambda k: k.id)
def test_misuse_script_fails_exactly_when_the_known_finding_shows(capsys, tmp_path, repo_root, k):
    """K4…K11, K15 and K23: the script names the oracle's finding (K8, K15 and K23 abort the
    process: that is the reproduction)."""
    rc, out_py = write_script(capsys, tmp_path, MISUSE, repo_root / k.reproducer)
    p = run_script(out_py)
    for _ in range(ALLOCATION_LUCK.get(k.id, 0)):  # an abort that needs the heap's luck
        if p.returncode < 0:
            break
        p = run_script(out_py)
    if k.fixed_on(release()):
        assert rc == 0 and p.returncode == 0, (p.stdout, p.stderr)
        assert "OK: the misuse was rejected" in p.stdout
    elif "misuse-abort|" in k.signature:  # misuse-abort, capi-misuse-abort (the C-level twin)
        assert rc == 1 and p.returncode < 0, (p.returncode, p.stdout, p.stderr[-2000:])
        assert "misuse:" in p.stdout  # the misuse call was under way
    else:
        assert rc == 1 and p.returncode == 1, (p.stdout, p.stderr)
        assert fail_line(*k.signature.split("|", 1)) in p.stdout, p.stdout


def test_misuse_script_of_clean_seeds_passes(capsys, tmp_path, repo_root):
    """One clean seed per misuse site (argument, host result, argument count)."""
    target = targets.get(MISUSE)
    seeds = {}
    for path in sorted((repo_root / "corpus" / MISUSE).iterdir()):
        case = target.decode(path.read_bytes())
        # the C-level twin's scripts: tests/ops/test_capi_script.py; resource misuse: none
        if case.lane == "py" and case.res is None:
            seeds.setdefault(case.where, path)
    assert set(seeds) == {"arg", "ret", "arity"}
    for where, path in sorted(seeds.items()):
        rc, out_py = write_script(capsys, tmp_path, MISUSE, path)
        assert rc == 0
        p = run_script(out_py)
        assert p.returncode == 0, (where, p.stdout, p.stderr)
        assert "OK: the misuse was rejected and a valid call completed" in p.stdout


STATIC = "component_static"


def largest_plain_static_seed(repo_root):
    """The largest component_static seed without resources, the host's or `gr` (resource
    scripts are tested in tests/ops/test_resource_scripts.py)."""
    target = targets.get(STATIC)
    return max((p for p in (repo_root / "corpus" / STATIC).iterdir()
                if not (target.decode(p.read_bytes()).sig.resources
                        or target.decode(p.read_bytes()).sig.guest)),
               key=lambda p: p.stat().st_size)


def test_static_script_of_a_clean_seed_passes(capsys, tmp_path, repo_root):
    rc, out_py = write_script(capsys, tmp_path, STATIC, largest_plain_static_seed(repo_root))
    assert rc == 0
    assert "typed values, generated converters" in out_py.read_text()
    p = run_script(out_py)
    assert p.returncode == 0 and p.stdout.startswith("OK:"), (p.stdout, p.stderr)


def static_known_finding_input() -> tuple[bytes, Finding]:
    """A component_static input that shows K1 or K2 (wasmtime-py's untagged variants), found by
    a seeded search over the cases whose types are ambiguous for wasmtime-py."""
    import random

    from itfuzz.engines.wasmtime_values import ambiguities
    from itfuzz.static.decode import decode_static_case, default_cases
    cases = default_cases()
    ambiguous = {i for i in range(len(cases)) if ambiguities(cases[i].sig.types())}
    target, rng = targets.get(STATIC), random.Random(1)
    wanted = {k.signature for k in KNOWN if k.id in ("K1", "K2")}
    for _ in range(5000):
        data = rng.randbytes(rng.choice((8, 40, 200)))
        if decode_static_case(data).case.index not in ambiguous:
            continue
        finding = run_one(target, data).finding
        if finding is not None and finding.signature in wanted:
            return data, finding
    pytest.fail("no static input shows K1 or K2 in 5000 tries")


def test_static_script_fails_the_same_way_as_a_known_finding(capsys, tmp_path):
    data, finding = static_known_finding_input()
    path = tmp_path / "k.bin"
    path.write_bytes(data)
    rc, out_py = write_script(capsys, tmp_path, STATIC, path)
    assert rc == 1
    p = run_script(out_py)
    assert p.returncode == 1, (p.stdout, p.stderr)
    checks = [check for phrase, check in SAME_WAY if finding.message.startswith(phrase)]
    assert checks and f"FAIL[{checks[0]}]" in p.stdout, (finding.message, p.stdout)


DIFFERENTIAL = "differential_spec"

# Every kind of state the differential oracle compares, and an instruction (i32.rem_s) that the
# spec interpreter can be made to compute wrongly (`plant_interpreter`), reaching each of them.
STATE_WAT = """
(module
  (import "env" "log" (func $log (param i32 f32)))
  (import "env" "mem" (memory 1))
  (import "env" "ig" (global $ig (mut i64)))
  (table $t (export "tab") 2 2 funcref)
  (global $g (export "g") (mut i32) (i32.const 5))
  (global $fg (export "fg") (mut f32) (f32.const -0))
  (export "mem" (memory 0))
  (elem (i32.const 0) func $rem)
  (func $rem (export "rem") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
  (func (export "store_rem") (param i32)
    (i32.store (i32.const 100) (i32.rem_s (local.get 0) (i32.const 7))))
  (func (export "set_rem") (param i32) (global.set $g (i32.rem_s (local.get 0) (i32.const 7))))
  (func (export "log_rem") (param i32)
    (call $log (i32.rem_s (local.get 0) (i32.const 7)) (f32.const -0)))
  (func (export "trap_rem") (param i32)
    (if (i32.eq (i32.rem_s (local.get 0) (i32.const 7)) (i32.const -2)) (then unreachable)))
  (func (export "bits") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))
  (func (export "same") (param f32 f64) (result f32 f64) (local.get 0) (local.get 1))
  (func (export "set_ig") (param i64) (global.set $ig (local.get 0)))
  (func (export "fill") (table.set $t (i32.const 1) (ref.func $rem)))
  (func (export "spin") (loop (br 0))))
"""


def state_case(engine: str, *calls: tuple, rem: bool = True):
    """A case of STATE_WAT: calls that pass raw bits and touch every kind of state, then (`rem`)
    the calls that use i32.rem_s, then `calls` ((name, *args), ints as i32)."""
    from itfuzz.generators.core_cases import CoreCall, CoreCase
    from itfuzz.generators.core_modules import module_info
    from itfuzz.spec import Value
    from itfuzz.spec.tools import wat2wasm
    wasm = wat2wasm(STATE_WAT)
    plain = (("bits", Value("f32", 0x7FA00000)),  # a signalling NaN: its payload must arrive
             ("same", Value("f32", 0xFFC00001), Value("f64", 1 << 63)),
             ("same", Value("f32", 0xFFBFFFFF), Value("f64", 0x7FF4000000000000)),
             ("set_ig", Value.i64(-1)), ("fill",))
    with_rem = (("rem", -23, 7), ("store_rem", -23), ("log_rem", -23)) if rem else ()
    return CoreCase("smith", b"", engine, wasm, module_info(wasm), tuple(
        CoreCall(name, tuple(Value.i32(a) if isinstance(a, int) else a for a in args))
        for name, *args in plain + with_rem + calls))


@pytest.mark.spec
@pytest.mark.parametrize("engine", ["cranelift", "winch", "pulley"])
def test_differential_script_of_a_clean_case_passes(tmp_path, engine):
    from itfuzz.ops.differential_script import differential_script
    from itfuzz.oracles.differential import DifferentialOracle
    case = state_case(engine)
    DifferentialOracle().run(case)  # clean
    out_py = tmp_path / "d.py"
    out_py.write_text(differential_script(case, None))
    p = run_script(out_py)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert f"OK: Wasmtime/{engine} agrees with the spec interpreter" in p.stdout
    assert "i32:2141192192" in p.stdout  # bits(0x7fa00000): the payload went through unchanged


@pytest.mark.spec
@pytest.mark.parametrize("call, check", [("rem", "diff-return"), ("trap_rem", "diff-outcome"),
                                         ("store_rem", "diff-export-memory"),
                                         ("set_rem", "diff-export-global"),
                                         ("log_rem", "diff-host-calls")])
def test_differential_script_fails_with_the_oracles_finding(tmp_path, call, check):
    """A planted interpreter fault (i32.rem_s off by one) reaches each compared kind of state;
    the script, whose reference results were computed with the fault, names the same finding."""
    from itfuzz.ops.differential_script import differential_script
    from itfuzz.oracles.differential import DifferentialOracle
    case = state_case("cranelift", (call, -23, 7) if call == "rem" else (call, -23), rem=False)
    with faults.plant_interpreter("i32.rem_s"):
        with pytest.raises(Finding) as e:
            DifferentialOracle().run(case)
        text = differential_script(case, e.value)
    assert e.value.check == check
    out_py = tmp_path / "d.py"
    out_py.write_text(text)
    p = run_script(out_py)
    assert p.returncode == 1, (p.stdout, p.stderr)
    check_, detail = e.value.signature.split("|", 1)
    assert fail_line(check_, detail) in p.stdout, (e.value.signature, p.stdout)


@pytest.mark.spec
def test_differential_script_stops_where_the_reference_gives_up(tmp_path):
    """The interpreter runs out of fuel on `spin`: the oracle discards the input, so the script
    checks the calls before it, then exits 0 without calling `spin` (it would never return)."""
    from itfuzz.ops.differential_script import differential_script
    case = state_case("cranelift", ("spin",), ("rem",))
    out_py = tmp_path / "d.py"
    out_py.write_text(differential_script(case, None))
    p = run_script(out_py)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "SKIP: the reference gives up at call #8" in p.stdout and '"spin"' not in p.stdout


@pytest.mark.spec
def test_differential_script_of_clean_seeds_passes(capsys, tmp_path, repo_root):
    """Through `itfuzz repro --script`, one seed per engine."""
    target = targets.get(DIFFERENTIAL)
    seeds = {}
    for path in sorted((repo_root / "corpus" / DIFFERENTIAL).iterdir()):
        case = target.decode(path.read_bytes())
        if case.wasm is not None and case.calls:
            seeds.setdefault(case.engine, path)
    assert set(seeds) == {"cranelift", "winch", "pulley"}
    for engine, path in sorted(seeds.items()):
        rc, out_py = write_script(capsys, tmp_path, DIFFERENTIAL, path)
        assert rc == 0
        p = run_script(out_py)
        assert p.returncode == 0, (engine, p.stdout, p.stderr)
        assert f"OK: Wasmtime/{engine} agrees" in p.stdout


@pytest.mark.spec
def test_differential_inputs_without_a_script_say_why(monkeypatch):
    from itfuzz.generators.core_cases import CoreCase
    from itfuzz.ops import reproducer
    from itfuzz.ops.differential_script import differential_script
    from itfuzz.oracles.differential import DifferentialOracle
    with pytest.raises(reproducer.Unsupported, match="has no module .*smith failed.*nothing to "
                                                     "reproduce"):
        differential_script(CoreCase("smith", b"", "cranelift", None, None, (),
                                     "smith failed"), None)

    def rejected(self, case):
        raise self.finding("spec-rejected", "ValidationError", "rejected", case, [])
    monkeypatch.setattr(DifferentialOracle, "_spec_side", rejected)
    with pytest.raises(reproducer.Unsupported, match="interpreter rejects this module "
                                                     r"\(spec-rejected\|ValidationError\)"):
        differential_script(state_case("cranelift"), None)


@pytest.mark.spec
@pytest.mark.skipif(not OLD_PYTHON.exists(), reason=f"no {OLD_PYTHON} (itfuzz --wasmtime 41.0.0 "
                                                    "makes it)")
def test_scripts_run_on_an_older_release(capsys, tmp_path, repo_root):
    """The scripts written here run on wasmtime-py 41.0.0: a misuse finding (K4) fails the same
    way, K8 aborts there too, clean static and differential (Pulley, set through the C API on
    releases whose Config has no `target`) cases pass."""
    from itfuzz.ops.differential_script import differential_script
    by_id = {k.id: k for k in KNOWN}
    _, k4 = write_script(capsys, tmp_path, MISUSE, repo_root / by_id["K4"].reproducer)
    p = run_script_with(OLD_PYTHON, k4)
    assert p.returncode == 1 and fail_line("misuse-accepted", "int-range") in p.stdout, p.stdout
    _, k8 = write_script(capsys, tmp_path, MISUSE, repo_root / by_id["K8"].reproducer)
    assert run_script_with(OLD_PYTHON, k8).returncode < 0
    _, static = write_script(capsys, tmp_path, STATIC, largest_plain_static_seed(repo_root))
    p = run_script_with(OLD_PYTHON, static)
    assert p.returncode == 0 and p.stdout.startswith("OK:"), (p.stdout, p.stderr)
    diff_py = tmp_path / "d.py"
    diff_py.write_text(differential_script(state_case("pulley"), None))
    p = run_script_with(OLD_PYTHON, diff_py)
    assert p.returncode == 0 and "OK: Wasmtime/pulley agrees" in p.stdout, (p.stdout, p.stderr)


def test_every_target_has_a_script_writer():
    from itfuzz.ops import reproducer
    assert set(reproducer.WRITERS) == set(targets.names())
