"""Arbitrary interface types from an `Unstructured`, bounded by fuel and depth, biased to edges.

Every node, field, case and flag costs fuel; when fuel or depth runs out only primitives are
made. Case counts and flag counts lean toward the ABI boundaries (discriminant width changes at
256/257 cases, flags storage at 8/9, 16/17 and the 32 maximum).
"""
from __future__ import annotations

from itfuzz.generators.unstructured import Unstructured
from itfuzz.model.resources import GuestHandle, Handle
from itfuzz.model.types import (
    MAP_KEY_KINDS,
    PRIMS,
    Enum,
    Flags,
    List,
    Map,
    Option,
    Record,
    Result,
    Tuple,
    Type,
    Variant,
)

MAX_DEPTH = 98  # deepest type (leaf = 1) that Wasmtime 50's validator accepts ("type nesting is too deep")
PRIM_NAMES = tuple(PRIMS)
COMPOUND_KINDS = ("list", "record", "tuple", "variant", "enum", "option", "result", "flags")
MAP_KINDS = COMPOUND_KINDS + ("map",)  # with `TypeGen(maps=True)`
HANDLE_KINDS = ("own", "own", "borrow")  # with `TypeGen(resources=N)`
GUEST_KINDS = ("gr-own", "gr-own", "gr-borrow")  # with `TypeGen(guest=True)`
CASE_COUNT_EDGES = (1, 2, 3, 255, 256, 257)
FLAG_COUNT_EDGES = (1, 8, 9, 16, 17, 32)
LABEL_STYLES = ("f{}", "a-{}", "x{}-y", "ABC{}", "case{}-b", "q-{}-z")


def label(i: int, style: int) -> str:
    """A valid kebab-case label, unique per index `i` (also after lowercasing)."""
    return LABEL_STYLES[style % len(LABEL_STYLES)].format(i)


def labels(u: Unstructured, n: int) -> tuple[str, ...]:
    style = u.int_in_range(0, len(LABEL_STYLES) - 1)
    return tuple(label(i, style) for i in range(n))


class TypeGen:
    """Draws types while spending a shared fuel budget."""

    def __init__(self, u: Unstructured, fuel: int = 200, max_depth: int = MAX_DEPTH,
                 maps: bool = False, resources: int = 0, guest: bool = False) -> None:
        self.u = u
        self.fuel = fuel
        self.max_depth = max_depth
        self.kinds: tuple[str, ...] = MAP_KINDS if maps else COMPOUND_KINDS
        # Host resource types r0..r{resources-1}: handles to them become kinds too.
        self.resources = resources
        self.borrows = True  # whether `borrow` may be drawn (not in results)
        if resources:
            self.kinds = self.kinds + HANDLE_KINDS
        if guest:  # handles of the component's own resource `gr` (single shape)
            self.kinds = self.kinds + GUEST_KINDS

    def prim(self) -> Type:
        return PRIMS[self.u.choose(PRIM_NAMES)]

    def count(self, edges: tuple[int, ...], hi: int, per_fuel: int = 1) -> int:
        """A count biased to `edges` (when fuel allows `per_fuel` items per unit), else small."""
        u = self.u
        affordable = max(1, min(hi, self.fuel * per_fuel))
        if u.ratio(1, 4):
            return u.choose([e for e in edges if e <= affordable] or [1])
        return u.int_in_range(1, min(affordable, 6))

    def gen(self, depth: int = 1) -> Type:
        u = self.u
        if self.fuel <= 0 or depth >= self.max_depth or u.is_empty() or u.ratio(1, 3):
            self.fuel -= 1
            return self.prim()
        self.fuel -= 1
        kind = u.choose(self.kinds)
        if kind in HANDLE_KINDS:
            return Handle(u.int_in_range(0, self.resources - 1), kind == "own" or not self.borrows)
        if kind in GUEST_KINDS:
            return GuestHandle(kind == "gr-own" or not self.borrows)
        if kind == "list":
            return List(self.gen(depth + 1))
        if kind == "map":
            # Children two levels down: the `list<tuple<K, V>>` a host sees stays in MAX_DEPTH.
            return Map(PRIMS[u.choose(MAP_KEY_KINDS)], self.gen(depth + 2))
        if kind == "option":
            return Option(self.gen(depth + 1))
        if kind == "result":
            ok = self.gen(depth + 1) if u.bool() else None
            err = self.gen(depth + 1) if u.bool() else None
            return Result(ok, err)
        if kind == "record":
            n = self.count((1, 2, 3, 8), 32)
            self.fuel -= n
            names = labels(u, n)
            return Record(tuple((nm, self.gen(depth + 1)) for nm in names))
        if kind == "tuple":
            n = self.count((1, 2, 3), 10)
            self.fuel -= n
            return Tuple(tuple(self.gen(depth + 1) for _ in range(n)))
        if kind == "variant":
            n = self.count(CASE_COUNT_EDGES, 300, per_fuel=4)
            self.fuel -= n // 4
            names = labels(u, n)
            cases = []
            for nm in names:
                # Big variants get mostly payload-less cases so they fit the fuel.
                has = u.ratio(1, 2) if n < 16 else u.ratio(1, 16)
                cases.append((nm, self.gen(depth + 1) if has else None))
            return Variant(tuple(cases))
        if kind == "enum":
            n = self.count(CASE_COUNT_EDGES, 300, per_fuel=8)
            self.fuel -= n // 8
            return Enum(labels(u, n))
        n = self.count(FLAG_COUNT_EDGES, 32, per_fuel=4)
        self.fuel -= n // 4
        return Flags(labels(u, n))
