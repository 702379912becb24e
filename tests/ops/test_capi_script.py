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
