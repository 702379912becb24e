"""The lifting/lowering context (CanonicalABI.md §Lifting and Lowering Context): what the
canonical options give a lift or lower — `memory`, `string-encoding` and `realloc`."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from itfuzz.abi.errors import Trap

ENCODINGS = ("utf8", "utf16", "latin1+utf16")
PAGE_SIZE = 65536
U32_MASK = 0xFFFFFFFF


@dataclass(frozen=True)
class ReallocCall:
    """One call of the guest's `realloc(old_ptr, old_size, align, new_size)` and its answer."""

    old_ptr: int
    old_size: int
    align: int
    new_size: int
    result: int


class Context:
    """What the canonical options give a lift/lower: memory (a bytearray, mutated by stores),
    string_encoding ('utf8' | 'utf16' | 'latin1+utf16'), and realloc.

    `realloc` gets (old_ptr, old_size, align, new_size) and returns the new pointer; it may grow
    `memory` in place (the model reads ``len(memory)`` after every call) and may raise `Trap`
    to stand for a guest trap. With `keep_string_hints`, loads return strings as
    `strings.String` (text plus the spec's hint), which stores then transcode from.
    """

    __slots__ = ("memory", "string_encoding", "realloc", "realloc_log", "keep_string_hints")

    def __init__(self, memory: bytearray, string_encoding: str = "utf8",
                 realloc: Callable[[int, int, int, int], int] | None = None,
                 keep_string_hints: bool = False) -> None:
        if string_encoding not in ENCODINGS:
            raise ValueError(f"unknown string encoding {string_encoding!r}")
        self.memory = memory
        self.string_encoding = string_encoding
        self.realloc = realloc
        self.realloc_log: list[ReallocCall] = []
        self.keep_string_hints = keep_string_hints

    def call_realloc(self, old_ptr: int, old_size: int, align: int, new_size: int) -> int:
        """The spec's `reallocate`, followed by the two checks every call site makes on its
        result: ``trap_if(ptr != align_to(ptr, align))`` (realloc-misaligned) and
        ``trap_if(ptr + new_size > len(memory))`` (realloc-oob). The result is read as a u32.
        Completed calls are logged in `realloc_log` before the checks."""
        if self.realloc is None:
            raise ValueError("lowering needs the realloc canonopt (validation rejects this)")
        ptr = self.realloc(old_ptr, old_size, align, new_size) & U32_MASK
        self.realloc_log.append(ReallocCall(old_ptr, old_size, align, new_size, ptr))
        if ptr % align:
            raise Trap("realloc-misaligned", f"realloc({old_ptr}, {old_size}, {align}, {new_size}) "
                       f"returned {ptr:#x}, not a multiple of {align}")
        if ptr + new_size > len(self.memory):
            raise Trap("realloc-oob", f"realloc({old_ptr}, {old_size}, {align}, {new_size}) "
                       f"returned {ptr:#x}; end {ptr + new_size:#x} > memory size {len(self.memory):#x}")
        return ptr

    def allocate(self, align: int, byte_length: int) -> int:
        """The spec's `allocate`: ``reallocate(0, 0, align, byte_length)``."""
        return self.call_realloc(0, 0, align, byte_length)


class BumpRealloc:
    """The `realloc` of our generated `libc` core module, in Python: shrinking (old != 0 and
    new_size <= old_size) keeps the block; otherwise a fresh block at the aligned top, memory
    grown by whole pages (`realloc-trap` when it cannot), and the old contents copied."""

    def __init__(self, memory: bytearray, top: int, max_pages: int = PAGE_SIZE) -> None:
        self.memory = memory
        self.top = top
        self.max_bytes = max_pages * PAGE_SIZE

    def __call__(self, old_ptr: int, old_size: int, align: int, new_size: int) -> int:
        if old_ptr and new_size <= old_size:
            return old_ptr
        p = (self.top + align - 1) & -align
        end = p + new_size
        if end > U32_MASK or end > self.max_bytes:
            raise Trap("realloc-trap", f"bump allocator out of memory at {end:#x}")
        self.top = end
        mem = self.memory
        if end > len(mem):
            mem.extend(bytes(-(-end // PAGE_SIZE) * PAGE_SIZE - len(mem)))
        if old_ptr:
            if old_ptr + old_size > len(mem):
                raise Trap("realloc-trap", f"memory.copy from {old_ptr:#x}+{old_size} out of bounds")
            mem[p:p + old_size] = mem[old_ptr:old_ptr + old_size]
        return p
