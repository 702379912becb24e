"""Standalone reproducers of C-level misuse cases (`ops/capi_script.py`): they build the same
invalid C values with wasmtime-py's ctypes bindings, pass when Wasmtime rejects them, fail when
it accepts one, and abort where the C API does (K23)."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from itfuzz.engines.capi.encoding import encode
from itfuzz.engines.capi.invalid import CMisuse
from itfuzz.engines.invalid_values import MisuseCase, decode_misuse
from itfuzz.model.case import Call, Signature
from itfuzz.model.types import Enum
from itfuzz.ops.capi_script import capi_misuse_script
from itfuzz.oracles.capi_misuse import PREDICTED_ABORTS
from itfuzz.versions import release

K23 = Path(__file__).resolve().parents[2] / "findings" / "K23-capi-non-utf8-string-abort.bin"


def _run(script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "repro.py"
    path.write_text(script)
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          timeout=120)


def _cases(n: int):
    """The first `n` generated C-level misuse cases of distinct kinds and sites that run."""
    seen, out = set(), []
    for i in range(3000):
        case = decode_misuse(hashlib.sha256(b"s%d" % i).digest() * 4)
        if case.lane != "c" or case.c_misuse.kind in PREDICTED_ABORTS:
            continue
        key = (case.c_misuse.kind, case.c_misuse.where)
        if key not in seen:
            seen.add(key)
            out.append(case)
        if len(out) == n:
            break
    return out


def test_scripts_of_rejected_misuses_pass(tmp_path):
    cases = _cases(14)
    assert len({c.c_misuse.kind for c in cases}) >= 5
    for case in cases:
        done = _run(capi_misuse_script(case, None), tmp_path)
        assert done.returncode == 0 and "OK: the C API returned an error" in done.stdout, (
            case.describe(), done.stdout, done.stderr[-2000:])


def test_the_script_of_an_accepted_value_fails(tmp_path):
    """Plant: the 'invalid' host result is a valid enum name."""
    t = Enum(("a", "b"))
    sig = Signature((("x", t),), t, echo=True, count_post_return=True)
    cm = CMisuse("unknown-case", "ret", 0, encode(t, "a"), 1, encode(t, "b"), 1, b"", "enum")
    case = MisuseCase(sig, Call(("a",), "a"), "ret", 0, None, lane="c", c_misuse=cm)
    done = _run(capi_misuse_script(case, None), tmp_path)
    assert done.returncode == 1 and "FAIL[capi-misuse-accepted|unknown-case]" in done.stdout


def test_the_k23_script_aborts_where_wasmtime_does(tmp_path):
    if release() >= (51, 0, 0):
        pytest.skip("K23 is fixed in 51.0.0")
    done = _run(capi_misuse_script(decode_misuse(K23.read_bytes()), None), tmp_path)
    assert done.returncode != 0 and "val.rs" in done.stderr


def _echo_lists():
    from itfuzz.model.case import TestCase
    from itfuzz.model.types import PRIMS, List
    t = List(PRIMS["u32"])
    sig = Signature((("x", t),), t, echo=True, count_post_return=True)
    return TestCase(sig, tuple(Call((v,), v) for v in ([1, 2, 3], [], [7, 8])), lane="c")


def test_round_trip_script_passes_on_a_clean_case(tmp_path):
    from itfuzz.ops.capi_script import capi_roundtrip_script
    done = _run(capi_roundtrip_script(_echo_lists(), None), tmp_path)
    assert done.returncode == 0 and "OK: 3 call(s)" in done.stdout, (done.stdout, done.stderr)


@pytest.mark.parametrize("old,new,check", [
    ("(local.get 0) (local.get 1) (i32.const 16) (call $g)",
     "(local.get 0) (i32.sub (local.get 1) (i32.const 1)) (i32.const 16) (call $g)",
     "FAIL[host-arg-mismatch]"),
    ("(i32.add (global.get $count) (i32.const 1))", "(global.get $count)",
     "FAIL[post-return-count] post-return-count"),
])
def test_round_trip_script_fails_on_a_planted_guest_bug(tmp_path, old, new, check):
    from itfuzz.generators.components import component_text
    from itfuzz.ops.capi_script import capi_roundtrip_script
    case = _echo_lists()
    wat = component_text(case.sig)
    assert old in wat
    done = _run(capi_roundtrip_script(case, None, wat=wat.replace(old, new)), tmp_path)
    assert done.returncode == 1 and check in done.stdout, (done.stdout, done.stderr)


def test_c_lane_findings_get_the_c_api_script():
    from itfuzz.findings import Finding
    from itfuzz.ops.reproducer import roundtrip_script
    case = _echo_lists()
    f = Finding("result-mismatch", "u32:value:int->int", "planted", target="component_roundtrip",
                engine="wasmtime 50.0.1, C-API lane")
    assert "wasmtime_component_func_call" in roundtrip_script(case, f)
    f.engine = "wasmtime 50.0.1"
    assert "wasmtime_component_func_call" not in roundtrip_script(case, f)


def test_c_lane_resource_findings_get_no_script():
    """A resource case's checks need the host's resource definitions: refused, not a wrong
    script."""
    import pytest

    from itfuzz.findings import Finding
    from itfuzz.model.case import Call, Signature
    from itfuzz.model.case import TestCase as Case
    from itfuzz.model.resources import GuestHandle, Handle, Res
    from itfuzz.ops.reproducer import roundtrip_script
    from itfuzz.ops.script_parts import Unsupported
    for own in (Handle(0, True), GuestHandle(True)):  # a host resource, the guest's gr
        case = Case(Signature((("x", own),), own, echo=True), (Call((Res(1),), Res(1)),),
                    lane="c")
        f = Finding("resource-ownership", "own:not-moved", "planted",
                    target="component_roundtrip", engine="wasmtime 50.0.1, C-API lane")
        with pytest.raises(Unsupported):
            roundtrip_script(case, f)
