"""Values of the model (`itfuzz.model.values`) drawn from `Unstructured`, biased to edges:
integer limits, ±0, ±inf, NaN payloads, subnormals, latin1/BMP/astral chars and strings, long
strings and lists."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from itfuzz.generators.unstructured import Unstructured
from itfuzz.model.resources import AnyHandle, Res
from itfuzz.model.types import INT_RANGES, Enum, Flags, List, Map, Prim, Record, Tuple, Type, _VariantLike
from itfuzz.model.values import f32_bits_to_float, f64_bits_to_float

F32_EDGE_BITS = (0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000,
                 0x7F800001, 0x7FA00000, 0xFFFFFFFF, 0x00000001, 0x80000001, 0x007FFFFF,
                 0x00800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x3F800000, 0xBF800000, 0x4B800001)
F64_EDGE_BITS = (0x0, 0x8000000000000000, 0x7FF0000000000000, 0xFFF0000000000000,
                 0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001,
                 0x7FF4000000000000, 0xFFFFFFFFFFFFFFFF, 0x1, 0x8000000000000001,
                 0x000FFFFFFFFFFFFF, 0x0010000000000000, 0x7FEFFFFFFFFFFFFF,
                 0x3FF0000000000000, 0xBFF0000000000000, 0x4340000000000001)
CHAR_EDGES = ("a", "\0", "\x7f", "\x80", "\xe9", "\xff", "\u0100", "\u07ff", "\u0800", "\ud7ff",
              "\ue000", "\ufffd", "\uffff", "\U00010000", "\U0001f600", "\U0010ffff")
REP_EDGES = (0, 1, 0x7FFFFFF0, 0xFFFFFF00)  # first resource rep of a case (a u32)
# String classes: how the code points of a generated string are drawn.
STRING_CLASSES = ("empty", "ascii", "latin1", "bmp", "astral", "mixed", "boundary", "long")


def scalar(cp: int) -> str:
    """The Unicode scalar value nearest `cp` (surrogates moved out of D800-DFFF)."""
    cp %= 0x110000
    if 0xD800 <= cp <= 0xDFFF:
        cp += 0x800
    return chr(cp)


# Leaf draws, shared by `ValueGen` and the generated static code (`itfuzz.static.gen`).
def int_value(u: Unstructured, lo: int, hi: int) -> int:
    if u.ratio(1, 2):
        return u.choose((lo, hi, 0, 1, lo + 1, hi - 1, -1 if lo < 0 else 2))
    return u.int_in_range(lo, hi)


def f32_value(u: Unstructured) -> float:
    return f32_bits_to_float(u.choose(F32_EDGE_BITS) if u.ratio(1, 2) else u.u32())


def f64_value(u: Unstructured) -> float:
    return f64_bits_to_float(u.choose(F64_EDGE_BITS) if u.ratio(1, 2) else u.u64())


def char_value(u: Unstructured) -> str:
    return u.choose(CHAR_EDGES) if u.ratio(1, 2) else scalar(u.u32())


def flag_mask(u: Unstructured, n: int) -> int:
    """Which of `n` flags are set (bit i = flag i): now and then all or none."""
    if u.ratio(1, 4):
        return (1 << n) - 1 if u.bool() else 0
    mask = 0
    for i in range(n):
        if u.bool():
            mask |= 1 << i
    return mask


class ValueGen:
    """Draws values of a type; `fuel` bounds the total number of generated nodes."""

    def __init__(self, u: Unstructured, fuel: int = 1000) -> None:
        self.u = u
        self.fuel = fuel
        self.next_rep: int | None = None  # set by the first resource value

    def gen(self, t: Type) -> Any:
        self.fuel -= 1
        draw = _DRAWS.get(type(t))
        if draw is None:
            draw = _DRAWS[type(t)] = _draw_of(type(t))
        return draw(self, t)

    def _prim(self, t: Prim) -> Any:
        return self.prim(t.kind)

    def _list(self, t: List) -> list:
        return [self.gen(t.elem) for _ in range(self.list_len(t.elem.size))]

    def _fields(self, t: Record | Tuple) -> tuple:
        return tuple(self.gen(c) for c in t.children())

    def _enum(self, t: Enum) -> str:
        return t.names_[self.case_index(len(t.names_))]

    def _variant(self, t: _VariantLike) -> tuple:
        name, payload = t.cases()[self.case_index(len(t.cases()))]
        return (name, self.gen(payload) if payload is not None else None)

    def _flags(self, t: Flags) -> frozenset:
        mask = flag_mask(self.u, len(t.labels))
        return frozenset(lab for i, lab in enumerate(t.labels) if mask >> i & 1)

    def _resource(self, t: AnyHandle) -> Res:
        return self.resource()

    def resource(self) -> Res:
        """A resource handle's value: reps start at an edge and grow, so every handle of a
        case names a different resource (a swapped handle shows)."""
        u = self.u
        if self.next_rep is None:
            self.next_rep = u.choose(REP_EDGES)
        rep = self.next_rep + u.int_in_range(0, 2)
        self.next_rep = rep + 1
        return Res(rep & 0xFFFFFFFF)

    def map_entries(self, t: Map) -> list[tuple[Any, Any]]:
        """A map's (key, value) entries in order; now and then a key repeats an earlier one (the
        spec keeps duplicates: a map's values are those of `list<tuple<K, V>>`)."""
        u = self.u
        entries: list[tuple[Any, Any]] = []
        for _ in range(self.list_len(t.elem.size)):
            if entries and u.ratio(1, 4):
                key = entries[u.int_in_range(0, len(entries) - 1)][0]
            else:
                key = self.gen(t.key)
            entries.append((key, self.gen(t.value)))
        return entries

    def list_len(self, elem_size: int) -> int:
        """A list length (from the back), now and then the long-list edge."""
        u = self.u
        n = u.arbitrary_len(max(0, min(64, self.fuel)), max(1, elem_size // 2))
        if n and u.ratio(1, 16):
            n = min(self.fuel, 256) if self.fuel > 256 else n  # long-list edge
        return n

    def case_index(self, n: int) -> int:
        u = self.u
        if n > 2 and u.ratio(1, 3):
            return u.choose((0, n - 1, n - 2))
        return u.int_in_range(0, n - 1)

    def prim(self, k: str) -> Any:
        u = self.u
        if k == "bool":
            return u.bool()
        if k in INT_RANGES:
            return int_value(u, *INT_RANGES[k])
        if k == "f32":
            return f32_value(u)
        if k == "f64":
            return f64_value(u)
        if k == "char":
            return char_value(u)
        if k == "string":
            return self.string()
        raise TypeError(k)

    def string(self) -> str:
        u = self.u
        cls = u.choose(STRING_CLASSES)
        if cls == "empty":
            return ""
        n = u.arbitrary_len(max(0, min(48, self.fuel)), 1)
        if cls == "long":
            n = n * 40 + 300
        self.fuel -= n // 8
        draw = {
            "ascii": lambda: chr(u.int_in_range(0, 0x7F)),
            "latin1": lambda: chr(u.int_in_range(0, 0xFF)),
            "bmp": lambda: scalar(u.int_in_range(0, 0xFFFF)),
            "astral": lambda: chr(u.int_in_range(0x10000, 0x10FFFF)),
            "mixed": lambda: scalar(u.u32()),
            "boundary": lambda: u.choose(CHAR_EDGES),
            "long": lambda: chr(u.int_in_range(0x20, 0x7E)) if u.ratio(7, 8) else u.choose(CHAR_EDGES),
        }[cls]
        return "".join(draw() for _ in range(n))


def _draw_of(cls: type) -> Callable[[ValueGen, Any], Any]:
    """The `ValueGen` method that draws a value of type class `cls` (first match, in order)."""
    for base, draw in ((Prim, ValueGen._prim), (List, ValueGen._list), (Map, ValueGen.map_entries),
                       (Record, ValueGen._fields), (Tuple, ValueGen._fields),
                       (Enum, ValueGen._enum), (_VariantLike, ValueGen._variant),
                       (Flags, ValueGen._flags), (AnyHandle, ValueGen._resource)):
        if issubclass(cls, base):
            return draw
    return _unknown


def _unknown(vg: ValueGen, t: Type) -> Any:
    raise TypeError(f"unknown type {t!r}")


_DRAWS: dict[type, Callable[[ValueGen, Any], Any]] = {}  # type class -> its `_draw_of`
