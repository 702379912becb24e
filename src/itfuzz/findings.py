"""Findings: the one exception an oracle raises, its readable report and its stable signature.

The signature (`check|detail`) names what went wrong without the values, so triage can group
findings and a long run can skip the known ones (`known_findings.py`).
"""
from __future__ import annotations

from typing import Any


class Finding(Exception):
    """An oracle check failed. `signature` groups it; `report()` tells a person what happened."""

    def __init__(self, check: str, detail: str, message: str, *, target: str = "",
                 wit: str = "", wat: str = "", values: str = "", engine: str = "",
                 config: str = "") -> None:
        super().__init__(f"{check}: {message}")
        self.check = check
        self.detail = detail
        self.message = message
        self.target = target
        self.wit = wit
        self.wat = wat
        self.values = values
        self.engine = engine
        self.config = config  # the engine configuration's short form ("" for the default)

    @property
    def signature(self) -> str:
        return f"{self.check}|{self.detail}"

    def report(self, with_wat: bool = True) -> str:
        parts = [f"FINDING [{self.signature}] in target {self.target or '?'}"
                 + (f" on {self.engine}" if self.engine else ""),
                 f"what: {self.message}"]
        if self.config:
            parts.append(f"engine configuration: {self.config}")
        if self.wit:
            parts += ["-- signature (WIT) --", self.wit]
        if self.values:
            parts += ["-- values --", self.values]
        if with_wat and self.wat:
            kind = "component" if self.wat.lstrip().startswith("(component") else "module"
            parts += [f"-- {kind} (WAT) --", self.wat]
        return "\n".join(parts)


class Discard(Exception):
    """A legitimately non-deterministic outcome (stack exhaustion, OOM): not a finding."""


def short(v: Any, limit: int = 300) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


def first_line(e: BaseException, limit: int = 200) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:limit]


def root_cause(e: BaseException) -> str:
    """The innermost cause of a Wasmtime error's chain (the last line under anyhow's `Caused
    by:`, without its `N: ` number), or "" when the error has no chain."""
    import re
    text = str(e)
    if "\nCaused by:" not in text:
        return ""
    causes = [line.strip() for line in text.split("\nCaused by:", 1)[1].splitlines()]
    causes = [c for c in causes if c]
    return re.sub(r"^\d+: ", "", causes[-1]) if causes else ""


def normalize_error(text: str) -> str | None:
    """A value-free class of an error message, for signatures (digits and quotes dropped)."""
    import re
    text = re.sub(r"0x[0-9a-fA-F]+|\d+", "N", text)
    return re.sub(r"'[^']*'|\"[^\"]*\"", "S", text)[:120]
