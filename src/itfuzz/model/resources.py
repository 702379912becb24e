"""Resource handles in the type and value model: `own<rN>` and `borrow<rN>` of host resources,
`own<gr>` and `borrow<gr>` of the guest-defined resource.

A signature may use host-defined resource types `r0`, `r1`, … (imported by the component as
`(sub resource)`, defined by the host's linker) and, in the single shape, the resource `gr` the
component itself defines (`GuestHandle`). A handle is 4 bytes, 4-aligned, one flat `i32`
(CanonicalABI.md §Element Size, §Flattening). `borrow` is only allowed in parameters (Explainer.md:
a function's results may not contain borrows). A handle's model value is `Res(rep)`: the
representation the host (or, for `gr`, `gr-new`) gave the resource, which must arrive unchanged.

The host import `g` cannot name `gr` (an import cannot use a resource its component defines), so
`g`'s type is `f`'s with every `gr` handle as `u32` (`guest_as_u32`: same size, alignment and flat
type) and `g` sees each handle's rep as that `u32` (`guest_reps`).
"""
from __future__ import annotations

from dataclasses import dataclass

from itfuzz.model.types import PRIMS, Type, substitute, walk


class AnyHandle(Type):
    """What every handle type shares: ownership, layout, type text."""

    own: bool
    size, align, flat = 4, 4, ("i32",)

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "own" if self.own else "borrow"

    @property
    def name(self) -> str:
        raise NotImplementedError

    def inline(self, names) -> str:
        return f"({self.kind} ${self.name})"

    def wit(self, names) -> str:
        return f"{self.kind}<{self.name}>"


@dataclass(frozen=True)
class Handle(AnyHandle):
    """`own<r{resource}>` (own=True) or `borrow<r{resource}>` of a host resource."""

    resource: int
    own: bool

    @property
    def name(self) -> str:
        return f"r{self.resource}"


@dataclass(frozen=True)
class GuestHandle(AnyHandle):
    """`own<gr>` (own=True) or `borrow<gr>`: the resource the component defines."""

    own: bool

    @property
    def name(self) -> str:
        return "gr"


@dataclass(frozen=True)
class Res:
    """The value of a resource handle: the resource's representation."""

    rep: int


def resource_ids(types) -> tuple[int, ...]:
    """The resource types (indices) these types use, in order."""
    return tuple(sorted({n.resource for t in types for n in walk(t) if isinstance(n, Handle)}))


def has_borrow(t: Type) -> bool:
    return any(isinstance(n, Handle) and not n.own for n in walk(t))


def handles(t: Type, value, cls: type = Handle) -> list:
    """Every (handle type, value) inside a model value of `t`, in order: of the host's
    resources (`cls` Handle), of `gr` (GuestHandle) or both (AnyHandle)."""
    out: list = []
    _collect(t, value, out, cls)
    return out


def _collect(t: Type, v, out: list, cls: type) -> None:
    if isinstance(t, cls):
        out.append((t, v))
        return
    if not contains(t, cls):
        return
    kids = t.children()
    if t.kind in ("list", "map"):
        for x in v:
            _collect(t.elem, x, out, cls)  # type: ignore[attr-defined]
    elif t.kind in ("record", "tuple"):
        for c, x in zip(kids, v):
            _collect(c, x, out, cls)
    else:  # variant-like: (case, payload)
        payload = dict(t.cases())[v[0]]  # type: ignore[attr-defined]
        if payload is not None:
            _collect(payload, v[1], out, cls)


def contains(t: Type, cls: type) -> bool:
    """Whether a node of `t` (itself included) is a `cls`."""
    return any(issubclass(c, cls) for c in t.node_types)


def has_guest(t: Type) -> bool:
    return contains(t, GuestHandle)


def guest_as_u32(t: Type) -> Type:
    """`g`'s form of `t`: every `gr` handle a `u32`; `t` itself when it holds none."""
    if not has_guest(t):
        return t
    return substitute(t, lambda n: PRIMS["u32"] if isinstance(n, GuestHandle) else None)


def guest_reps(t: Type, value):
    """`g`'s form of a model value of `t`: the rep (an int) of every `gr` handle."""
    if isinstance(t, GuestHandle):
        return value.rep
    if not has_guest(t):
        return value
    if t.kind in ("list", "map"):
        return [guest_reps(t.elem, x) for x in value]  # type: ignore[attr-defined]
    if t.kind in ("record", "tuple"):
        return tuple(guest_reps(c, x) for c, x in zip(t.children(), value))
    payload = dict(t.cases())[value[0]]  # type: ignore[attr-defined]
    return (value[0], None if payload is None else guest_reps(payload, value[1]))


def resource_wit(types) -> str:
    """WIT declarations of the resources these types use."""
    guest = "resource gr;\n" if any(has_guest(t) for t in types) else ""
    return "".join(f"resource r{i};\n" for i in resource_ids(types)) + guest
