"""Traps of the Canonical ABI model: every `trap_if` of CanonicalABI.md that can fire while
lifting or lowering a value (sync, 32-bit memory) has one named reason.

Reason → the spec's `trap_if` (CanonicalABI.md, function names as in the spec):

- ``bad-discriminant``   `load_variant`, `lift_flat_variant`: ``case_index >= len(cases)``
- ``char-not-scalar``    `convert_i32_to_char`: ``i >= 0x110000`` or ``0xD800 <= i <= 0xDFFF``
- ``string-too-long``    `load_string_from_range`: ``byte_length > MAX_STRING_BYTE_LENGTH``
- ``string-misaligned``  `load_string_from_range`: ``ptr != align_to(ptr, alignment)``
- ``string-oob``         `load_string_from_range`: ``ptr + byte_length > len(memory)``
- ``utf8-invalid``       `load_string_from_range`: the UTF-8 ``decode`` fails (``trap()``)
- ``utf16-invalid``      `load_string_from_range`: the UTF-16LE ``decode`` fails (``trap()``)
- ``list-too-long``      `load_list_from_range`: ``length * elem_size > MAX_LIST_BYTE_LENGTH``
- ``list-misaligned``    `load_list_from_range`: ``ptr != align_to(ptr, alignment(elem))``
- ``list-oob``           `load_list_from_range`: ``ptr + length * elem_size > len(memory)``
- ``pointer-misaligned`` `lift_flat_values` (spilled params, returned result pointer) and
                         `lower_flat_values` with an out-param (retptr): ``ptr`` not aligned
                         to ``alignment(tuple_type)``
- ``pointer-oob``        the same two: ``ptr + elem_size(tuple_type) > len(memory)``
- ``realloc-misaligned`` after every `allocate`/`reallocate` in `store_string_*`,
                         `store_list_into_range` and `lower_flat_values`: the result is not a
                         multiple of the alignment argument (a no-op check where it is 1)
- ``realloc-oob``        the same call sites: ``ptr + new_size > len(memory)``
- ``realloc-trap``       not a `trap_if`: the guest's `realloc` itself trapped (e.g. the
                         model's `BumpRealloc` hitting `unreachable` when memory cannot grow)

There is no ``flags-bits`` reason: since commit 912d32b (2022-06-01, "Remove trapping checks
on unused lifted bytes") `unpack_flags_from_int` ignores undefined bits, and likewise bool,
narrow integers and the i64→i32 variant coercion no longer trap.
"""
from __future__ import annotations

REASONS = (
    "bad-discriminant", "char-not-scalar",
    "string-too-long", "string-misaligned", "string-oob", "utf8-invalid", "utf16-invalid",
    "list-too-long", "list-misaligned", "list-oob",
    "pointer-misaligned", "pointer-oob",
    "realloc-misaligned", "realloc-oob", "realloc-trap",
)


class Trap(Exception):
    """A Canonical ABI trap: `reason` is one of `REASONS`, `detail` says what was seen."""

    def __init__(self, reason: str, detail: str = "") -> None:
        assert reason in REASONS, reason
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
