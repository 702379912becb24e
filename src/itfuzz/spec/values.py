"""Wasm values as raw bit patterns (floats never pass through a C float)."""
from __future__ import annotations

import struct
from dataclasses import dataclass

NUM_TYPES = ("i32", "i64", "f32", "f64")
REF_TYPES = ("funcref", "externref")
TYPES = NUM_TYPES + REF_TYPES
WIDTH = {"i32": 32, "i64": 64, "f32": 32, "f64": 64}


def f32_bits(x: float) -> int:
    """IEEE single bits of a Python float (round to nearest; overflow gives infinity)."""
    try:
        return struct.unpack("<I", struct.pack("<f", x))[0]
    except OverflowError:
        return 0xFF800000 if x < 0 else 0x7F800000


def f64_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


@dataclass(frozen=True, slots=True)
class Value:
    """A Wasm value: ``type`` in TYPES, ``bits`` the raw pattern (``None`` is a null reference)."""

    type: str
    bits: int | None

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"unknown value type {self.type!r}")
        if self.type in NUM_TYPES:
            if not isinstance(self.bits, int) or not 0 <= self.bits < 1 << WIDTH[self.type]:
                raise ValueError(f"bad {self.type} bits {self.bits!r}")
        elif self.bits is not None and not (isinstance(self.bits, int) and 0 <= self.bits < 1 << 64):
            raise ValueError(f"bad {self.type} payload {self.bits!r}")

    @classmethod
    def i32(cls, n: int) -> Value:
        return cls("i32", n & 0xFFFFFFFF)

    @classmethod
    def i64(cls, n: int) -> Value:
        return cls("i64", n & 0xFFFFFFFFFFFFFFFF)

    @classmethod
    def f32(cls, x: float) -> Value:
        return cls("f32", f32_bits(x))

    @classmethod
    def f64(cls, x: float) -> Value:
        return cls("f64", f64_bits(x))

    @classmethod
    def of(cls, type: str, x: Value | int | float | None) -> Value:
        """A ``type`` value from a Value (checked), an int (integers, references) or a float."""
        if isinstance(x, Value):
            if x.type != type:
                raise TypeError(f"expected {type}, got {x.type}")
            return x
        if type in ("i32", "i64"):
            if not isinstance(x, int):
                raise TypeError(f"{type} needs an int, got {x!r}")
            return cls.i32(x) if type == "i32" else cls.i64(x)
        if type in ("f32", "f64"):
            if not isinstance(x, (int, float)):
                raise TypeError(f"{type} needs a float, got {x!r}")
            return cls.f32(x) if type == "f32" else cls.f64(x)
        return cls(type, x)

    @property
    def signed(self) -> int:
        """Integer value of an i32/i64 read as two's complement."""
        width = WIDTH[self.type]
        return self.bits - (1 << width) if self.bits >> (width - 1) else self.bits

    @property
    def float(self) -> float:
        """f32/f64 as a Python float (NaN payloads are not preserved: use ``bits``)."""
        if self.type == "f32":
            return struct.unpack("<f", struct.pack("<I", self.bits))[0]
        if self.type == "f64":
            return struct.unpack("<d", struct.pack("<Q", self.bits))[0]
        raise TypeError(f"{self.type} is not a float type")

    def to_py(self) -> int | float | None:
        """Signed int, float or reference payload."""
        if self.type in ("i32", "i64"):
            return self.signed
        if self.type in ("f32", "f64"):
            return self.float
        return self.bits

    def is_nan(self) -> bool:
        if self.type == "f32":
            return self.bits & 0x7FFFFFFF > 0x7F800000
        return self.type == "f64" and self.bits & (1 << 63) - 1 > 0x7FF0000000000000

    def __repr__(self) -> str:
        if self.bits is None:
            return f"Value({self.type}, null)"
        return f"Value({self.type}, {self.bits:#x} = {self.to_py()!r})"


def comparable(v: Value) -> tuple:
    """What must agree: numbers bitwise (±0 differ), NaN as one class, references null or not."""
    if v.type in ("f32", "f64") and v.is_nan():
        return v.type, "nan"
    if v.type in ("funcref", "externref"):
        return v.type, "null" if v.bits is None else "ref"
    return v.type, v.bits
