"""Handles of the guest-defined resource `gr` in `f`'s types, on wasmtime-py.

The host makes a `gr` handle with the component's own `gr-new(rep)` and reads one with
`gr-rep(handle)` (`itfuzz.generators.resource_code.guest_funcs`), in the store of
`engines.resources.SCOPE`. `GUEST` holds the instance's functions and, per call, what crossed:

- `sent`: (rep, clone) of every `own<gr>` the host passed to `f` (gone after the call: moved);
- `lent`: (rep, handle) of every own the host made to pass as a `borrow<gr>` (still the host's);
- `received`: (rep, handle) of every `own<gr>` `f` returned.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import wasmtime
from wasmtime.component import ResourceAny

from itfuzz.engines.compat import InstanceFuncs, call_func
from itfuzz.engines.resources import SCOPE, ResourceShapeError, check_arrival, clone
from itfuzz.model.resources import GuestHandle, Res

NEW, REP, COUNT, SUM = "gr-new", "gr-rep", "gr-dtor-count", "gr-dtor-sum"


class GuestScope:
    def __init__(self) -> None:
        self.funcs: dict[str, Any] = {}
        self.typed = InstanceFuncs()
        self.before = (0, 0)  # `dtor_state()` before the call
        self.reset()

    def reset(self) -> None:
        self.sent: list[tuple[int, ResourceAny]] = []
        self.lent: list[tuple[int, ResourceAny]] = []
        self.received: list[tuple[int, ResourceAny]] = []

    def begin(self, store, instance) -> None:
        """A call of `f` on `instance` (in `store`) is about to run. The `gr` functions are
        looked up (and their types read) once per instance object, not once per call."""
        self.reset()
        self.funcs = {name: self.typed.get(store, instance, name) for name in (NEW, REP, COUNT, SUM)}

    def call(self, name: str, *args) -> Any:
        return call_func(SCOPE.store, self.funcs[name], *args)

    def dtor_state(self) -> tuple[int, int]:
        """(runs, sum of reps mod 2**32) of `gr`'s destructor so far."""
        return self.call(COUNT), self.call(SUM)


GUEST = GuestScope()


def guest_to_wasmtime(t: GuestHandle) -> Callable[[Res], ResourceAny]:
    """Model → wasmtime-py: a new own handle from `gr-new(rep)`, passed as the own itself
    (a clone is kept in `GUEST.sent`) or lent as a borrow (kept in `GUEST.lent`)."""
    def conv(v: Res) -> ResourceAny:
        x = GUEST.call(NEW, v.rep)
        if t.own:
            GUEST.sent.append((v.rep, clone(x)))
        else:
            GUEST.lent.append((v.rep, x))
        return x
    return conv


def guest_from_wasmtime(t: GuestHandle, path: str) -> Callable[[Any], Res]:
    """wasmtime-py → model: a `ResourceAny` of the handle's ownership whose `gr-rep` is the
    model's rep (kept in `GUEST.received`)."""
    def conv(x: Any) -> Res:
        check_arrival(x, t.own, f"{t.kind}<gr>", path)
        try:
            rep = GUEST.call(REP, x)
        except wasmtime.WasmtimeError as e:
            e.__traceback__ = None  # its traceback would hold the store
            raise ResourceShapeError(f"{path}: gr-rep refused it: {e}") from None
        GUEST.received.append((rep, x))
        return Res(rep)
    return conv
