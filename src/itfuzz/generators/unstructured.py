"""Unstructured: turns raw fuzzer bytes into choices, like Rust's `arbitrary::Unstructured`.

Integers come from the front of the data, lengths (`arbitrary_len`) from the back, and running
out of bytes yields zeros / the low end of a range instead of failing, so every input decodes.
"""
from __future__ import annotations

import builtins
import struct


class Unstructured:
    """A cursor over fuzzer bytes; every method is total and deterministic."""

    __slots__ = ("data", "front", "back")

    def __init__(self, data: bytes) -> None:
        self.data = bytes(data)
        self.front = 0
        self.back = len(self.data)

    def __len__(self) -> int:
        return self.back - self.front

    def is_empty(self) -> bool:
        return self.back <= self.front

    def take(self, n: int) -> bytes:
        """Up to `n` bytes from the front (fewer when the data runs out)."""
        n = max(0, min(n, len(self)))
        out = self.data[self.front:self.front + n]
        self.front += n
        return out

    def int_in_range(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi], reading only as many front bytes as the range needs."""
        if hi <= lo:
            return lo
        span = hi - lo
        result = 0
        shift = 0
        while (span >> shift) > 0 and self.front < self.back:
            result = (result << 8) | self.data[self.front]
            self.front += 1
            shift += 8
        return lo + result % (span + 1)

    def _le(self, n: int) -> int:
        return int.from_bytes(self.take(n).ljust(n, b"\0"), "little")

    def u8(self) -> int:
        return self._le(1)

    def u16(self) -> int:
        return self._le(2)

    def u32(self) -> int:
        return self._le(4)

    def u64(self) -> int:
        return self._le(8)

    def bool(self) -> bool:
        return self.u8() & 1 == 1

    def ratio(self, num: int, den: int) -> builtins.bool:  # `bool` is the method above
        """True with probability num/den (for uniform bytes)."""
        return self.int_in_range(1, den) <= num

    def choose(self, items):
        """One element of a non-empty sequence."""
        return items[self.int_in_range(0, len(items) - 1)]

    def choose_index(self, n: int) -> int:
        return self.int_in_range(0, n - 1)

    def arbitrary_len(self, max_len: int, elem_size: int = 1) -> int:
        """A collection length read from the back, bounded by the bytes left and `max_len`."""
        left = len(self)
        if left == 0:
            return 0
        width = 1 if left <= 0x100 else 2 if left <= 0x10000 else 4
        width = min(width, left)
        raw = self.data[self.back - width:self.back]
        self.back -= width
        bound = min(max_len, len(self) // max(1, elem_size))
        return int.from_bytes(raw, "big") % (bound + 1) if bound > 0 else 0

    def f32_bits(self) -> int:
        return self.u32()

    def f64_bits(self) -> int:
        return self.u64()

    @staticmethod
    def f32_from_bits(bits: int) -> float:
        return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]

    @staticmethod
    def f64_from_bits(bits: int) -> float:
        return struct.unpack("<d", struct.pack("<Q", bits & 0xFFFFFFFFFFFFFFFF))[0]
