"""oracles/compile: what a rejected component's finding is called. A parse failure's first line
is the same for every rule, so the finding names the root cause too (K29 apart from others)."""
from __future__ import annotations

import pytest
import wasmtime

from itfuzz.findings import Finding, root_cause
from itfuzz.oracles.compile import compile_checked, rejection

BYTE_PAGES = """(component
  (core module $m (memory (export "mem") 1 (pagesize 1)) (func (export "f") (result i32) i32.const 0))
  (core instance $i (instantiate $m))
  (func (export "f") (result string) (canon lift (core func $i "f") (memory (core memory $i "mem")))))"""
K26_SHAPE = ("failed to compile: wasm[4]::function[8]\n\nCaused by:\n    0: WebAssembly translation "
             "error\n    1: Invalid input WebAssembly code at offset 300: type mismatch\n")


def compile_finding(text: str) -> Finding:
    with pytest.raises(Finding) as e:
        compile_checked(wasmtime.Engine(), text, {}, lambda c, d, m: Finding(c, d, m))
    return e.value


def test_a_parse_failure_is_named_by_its_root_cause():
    """The default engine refuses byte pages: a real parse failure, named by its cause."""
    f = compile_finding(BYTE_PAGES)
    assert f.signature.startswith("compile|failed to parse WebAssembly module: the custom page "
                                  "sizes proposal must be enabled"), f.signature
    assert "(at offset 0x" in f.message  # the message keeps the values


def test_different_parse_failures_are_different_findings():
    other = compile_finding(BYTE_PAGES.replace("(pagesize 1)", "").replace(
        ' (memory (core memory $i "mem"))', ""))  # a string result without a memory option
    assert "canonical option `memory` is required" in other.signature
    assert other.signature != compile_finding(BYTE_PAGES).signature
    assert other.signature.startswith("compile|failed to parse WebAssembly module: ")


def test_a_first_line_that_says_what_failed_stays_alone():
    """K26's shape (a function that failed to compile): the first line is the finding."""
    e = wasmtime.WasmtimeError(K26_SHAPE)
    assert root_cause(e) == "Invalid input WebAssembly code at offset 300: type mismatch"
    assert rejection(e) == "failed to compile: wasm[4]::function[8]"
    assert root_cause(wasmtime.WasmtimeError("no chain here")) == ""
