"""Exceptions raised by the spec interpreter."""

# Reference-interpreter trap message prefixes and their stable short names.
TRAP_KINDS = (
    ("unreachable", "unreachable"),
    ("integer divide by zero", "div_by_zero"),
    ("integer overflow", "int_overflow"),
    ("invalid conversion to integer", "bad_conversion"),
    ("out of bounds memory access", "oob_memory"),
    ("out of bounds table access", "oob_table"),
    ("undefined element", "undefined_element"),
    ("uninitialized element", "uninitialized_element"),
    ("indirect call type mismatch", "indirect_type_mismatch"),
)


class SpecError(Exception):
    """Base class; ``message`` is the interpreter's text."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DecodeError(SpecError):
    """The binary is malformed."""


class ValidationError(SpecError):
    """The module does not validate."""


class LinkError(SpecError):
    """An import is missing or has the wrong type."""


class Trap(SpecError):
    """Execution trapped; ``kind`` is a short stable name (see TRAP_KINDS, plus ``host``)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"

    @classmethod
    def from_message(cls, message: str) -> "Trap":
        kind = next((k for prefix, k in TRAP_KINDS if message.startswith(prefix)), "other")
        return cls(kind, message)


class Exhaustion(SpecError):
    """Call stack or fuel exhausted."""


class InternalError(SpecError):
    """A bug in the interpreter or its binding."""
