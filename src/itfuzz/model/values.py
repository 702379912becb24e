"""The one value model: plain Python data tied to `itfuzz.model.types`, and its one strict equality.

Model: bool → bool; integers → int; f32/f64 → float (f32 values exactly representable); char →
1-char str; string → str; list → list; map → list of (key, value)
tuples, in order, duplicate keys kept (the spec gives maps the values of `list<tuple<K, V>>`);
record and tuple → tuple in field order; variant, option
and result → (case name, payload or None); enum → case name; flags → frozenset of labels.

Equality is strict: `True` is not `1`, -0.0 is not 0.0, and any NaN equals any NaN.
"""
from __future__ import annotations

import math
import struct
from typing import Any

from itfuzz.model.resources import AnyHandle, Res
from itfuzz.model.types import INT_RANGES, Enum, Flags, List, Map, Record, Tuple, Type, _VariantLike


def f32_bits_to_float(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]


def f64_bits_to_float(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits & 0xFFFFFFFFFFFFFFFF))[0]


def _same_float(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


class ValueMismatch:
    """Where and how two values first differ; `detail` is value-free (for signatures)."""

    def __init__(self, path: str, t: Type, expected: Any, actual: Any, why: str) -> None:
        self.path = path
        self.type = t
        self.expected = expected
        self.actual = actual
        self.detail = f"{t.kind}:{why or 'value'}:{type(expected).__name__}->{type(actual).__name__}"
        if why == "case":
            self.detail += f":{_case_class(expected)}->{_case_class(actual)}"

    def __str__(self) -> str:
        return f"{self.path}: expected {self.expected!r}, got {self.actual!r} ({self.detail})"


def _case_class(v: Any) -> str:
    if type(v) is tuple and len(v) == 2:
        return type(v[1]).__name__
    return "?"


def diff(t: Type, expected: Any, actual: Any, path: str = "value") -> ValueMismatch | None:
    """None when equal under the strict rules, else where and how the values first differ."""
    def bad(why: str = "") -> ValueMismatch:
        return ValueMismatch(path, t, expected, actual, why)

    k = t.kind
    if k == "bool":
        return None if type(actual) is type(expected) is bool and actual == expected else bad()
    if k in INT_RANGES:
        return None if type(actual) is type(expected) is int and actual == expected else bad()
    if k in ("f32", "f64"):
        return None if type(actual) is type(expected) is float and _same_float(expected, actual) else bad()
    if k in ("char", "string"):
        return None if type(actual) is type(expected) is str and actual == expected else bad()
    if isinstance(t, (List, Map)):
        if type(actual) is not list or len(actual) != len(expected):
            return bad("length")
        for i, (e, a) in enumerate(zip(expected, actual)):
            d = diff(t.elem, e, a, f"{path}[{i}]")
            if d:
                return d
        return None
    if isinstance(t, (Record, Tuple)):
        if type(actual) is not tuple or len(actual) != len(expected):
            return bad("shape")
        labels = [n for n, _ in t.fields] if isinstance(t, Record) else range(len(t.elems))
        for lab, c, e, a in zip(labels, t.children(), expected, actual):
            d = diff(c, e, a, f"{path}.{lab}")
            if d:
                return d
        return None
    if isinstance(t, Enum):
        return None if type(actual) is str and actual == expected else bad()
    if isinstance(t, _VariantLike):
        if type(actual) is not tuple or len(actual) != 2 or actual[0] != expected[0]:
            return bad("case")
        payload = dict(t.cases())[expected[0]]
        if payload is None:
            return None if actual[1] is None else bad("payload")
        return diff(payload, expected[1], actual[1], f"{path}<{expected[0]}>")
    if isinstance(t, Flags):
        return None if type(actual) is frozenset and actual == expected else bad()
    if isinstance(t, AnyHandle):
        return None if type(actual) is Res and actual == expected else bad()
    raise TypeError(f"unknown type {t!r}")


def equal(t: Type, a: Any, b: Any) -> bool:
    return diff(t, a, b) is None
