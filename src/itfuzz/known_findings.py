"""Real bugs already found, by exact finding signature.

`itfuzz fuzz` skips inputs whose finding is listed here (and counts them), so a long run goes on
finding other bugs; `itfuzz repro` still reports them, marked as known. Each entry's reproducer
lives in `findings/` and has an expected-failure test in `tests/test_known_findings.py`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Known:
    id: str
    signature: str
    target: str
    title: str
    reproducer: str  # path relative to the repository root


KNOWN = (
    Known("K1", "wasmtime-py-untagged|object", "component_roundtrip",
          "wasmtime-py: an untagged variant/option/result whose earlier case payload is itself an "
          "untagged option-like type (its classes include `object`) captures every later case: "
          "a valid value is rejected (ValueError: value not valid for this variant) or lowered "
          "as the wrong case",
          "findings/K1-untagged-object.bin"),
    Known("K2", "wasmtime-py-untagged|bool-int", "component_roundtrip",
          "wasmtime-py: in an untagged variant/result, a `bool` payload after an integer payload "
          "is lowered as the integer case (isinstance(True, int)), e.g. result<u32, bool> "
          "err(true) arrives as ok(1)",
          "findings/K2-untagged-bool-int.bin"),
    Known("K3", "wasmtime-py-untagged|bool-int+object", "component_roundtrip",
          "K1 and K2 in one signature (the rejected value may come from either)",
          "findings/K1-untagged-object.bin"),
)
BY_SIGNATURE = {k.signature: k for k in KNOWN}


def known(signature: str) -> Optional[Known]:
    return BY_SIGNATURE.get(signature)
