"""The one interface-type model: immutable dataclass trees.

Every type knows its canonical-ABI size, alignment and flattening (CanonicalABI.md in the
WebAssembly/component-model repository: §Alignment, §Element Size, §Flattening), renders as
component type text (named kinds as `$tN` references) and as WIT, and is hashable, so it can key
caches. Named kinds (record, variant, enum, flags) get their names from a `Names` table built per
signature (see `itfuzz.generators.components`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

MAX_FLAT_PARAMS = 16
MAX_FLAT_RESULTS = 1

WIT_KEYWORDS = frozenset(
    "as async bool borrow char constructor enum export f32 f64 flags float32 float64 from func "
    "future import include interface list option own package record resource result s16 s32 s64 "
    "s8 static stream string tuple type u16 u32 u64 u8 use variant with world error-context".split())


def align_to(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def join(a: str, b: str) -> str:
    """Join of two flat core types in a variant payload slot."""
    if a == b:
        return a
    if {a, b} == {"i32", "f32"}:
        return "i32"
    return "i64"


def wit_name(label: str) -> str:
    return "%" + label if label in WIT_KEYWORDS else label


class Type:
    """Base of every interface type."""

    kind: str = "?"
    named = False  # record / variant / enum / flags need an external name in signatures

    def children(self) -> tuple[Type, ...]:
        return ()

    @cached_property
    def depth(self) -> int:
        """wasmparser's nesting depth: a leaf is 1, each level adds 1."""
        return 1 + max((c.depth for c in self.children()), default=0)

    @cached_property
    def node_types(self) -> frozenset[type]:
        """The classes of every node of this tree, itself included (walked once per object)."""
        return frozenset(type(n) for n in walk(self))

    @cached_property
    def has_pointer(self) -> bool:
        return self.kind in ("string", "list", "map") or any(c.has_pointer for c in self.children())

    if TYPE_CHECKING:  # ABI, per kind: a cached property or a class attribute
        @property
        def size(self) -> int: ...

        @property
        def align(self) -> int: ...

        @property
        def flat(self) -> tuple[str, ...]: ...

    def comp(self, names: Names) -> str:
        """Component-model type text: named kinds and deep anonymous types by reference."""
        alias = names.alias(self)
        return "$" + alias if alias else self.inline(names)

    def inline(self, names: Names) -> str:
        """The type written out in place (its children by `comp`)."""
        raise NotImplementedError

    def wit(self, names: Names) -> str:
        raise NotImplementedError

    def definition(self, names: Names) -> str:
        """A named kind's type text (`(type $Tn …)` declarations)."""
        raise NotImplementedError

    def wit_definition(self, names: Names, name: str) -> str:
        """A named kind's WIT declaration."""
        raise NotImplementedError


@dataclass(frozen=True)
class Prim(Type):
    """bool, s8..u64, f32, f64, char, string."""

    name: str

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.name

    @cached_property
    def size(self) -> int:
        return PRIM_LAYOUT[self.name][0]

    @cached_property
    def align(self) -> int:
        return PRIM_LAYOUT[self.name][1]

    @cached_property
    def flat(self) -> tuple[str, ...]:
        return PRIM_LAYOUT[self.name][2]

    def inline(self, names: Names) -> str:
        return self.name

    def wit(self, names: Names) -> str:
        return self.name


PRIM_LAYOUT = {
    "bool": (1, 1, ("i32",)), "s8": (1, 1, ("i32",)), "u8": (1, 1, ("i32",)),
    "s16": (2, 2, ("i32",)), "u16": (2, 2, ("i32",)), "s32": (4, 4, ("i32",)),
    "u32": (4, 4, ("i32",)), "s64": (8, 8, ("i64",)), "u64": (8, 8, ("i64",)),
    "f32": (4, 4, ("f32",)), "f64": (8, 8, ("f64",)), "char": (4, 4, ("i32",)),
    "string": (8, 4, ("i32", "i32")),
}
PRIMS = {n: Prim(n) for n in PRIM_LAYOUT}
INT_RANGES = {
    "s8": (-(1 << 7), (1 << 7) - 1), "u8": (0, (1 << 8) - 1),
    "s16": (-(1 << 15), (1 << 15) - 1), "u16": (0, (1 << 16) - 1),
    "s32": (-(1 << 31), (1 << 31) - 1), "u32": (0, (1 << 32) - 1),
    "s64": (-(1 << 63), (1 << 63) - 1), "u64": (0, (1 << 64) - 1),
}


def _record_layout(types) -> tuple[int, int]:
    size, align = 0, 1
    for t in types:
        size = align_to(size, t.align) + t.size
        align = max(align, t.align)
    return align_to(size, align), align


@dataclass(frozen=True)
class List(Type):
    elem: Type
    kind = "list"

    def children(self):
        return (self.elem,)

    size, align, flat = 8, 4, ("i32", "i32")

    def inline(self, names):
        return f"(list {self.elem.comp(names)})"

    def wit(self, names):
        return f"list<{self.elem.wit(names)}>"


# The key types a map allows (Explainer.md `keytype`: no floats, no compound types).
MAP_KEY_KINDS = ("bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "char", "string")


@dataclass(frozen=True)
class Map(Type):
    """`map<K, V>`: a specialization of `list<tuple<K, V>>` (Explainer.md: same values, same
    canonical ABI, a distinct type). Duplicate keys and their order are part of the value."""

    key: Type
    value: Type
    kind = "map"

    def __post_init__(self) -> None:
        if self.key.kind not in MAP_KEY_KINDS:
            raise ValueError(f"{self.key.kind} is not a map key type")

    def children(self):
        return (self.key, self.value)

    @cached_property
    def elem(self) -> Tuple:
        """The element type of the list this map despecializes to."""
        return Tuple((self.key, self.value))

    size, align, flat = 8, 4, ("i32", "i32")

    def inline(self, names):
        return f"(map {self.key.comp(names)} {self.value.comp(names)})"

    def wit(self, names):
        return f"map<{self.key.wit(names)}, {self.value.wit(names)}>"


@dataclass(frozen=True)
class Record(Type):
    fields: tuple[tuple[str, Type], ...]
    kind = "record"
    named = True

    def children(self):
        return tuple(t for _, t in self.fields)

    @cached_property
    def size(self):
        return _record_layout(self.children())[0]

    @cached_property
    def align(self):
        return _record_layout(self.children())[1]

    @cached_property
    def flat(self):
        return tuple(f for t in self.children() for f in t.flat)

    @cached_property
    def offsets(self) -> tuple[int, ...]:
        out, pos = [], 0
        for t in self.children():
            pos = align_to(pos, t.align)
            out.append(pos)
            pos += t.size
        return tuple(out)

    def comp(self, names):
        return "$" + names.ref(self)

    def wit(self, names):
        return wit_name(names.ref(self))

    def definition(self, names) -> str:
        return "(record " + " ".join(f'(field "{n}" {t.comp(names)})' for n, t in self.fields) + ")"

    def wit_definition(self, names, name) -> str:
        body = "".join(f"  {wit_name(n)}: {t.wit(names)},\n" for n, t in self.fields)
        return f"record {wit_name(name)} {{\n{body}}}"


@dataclass(frozen=True)
class Tuple(Type):
    elems: tuple[Type, ...]
    kind = "tuple"

    def children(self):
        return self.elems

    @cached_property
    def size(self):
        return _record_layout(self.elems)[0]

    @cached_property
    def align(self):
        return _record_layout(self.elems)[1]

    @cached_property
    def flat(self):
        return tuple(f for t in self.elems for f in t.flat)

    def inline(self, names):
        return "(tuple " + " ".join(t.comp(names) for t in self.elems) + ")"

    def wit(self, names):
        return "tuple<" + ", ".join(t.wit(names) for t in self.elems) + ">"


def discriminant_size(n: int) -> int:
    return 1 if n <= 0x100 else 2 if n <= 0x10000 else 4


class _VariantLike(Type):
    """Shared ABI of variant, enum, option and result: `cases()` gives (name, payload|None)."""

    def cases(self) -> tuple[tuple[str, Type | None], ...]:
        raise NotImplementedError

    def children(self):
        return tuple(t for _, t in self.cases() if t is not None)

    @cached_property
    def align(self):
        return max([discriminant_size(len(self.cases()))] + [t.align for t in self.children()])

    @cached_property
    def payload_offset(self) -> int:
        return align_to(discriminant_size(len(self.cases())),
                        max([1] + [t.align for t in self.children()]))

    @cached_property
    def size(self):
        biggest = max([0] + [t.size for t in self.children()])
        return align_to(self.payload_offset + biggest, self.align)

    @cached_property
    def flat(self):
        slots: list[str] = []
        for t in self.children():
            for i, f in enumerate(t.flat):
                if i < len(slots):
                    slots[i] = join(slots[i], f)
                else:
                    slots.append(f)
        return ("i32",) + tuple(slots)


@dataclass(frozen=True)
class Variant(_VariantLike):
    variant_cases: tuple[tuple[str, Type | None], ...]
    kind = "variant"
    named = True

    def cases(self):
        return self.variant_cases

    def comp(self, names):
        return "$" + names.ref(self)

    def wit(self, names):
        return wit_name(names.ref(self))

    def definition(self, names) -> str:
        return "(variant " + " ".join(
            f'(case "{n}" {t.comp(names)})' if t is not None else f'(case "{n}")'
            for n, t in self.variant_cases) + ")"

    def wit_definition(self, names, name) -> str:
        body = "".join(f"  {wit_name(n)}({t.wit(names)}),\n" if t is not None else
                       f"  {wit_name(n)},\n" for n, t in self.variant_cases)
        return f"variant {wit_name(name)} {{\n{body}}}"


@dataclass(frozen=True)
class Enum(_VariantLike):
    names_: tuple[str, ...]
    kind = "enum"
    named = True

    def cases(self):
        return tuple((n, None) for n in self.names_)

    def comp(self, names):
        return "$" + names.ref(self)

    def wit(self, names):
        return wit_name(names.ref(self))

    def definition(self, names) -> str:
        return "(enum " + " ".join(f'"{n}"' for n in self.names_) + ")"

    def wit_definition(self, names, name) -> str:
        body = "".join(f"  {wit_name(n)},\n" for n in self.names_)
        return f"enum {wit_name(name)} {{\n{body}}}"


@dataclass(frozen=True)
class Option(_VariantLike):
    elem: Type
    kind = "option"

    def cases(self):
        return (("none", None), ("some", self.elem))

    def inline(self, names):
        return f"(option {self.elem.comp(names)})"

    def wit(self, names):
        return f"option<{self.elem.wit(names)}>"


@dataclass(frozen=True)
class Result(_VariantLike):
    ok: Type | None
    err: Type | None
    kind = "result"

    def cases(self):
        return (("ok", self.ok), ("err", self.err))

    def inline(self, names):
        parts = ["result"]
        if self.ok is not None:
            parts.append(self.ok.comp(names))
        if self.err is not None:
            parts.append(f"(error {self.err.comp(names)})")
        return "(" + " ".join(parts) + ")"

    def wit(self, names):
        ok = self.ok.wit(names) if self.ok is not None else "_"
        if self.err is None:
            return "result" if self.ok is None else f"result<{ok}>"
        return f"result<{ok}, {self.err.wit(names)}>"


@dataclass(frozen=True)
class Flags(Type):
    labels: tuple[str, ...]
    kind = "flags"
    named = True

    @cached_property
    def size(self):
        n = len(self.labels)
        return 1 if n <= 8 else 2 if n <= 16 else 4

    @cached_property
    def align(self):
        return self.size

    flat = ("i32",)

    def comp(self, names):
        return "$" + names.ref(self)

    def wit(self, names):
        return wit_name(names.ref(self))

    def definition(self, names) -> str:
        return "(flags " + " ".join(f'"{n}"' for n in self.labels) + ")"

    def wit_definition(self, names, name) -> str:
        body = "".join(f"  {wit_name(n)},\n" for n in self.labels)
        return f"flags {wit_name(name)} {{\n{body}}}"


ALIAS_EVERY = 24  # anonymous types this deep get a `(type $aN …)`: the text parser allows 100 levels


class Names:
    """External names for the named types of a signature (`order`, inner types first), and local
    aliases for deep anonymous types so the component text never nests too deeply."""

    def __init__(self, roots) -> None:
        self.order: list[Type] = []
        self._decls: list[Type] = []  # named and aliased types, inner first
        self._names: dict[Type, str] = {}
        self._aliases: dict[Type, str] = {}
        for r in roots:
            self._visit(r)

    def _visit(self, t: Type) -> None:
        if t in self._names or t in self._aliases:
            return
        for c in t.children():
            self._visit(c)
        if t.named:
            self._names[t] = f"t{len(self.order)}"
            self.order.append(t)
            self._decls.append(t)
        elif t.children() and t.depth % ALIAS_EVERY == 0:
            self._aliases[t] = f"a{len(self._aliases)}"
            self._decls.append(t)

    def ref(self, t: Type) -> str:
        return self._names[t]

    def alias(self, t: Type) -> str:
        return self._aliases.get(t, "") if self._aliases else ""

    def component_decls(self, exported=None) -> str:
        """`(type $Tn …)` + `(import "tn" (type $tn (eq $Tn)))` for every named type, and
        `(type $aN …)` for every aliased anonymous one, inner types first. A named type for which
        `exported(t)` holds is exported as `tn` instead (an import cannot name a resource its
        component defines)."""
        out = []
        for t in self._decls:
            if t in self._aliases:
                out.append(f"  (type ${self._aliases[t]} {t.inline(self)})")
                continue
            n = self._names[t]
            name = (f'(export ${n} "{n}" (type $T{n[1:]}))' if exported and exported(t)
                    else f'(import "{n}" (type ${n} (eq $T{n[1:]})))')
            out.append(f"  (type $T{n[1:]} {t.definition(self)})\n  {name}")
        return "\n".join(out)

    def wit_decls(self) -> str:
        return "\n".join(t.wit_definition(self, self._names[t]) for t in self.order)


def walk(t: Type):
    """Every node of a type tree, pre-order."""
    yield t
    for c in t.children():
        yield from walk(c)


def kind_path(t: Type, limit: int = 4) -> str:
    """A short description of a type's shape, e.g. `list>variant>string`."""
    parts: list[str] = []
    node: Type | None = t
    while node is not None and len(parts) < limit:
        parts.append(node.kind)
        kids = node.children()
        node = kids[0] if kids else None
    return ">".join(parts)


def without_maps(t: Type) -> Type:
    """`t` with every `map<K, V>` replaced by the `list<tuple<K, V>>` it despecializes to (the
    type a host sees where it cannot take maps); `t` itself when it holds no map."""
    if not any(n.kind == "map" for n in walk(t)):
        return t
    return substitute(t, _map_as_list)


def _map_as_list(t: Type) -> Type | None:
    if isinstance(t, Map):
        return List(Tuple((without_maps(t.key), without_maps(t.value))))
    return None


def substitute(t: Type, fn) -> Type:
    """`t` rebuilt with every node for which `fn(node)` gives a type replaced by that type
    (`fn` returns None to keep a node and look inside it)."""
    new = fn(t)
    if new is not None:
        return new
    if isinstance(t, (List, Option)):
        return type(t)(substitute(t.elem, fn))
    if isinstance(t, Map):
        return Map(substitute(t.key, fn), substitute(t.value, fn))
    if isinstance(t, Record):
        return Record(tuple((n, substitute(c, fn)) for n, c in t.fields))
    if isinstance(t, Tuple):
        return Tuple(tuple(substitute(c, fn) for c in t.elems))
    if isinstance(t, Variant):
        return Variant(tuple((n, None if c is None else substitute(c, fn))
                             for n, c in t.variant_cases))
    if isinstance(t, Result):
        return Result(None if t.ok is None else substitute(t.ok, fn),
                      None if t.err is None else substitute(t.err, fn))
    return t
