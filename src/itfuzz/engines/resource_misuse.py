"""Resource misuse from the host: handles that must not be accepted (the host_api_misuse target).

A resource misuse case (`decode_resource_misuse`) names one handle of a valid argument of `f` or
of the host function's result and a kind of bad handle to put there. The bad handle needs a
store, so it is made at run time (`bad_handle`) and substituted into the converted wasmtime-py
value (`substitute`). Kinds (CanonicalABI.md §Handle Tables: a handle index names a live entry
of the caller's own table, of the expected resource type and ownership):

- `moved-own`: a host `own` already moved into the guest (and dropped there) by an earlier call:
  the same Python object, which wasmtime-py consumed when it passed it (K28 as a host result);
- `moved-clone`: a clone of that own taken before the move (names the entry Wasmtime freed);
- `dropped`: an `own` the host dropped with `ResourceAny.drop`;
- `stale-borrow`: a borrow the host function received in an earlier call, kept after it returned;
- `other-store` / `other-engine`: an `own` made in another store of the same / another engine;
- `other-type`: an `own` of another host resource type (or one the linker does not define);
- `guest-type`: an `own` of the component's guest resource `gr`;
- `borrow-for-own`: a live host borrow where an `own` is expected.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import wasmtime
from wasmtime.component import Record as WRecord
from wasmtime.component import ResourceAny, ResourceHost
from wasmtime.component import Variant as WVariant

from itfuzz.engines.compat import call_func
from itfuzz.engines.resources import SCOPE, TYPE_BASE, clone
from itfuzz.engines.wasmtime_values import is_tagged
from itfuzz.generators.resource_code import CONSUME
from itfuzz.generators.unstructured import Unstructured
from itfuzz.model.resources import Handle, Res
from itfuzz.model.types import Type, walk

KINDS = ("moved-own", "moved-clone", "dropped", "stale-borrow", "other-store", "other-engine", "other-type",
         "guest-type", "borrow-for-own")
UNDEFINED_TYPE = 0xFF  # a host resource type id no linker defines (TYPE_BASE + this)
# Inputs that start with these bytes are resource misuse inputs: no earlier input had them (the
# shipped seeds and K reproducers are checked in tests), so old inputs keep their meaning.
MAGIC = b"\xffRES"


@dataclass(frozen=True)
class Occurrence:
    """One handle inside a value: its type, model value, path and the kind of its parent."""

    handle: Handle
    value: Res
    path: str
    parent: str


@dataclass(frozen=True)
class ResourceMisuse:
    """Which handle (the `index`-th in traversal order of the site's value) becomes which bad
    handle; `other` is the resource id of an `other-type` handle."""

    kind: str
    index: int
    at: Occurrence
    other: int = 0

    def describe(self) -> str:
        what = {"moved-own": "an own already moved into the guest by an earlier call",
                "moved-clone": "a clone, taken before the move, of an own already moved into "
                               "the guest by an earlier call",
                "dropped": "an own the host already dropped (ResourceAny.drop)",
                "stale-borrow": "a borrow the host function got in an earlier call, kept after "
                                "that call returned",
                "other-store": "an own from another store of the same engine, rep "
                               f"{foreign_rep(self.at.value.rep)}",
                "other-engine": "an own from a store of another engine, rep "
                                f"{foreign_rep(self.at.value.rep)}",
                "other-type": f"an own of host resource type {self.other:#x} (not r"
                              f"{self.at.handle.resource})",
                "guest-type": "an own of the guest's resource gr",
                "borrow-for-own": "a live host borrow"}[self.kind]
        return f"{what} (in place of rep {self.at.value.rep})"


def foreign_rep(rep: int) -> int:
    """The rep of a handle made in another store: not the valid handle's, so an arrival tells
    which resource the handle named."""
    return (rep + 1) & 0xFFFFFFFF


def occurrences(t: Type, v: Any, path: str, parent: str = "top") -> list[Occurrence]:
    """Every handle inside model value `v` of `t`, in `substitute`'s order, with paths."""
    if isinstance(t, Handle):
        return [Occurrence(t, v, path, parent)]
    if not any(isinstance(n, Handle) for n in walk(t)):
        return []
    k = t.kind
    if k in ("list", "map"):
        return [o for i, x in enumerate(v)
                for o in occurrences(t.elem, x, f"{path}[{i}]", k)]  # type: ignore[attr-defined]
    if k in ("record", "tuple"):
        names = ([n for n, _ in t.fields] if k == "record"  # type: ignore[attr-defined]
                 else [str(i) for i in range(len(v))])
        return [o for c, n, x in zip(t.children(), names, v)
                for o in occurrences(c, x, f"{path}.{n}", k)]
    if hasattr(t, "cases"):  # variant-like: (case, payload)
        payload = dict(t.cases())[v[0]]  # type: ignore[attr-defined]
        return [] if payload is None else occurrences(payload, v[1], f"{path}<{v[0]}>", k)
    return []


def substitute(t: Type, v: Any, w: Any, index: int, bad: Any) -> Any:
    """wasmtime-py value `w` (converted from model value `v` of `t`) with its `index`-th handle
    replaced by `bad`."""
    count = [0]

    def go(t: Type, v: Any, w: Any) -> Any:
        if isinstance(t, Handle):
            count[0] += 1
            return bad if count[0] - 1 == index else w
        if not any(isinstance(n, Handle) for n in walk(t)):
            return w
        k = t.kind
        if k in ("list", "map"):
            return [go(t.elem, x, y) for x, y in zip(v, w)]  # type: ignore[attr-defined]
        if k == "record":
            out = WRecord()
            for (n, ft), x in zip(t.fields, v):  # type: ignore[attr-defined]
                setattr(out, n, go(ft, x, getattr(w, n)))
            return out
        if k == "tuple":
            return tuple(go(c, x, y) for c, x, y in zip(t.children(), v, w))
        if hasattr(t, "cases"):
            payload = dict(t.cases())[v[0]]  # type: ignore[attr-defined]
            if payload is None:
                return w
            if is_tagged(t):
                return WVariant(w.tag, go(payload, v[1], w.payload))
            return go(payload, v[1], w)
        return w
    return go(t, v, w)


def decode_resource_misuse(u: Unstructured, sig, t: Type, v: Any, path: str,
                           borrowed: bool) -> ResourceMisuse | None:
    """A resource misuse of one handle of value `v` of `t` (None: it holds no handle).
    `borrowed`: the valid call passes a borrow to the host, so a stale borrow can be had."""
    found = occurrences(t, v, path)
    if not found:
        return None
    index = u.choose_index(len(found))
    at = found[index]
    kinds = [k for k in KINDS if (k != "stale-borrow" or borrowed)
             and (k != "borrow-for-own" or at.handle.own)]
    kind = u.choose(kinds)
    others = [i for i in sig.resources if i != at.handle.resource] + [UNDEFINED_TYPE]
    other = TYPE_BASE + u.choose(others) if kind == "other-type" else 0
    return ResourceMisuse(kind, index, at, other)


class BadHandles:
    """Makes the bad handle of a resource misuse in a store; keeps what it must keep alive
    (the other stores) until the next case."""

    def __init__(self) -> None:
        self.keep: list[Any] = []
        self._engine: wasmtime.Engine | None = None

    def make(self, rm: ResourceMisuse, store, instance, engine, earlier_call: Callable) -> Any:
        """The bad handle for `rm` in `store` (the instance's). `earlier_call()` runs a valid
        call of `f` (for `stale-borrow`)."""
        self.keep = []
        h, rep = rm.at.handle, rm.at.value.rep
        ty = TYPE_BASE + h.resource
        kind = rm.kind
        if kind in ("moved-own", "moved-clone"):
            x = ResourceHost.own(rep, ty).to_any(store)
            kept = clone(x)
            call_func(store, instance.get_func(store, CONSUME.format(h.resource)), x)
            return x if kind == "moved-own" else kept
        if kind == "dropped":
            x = ResourceHost.own(rep, ty).to_any(store)
            x.drop(store)
            return x
        if kind == "stale-borrow":
            earlier_call()
            return SCOPE.borrows[0][2]
        if kind in ("other-store", "other-engine"):
            if kind == "other-engine" and self._engine is None:
                self._engine = wasmtime.Engine()
            other = wasmtime.Store(engine if kind == "other-store" else self._engine)
            self.keep.append(other)
            return ResourceHost.own(foreign_rep(rep), ty).to_any(other)
        if kind == "other-type":
            return ResourceHost.own(rep, rm.other).to_any(store)
        if kind == "guest-type":
            return call_func(store, instance.get_func(store, "gr-new"), rep)
        return ResourceHost.borrow(rep, ty).to_any(store)  # borrow-for-own


def show_handle(x: Any) -> str | None:
    """A deterministic rendering of a resource object (None: not one)."""
    if isinstance(x, ResourceAny):
        return f"ResourceAny({'own' if x.owned else 'borrow'})"
    if isinstance(x, ResourceHost):
        return f"ResourceHost(rep={x.rep}, type={x.type:#x}, {'own' if x.owned else 'borrow'})"
    return None
