"""Interpreter behaviours the testsuite does not pin down, found by differential testing."""
import pytest

from itfuzz import spec
from itfuzz.spec import Value
from itfuzz.spec.tools import wat2wasm

pytestmark = pytest.mark.spec

# Values pushed inside an `if` arm before a branch to a label must be dropped.
BRANCH_UNWIND = [
    "i64.const 5 i32.const 1 if i32.const 9 br 0 end",
    "i64.const 5 i32.const 0 if nop else i32.const 9 br 0 end",
    "i64.const 5 i32.const 1 if i32.const 9 i32.const 1 br_if 0 drop end",
    "i64.const 5 i32.const 1 if i32.const 9 i32.const 0 br_table 0 0 end",
    "i64.const 5 i32.const 1 if (result i64) i32.const 9 i64.const 7 br 0 else i64.const 6 end drop",
    "i64.const 5 i32.const 1 if i32.const 9 block i32.const 3 br 1 end drop end",
    "i64.const 5 block i32.const 9 i32.const 1 if i32.const 8 br 1 end drop end",
    "i64.const 5 loop (result i32) i32.const 9 i32.const 8 i32.const 0 br_if 0 drop end drop",
]


@pytest.mark.parametrize("body", BRANCH_UNWIND)
def test_branch_unwinds_operand_stack(body):
    inst = spec.instantiate(wat2wasm(f'(module (func (export "f") (result i64) {body}))'))
    assert inst.interpret("f") == [Value.i64(5)]
