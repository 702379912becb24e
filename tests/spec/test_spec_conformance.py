"""The conformance runner on the shared WebAssembly 2.0 testsuite (skipped when absent)."""
from pathlib import Path

import pytest

from itfuzz.ops import spec_test

pytestmark = [pytest.mark.spec, pytest.mark.slow]

TESTSUITE = Path(__file__).resolve().parents[2].parent / "shared" / "testsuite"


@pytest.mark.skipif(not TESTSUITE.is_dir(), reason=f"{TESTSUITE} does not exist")
def test_testsuite_pass_rate(capsys):
    code = spec_test.main([str(TESTSUITE), "--fail-under", "99"])
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    assert " passed, " in out.splitlines()[-2]


def test_runner_on_own_script(tmp_path):
    wast = tmp_path / "mini.wast"
    wast.write_text("""
(module $m
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "nan") (result f32) f32.const nan)
  (func (export "div") (param i32) (result i32) i32.const 1 local.get 0 i32.div_u))
(register "m" $m)
(module (import "m" "add" (func $add (param i32 i32) (result i32)))
  (func (export "inc") (param i32) (result i32) local.get 0 i32.const 1 call $add))
(assert_return (invoke "inc" (i32.const -1)) (i32.const 0))
(assert_return (invoke $m "nan") (f32.const nan:canonical))
(assert_return (invoke $m "add" (i32.const 1) (i32.const 1)) (i32.const 3))
(assert_trap (invoke $m "div" (i32.const 0)) "integer divide by zero")
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_malformed (module binary "\\00asm\\02") "unexpected end")
(assert_malformed (module quote "(func") "unexpected token")
(assert_unlinkable (module (import "m" "nope" (func))) "unknown import")
""")
    assert spec_test.main([str(wast), "--fail-under", "60"]) == 0
    assert spec_test.main([str(wast)]) == 1  # one deliberate wrong expectation
