"""Host resources on wasmtime-py: resource types in the linker, handle converters, bookkeeping.

Resource `rN` of a signature is `ResourceType.host(TYPE_BASE + N)`, defined in the linker with a
destructor that logs `(N, rep)`. Converting a handle needs the store, and the oracle needs to know
which handles crossed: `SCOPE` holds the store in use (the caller's `Store`, or the host
function's `StoreContext` while `g` runs) and, per call, what was sent and received:

- `sent`: a clone of every `own` handle the host handed to Wasm (it must be gone from the host's
  table after the call: ownership moved);
- `borrows`: a clone of every `borrow` the host received (it must have ended with the call);
- `received`: the `ResourceHost` of every `own` the host received (taken out of its table);
- `dtors`: the destructor runs `(resource, rep)`.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime.component import ResourceAny, ResourceHost, ResourceType

from itfuzz.model.resources import Handle, Res, resource_ids

TYPE_BASE = 0x17F00  # host resource type ids: TYPE_BASE + N for `rN`


class ResourceShapeError(Exception):
    """A handle arrived as the wrong Python object, ownership or resource type (reported as
    `wasmtime_values.ShapeError` by its converters)."""


class HandleScope:
    def __init__(self) -> None:
        self.store: Any = None
        self.guest_done = False  # the guest resource checks ran for this input's store
        self.reset()

    def reset(self) -> None:
        self.sent: list[tuple[Handle, Res, ResourceAny]] = []
        self.borrows: list[tuple[Handle, Res, ResourceAny]] = []
        self.received: list[tuple[Handle, ResourceHost]] = []
        self.dtors: list[tuple[int, int]] = []

    @contextmanager
    def using(self, store):
        """Convert handles with `store` (a host function's `StoreContext`) meanwhile."""
        outer, self.store = self.store, store
        try:
            yield
        finally:
            self.store = outer


SCOPE = HandleScope()


def clone(x: ResourceAny) -> ResourceAny:
    """A second `ResourceAny` naming the same table entry."""
    return ResourceAny._from_ptr(ffi.wasmtime_component_resource_any_clone(x.ptr()))


def define_resources(linker, types) -> None:
    """Defines every resource these types use in the linker's root, with a logging destructor."""
    ids = resource_ids(types)
    if not ids:
        return
    with linker.root() as root:
        for i in ids:
            root.add_resource(f"r{i}", ResourceType.host(TYPE_BASE + i), _dtor(i))


def _dtor(i: int) -> Callable:
    def dtor(store, rep: int) -> None:
        SCOPE.dtors.append((i, rep))
    return dtor


def handle_to_wasmtime(t: Handle) -> Callable[[Res], Any]:
    """Model → wasmtime-py: an `own` becomes a `ResourceAny` in the host's table (a clone is kept
    in `SCOPE.sent`); a `borrow` a `ResourceHost` borrow."""
    ty = TYPE_BASE + t.resource
    if not t.own:
        return lambda v: ResourceHost.borrow(v.rep, ty)

    def own(v: Res) -> ResourceAny:
        x = ResourceHost.own(v.rep, ty).to_any(SCOPE.store)
        SCOPE.sent.append((t, v, clone(x)))
        return x
    return own


def check_arrival(x: Any, own: bool, what: str, path: str) -> None:
    """A handle wasmtime-py handed back must be a `ResourceAny` of the ownership `what`
    (`own`/`borrow`, naming the resource) expects; else `ResourceShapeError`."""
    if type(x) is not ResourceAny:
        raise ResourceShapeError(f"{path}: expected a ResourceAny, got {type(x).__name__}")
    if x.owned != own:
        raise ResourceShapeError(f"{path}: {what} arrived as {'own' if x.owned else 'borrow'}")


def handle_from_wasmtime(t: Handle, path: str) -> Callable[[Any], Res]:
    """wasmtime-py → model: the `ResourceAny` must have the handle's ownership and resource type;
    an `own` is taken out of the host's table, a `borrow` ended (both by `to_host`)."""
    ty = TYPE_BASE + t.resource

    def conv(x: Any) -> Res:
        check_arrival(x, t.own, t.kind, path)
        kept = None if t.own else clone(x)
        try:
            h = x.to_host(SCOPE.store)
        except wasmtime.WasmtimeError as e:
            raise ResourceShapeError(f"{path}: to_host failed: {e}") from None
        if h.type != ty or h.owned != t.own:
            raise ResourceShapeError(f"{path}: host resource type {h.type:#x} "
                                     f"(owned={h.owned}), expected {ty:#x} ({t.kind})")
        v = Res(h.rep)
        if kept is not None:
            SCOPE.borrows.append((t, v, kept))
        else:
            SCOPE.received.append((t, h))
        return v
    return conv


def still_valid(store, x: ResourceAny) -> bool:
    """Whether a (cloned) handle still names a live entry of the host's table."""
    try:
        x.to_host(store)
    except wasmtime.WasmtimeError as e:
        e.__traceback__ = None  # its traceback would hold the store until the cyclic GC runs
        return False
    return True
