"""Resource handles in the type and value model: `own<rN>` and `borrow<rN>` of host resources.

A signature may use host-defined resource types `r0`, `r1`, … (imported by the component as
`(sub resource)`, defined by the host's linker). A handle is 4 bytes, 4-aligned, one flat `i32`
(CanonicalABI.md §Element Size, §Flattening). `borrow` is only allowed in parameters (Explainer.md:
a function's results may not contain borrows). A handle's model value is `Res(rep)`: the
representation the host gave the resource, which must arrive unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass

from itfuzz.model.types import Type, walk


@dataclass(frozen=True)
class Handle(Type):
    """`own<r{resource}>` (own=True) or `borrow<r{resource}>`."""

    resource: int
    own: bool

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "own" if self.own else "borrow"

    size, align, flat = 4, 4, ("i32",)

    @property
    def name(self) -> str:
        return f"r{self.resource}"

    def inline(self, names) -> str:
        return f"({self.kind} ${self.name})"

    def wit(self, names) -> str:
        return f"{self.kind}<{self.name}>"


@dataclass(frozen=True)
class Res:
    """The value of a resource handle: the resource's representation."""

    rep: int


def resource_ids(types) -> tuple[int, ...]:
    """The resource types (indices) these types use, in order."""
    return tuple(sorted({n.resource for t in types for n in walk(t) if isinstance(n, Handle)}))


def has_borrow(t: Type) -> bool:
    return any(isinstance(n, Handle) and not n.own for n in walk(t))


def handles(t: Type, value) -> list[tuple[Handle, Res]]:
    """Every (handle type, value) inside a model value of `t`, in order."""
    out: list[tuple[Handle, Res]] = []
    _collect(t, value, out)
    return out


def _collect(t: Type, v, out: list) -> None:
    if isinstance(t, Handle):
        out.append((t, v))
        return
    if not any(isinstance(n, Handle) for n in walk(t)):
        return
    kids = t.children()
    if t.kind in ("list", "map"):
        for x in v:
            _collect(t.elem, x, out)  # type: ignore[attr-defined]
    elif t.kind in ("record", "tuple"):
        for c, x in zip(kids, v):
            _collect(c, x, out)
    else:  # variant-like: (case, payload)
        payload = dict(t.cases())[v[0]]  # type: ignore[attr-defined]
        if payload is not None:
            _collect(payload, v[1], out)


def resource_wit(types) -> str:
    """WIT declarations of the resources these types use."""
    return "".join(f"resource r{i};\n" for i in resource_ids(types))
