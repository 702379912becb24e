"""Resource checks of the round-trip oracle (host resources, `itfuzz.engines.resources`).

Values already carry identity: a handle's model value is its rep, so a handle that arrives naming
another resource is a value mismatch. Around each call of `f` this module adds what values cannot
show (CanonicalABI.md §Handle Tables, §`canon resource.drop`):

- ownership moved: every `own` the host sent (as argument or as `g`'s result) is gone from the
  host's table after the call (`resource-ownership|own:not-moved`);
- borrows end with the call: every borrow `g` received is dead after it (`resource-borrow|...`);
- destructors: none runs while nothing is dropped (`resource-dtor|ran-without-drop`); each own
  the host got back is then dropped by the guest (`consume-rN`), and the host's destructor must
  run exactly once, for that rep, during that drop (`resource-dtor|count=N`, `…|wrong-rep`).
"""
from __future__ import annotations

from collections.abc import Callable

from wasmtime.component import ResourceHost

from itfuzz.engines.compat import call_func
from itfuzz.engines.resources import SCOPE, TYPE_BASE, still_valid
from itfuzz.generators.resource_code import CONSUME
from itfuzz.model.resources import resource_ids

MAX_CONSUMED = 8  # owns dropped through the guest per call (each is a call into Wasm)


def uses_resources(sig) -> bool:
    return bool(resource_ids(sig.types()))


def in_scope(g: Callable) -> Callable:
    """The host function `g` converting handles with its own `StoreContext`."""
    def scoped(store, *args):
        with SCOPE.using(store):
            return g(store, *args)
    return scoped


def begin_call(store) -> None:
    SCOPE.reset()
    SCOPE.store = store


def check_call(oracle, store, instance, entry, call) -> None:
    """The resource checks after one successful call of `f` (nothing without resources)."""
    sig = entry.sig
    if not uses_resources(sig):
        return

    def fail(check: str, detail: str, message: str):
        return oracle.finding(check, detail, message, sig, entry.wat, call.args, call.ret)

    for t, v, x in SCOPE.sent:
        if still_valid(store, x):
            raise fail("resource-ownership", f"{t.kind}:not-moved",
                       f"the host passed {t.wit(sig.names)} rep {v.rep} but still holds it "
                       "after the call")
    for _, v, x in SCOPE.borrows:
        if still_valid(store, x):
            raise fail("resource-borrow", "outlived-call",
                       f"the host's borrow of rep {v.rep} is still usable after the call")
    if SCOPE.dtors:
        raise fail("resource-dtor", "ran-without-drop",
                   f"destructor runs {SCOPE.dtors} while no handle was dropped")
    received = SCOPE.received[:MAX_CONSUMED]
    for t, h in received:
        SCOPE.dtors = []
        consume = instance.get_func(store, CONSUME.format(t.resource))
        call_func(store, consume, ResourceHost.own(h.rep, TYPE_BASE + t.resource))
        want = [(t.resource, h.rep)]
        if SCOPE.dtors != want:
            detail = (f"count={len(SCOPE.dtors)}" if len(SCOPE.dtors) != 1 else "wrong-rep")
            raise fail("resource-dtor", detail,
                       f"dropping {t.wit(sig.names)} rep {h.rep} in the guest ran the "
                       f"destructor as {SCOPE.dtors}, expected {want}")
    SCOPE.dtors = []
