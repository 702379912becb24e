"""The host-API misuse target's C-level twin: invalid C values are rejected, an accepted one is
reported, the known aborts are predicted (and are real aborts, in a child process)."""
from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path

import pytest

from itfuzz.engines.capi.encoding import encode
from itfuzz.engines.capi.invalid import CMisuse
from itfuzz.engines.invalid_values import MisuseCase, decode_misuse
from itfuzz.findings import Finding
from itfuzz.model.case import Call, Signature
from itfuzz.model.types import Enum
from itfuzz.oracles.misuse import MisuseOracle

K23 = Path(__file__).resolve().parents[2] / "findings" / "K23-capi-non-utf8-string-abort.bin"
ENUM = Enum(("a", "b"))
SIG = Signature((("x", ENUM),), ENUM, echo=True, count_post_return=True)


def _case(cm: CMisuse) -> MisuseCase:
    return MisuseCase(SIG, Call(("a",), "a"), "arg", 0, None, lane="c", c_misuse=cm)


def test_generated_c_misuses_are_rejected_or_predicted():
    o = MisuseOracle(cache_size=16)
    seen: Counter = Counter()
    for i in range(400):
        case = decode_misuse(hashlib.sha256(str(i).encode()).digest() * 3)
        if case.lane != "c":
            continue
        try:
            o.run(case)
            seen["rejected"] += 1
        except Finding as f:
            assert f.check == "capi-misuse-abort" and "C-API lane" in f.engine, f.report()
            seen[f.signature] += 1
    assert seen["rejected"] > 20 and o.stats["lanes"]["c"] > 20, seen


@pytest.mark.parametrize("where", ["arg", "ret"])
def test_a_valid_value_posing_as_invalid_is_reported_accepted(where):
    """Plant: the 'invalid' node is a valid enum name, so Wasmtime accepts it."""
    valid = encode(ENUM, "b")
    cm = (CMisuse("unknown-case", "arg", 0, valid, 1, valid, 1, valid, "enum") if where == "arg"
          else CMisuse("unknown-case", "ret", 0, encode(ENUM, "a"), 1, valid, 1, valid, "enum"))
    with pytest.raises(Finding) as e:
        MisuseOracle(cache_size=4).run(_case(cm))
    assert e.value.signature == "capi-misuse-accepted|unknown-case"
    assert ("the host ran" if where == "arg" else "f completed") in e.value.message


def test_a_truly_invalid_name_is_rejected():
    bad = bytes((17,)) + (10).to_bytes(4, "little") + b"zz-unknown"
    MisuseOracle(cache_size=4).run(_case(CMisuse("unknown-case", "arg", 0, bad, 1,
                                                 encode(ENUM, "a"), 1, bad, "enum")))


def test_a_wrong_argument_count_is_rejected():
    args = encode(ENUM, "a") + b"\0\0"
    MisuseOracle(cache_size=4).run(_case(CMisuse("arg-extra", "arity", 0, args, 2,
                                                 encode(ENUM, "a"), 1, b"\0\0", "bool")))


def test_the_predicted_abort_is_a_real_one_in_a_child_process():
    from itfuzz.ops.isolate import run_isolated
    from itfuzz.versions import release
    if release() >= (51, 0, 0):
        pytest.skip("K23 is fixed in 51.0.0")
    env = dict(os.environ, ITFUZZ_MISUSE_RUN_ABORTS="1")
    (out,) = run_isolated("host_api_misuse", [str(K23)], env=env)
    assert out.status == "abort" and "val.rs" in (out.signature or ""), out
