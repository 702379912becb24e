"""The one list of machine-dependent outcomes: stack exhaustion, memory and resource limits.

An outcome that depends on the machine (stack depth, memory, executable mappings), not on the
input, is discarded by every oracle and never reported as a finding.
"""
from __future__ import annotations

MACHINE_DEPENDENT = (
    "call stack exhausted", "stack overflow", "maximum recursion depth", "RecursionError",
    "out of memory", "memory allocation failed", "Cannot allocate memory",
    "unable to make memory executable", "insufficient resources", "resource limit",
    # Wasmtime's instantiation limits ("memory minimum size of N pages exceeds memory limits")
    "exceeds memory limits", "exceeds table limits",
)


def is_nondeterministic(outcome: BaseException | str) -> bool:
    """True when an error (or its text) depends on the machine rather than on the input."""
    if isinstance(outcome, (RecursionError, MemoryError)):
        return True
    text = outcome if isinstance(outcome, str) else f"{type(outcome).__name__}: {outcome}"
    return any(m in text for m in MACHINE_DEPENDENT)
