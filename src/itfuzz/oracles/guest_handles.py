"""Checks of the guest-defined resource `gr` inside `f`'s types (`itfuzz.engines.guest_handles`).

Values carry identity: the host sends handles made by `gr-new(rep)`, `g` must see those reps as
u32 (`host-arg-mismatch`), and each handle `f` returns must name, by `gr-rep`, the rep `g`
returned (`result-mismatch`). Around each call this module adds (CanonicalABI.md §`lift_own`,
§`lower_borrow`, §`canon resource.drop`):

- ownership moved: every `own<gr>` the host sent is gone from its table after the call
  (`gr-ownership|own:not-moved`);
- a borrow leaves the lender alone: the own the host lent as `borrow<gr>` still names its rep
  (`gr-borrow|lender:…`);
- destructors: `f` drops each own it receives, so during the call `gr`'s destructor runs exactly
  once per own param, for those reps (`gr-dtor|in-call:…`); then the host drops what it lent and
  what it got back, and the destructor runs once for each of those (`gr-dtor|host-drop:…`).
"""
from __future__ import annotations

import wasmtime

from itfuzz.engines.guest_handles import GUEST
from itfuzz.model.resources import GuestHandle, handles
from itfuzz.oracles.resources import _drops

MASK = 0xFFFFFFFF


def begin_call(store, instance, sig) -> None:
    """Before a call of `f`: the instance's `gr` functions and the destructor's state."""
    if sig.guest:  # (`resources.begin_call` set `SCOPE.store`)
        GUEST.begin(store, instance)
        GUEST.before = GUEST.dtor_state()


def check_call(oracle, store, entry, call) -> None:
    """The `gr` checks after one successful call of `f` (nothing without `gr` in its types)."""
    sig = entry.sig
    if not sig.guest:
        return

    def fail(check: str, detail: str, message: str):
        return oracle.finding(check, detail, message, sig, entry.wat, call.args, call.ret)

    owns = own_reps(entry, call)
    _expect_dtor(fail, "in-call", GUEST.before, owns)
    for rep, x in GUEST.sent:
        if _drops(store, x):
            raise fail(*not_moved(rep))
    before = GUEST.dtor_state()
    for rep, x in GUEST.lent:
        try:
            got = GUEST.call("gr-rep", x)
        except wasmtime.WasmtimeError as e:
            e.__traceback__ = None
            raise fail(*lender_lost(rep, str(e))) from None
        if got != rep:
            raise fail(*lender_rep(rep, got))
    for rep, x in GUEST.lent + GUEST.received:
        if not _drops(store, x):
            raise fail(*drop_refused(rep))
    _expect_dtor(fail, "host-drop", before, [rep for rep, _ in GUEST.lent + GUEST.received])
    GUEST.reset()


def own_reps(entry, call) -> list[int]:
    """The reps of the `own<gr>` handles among the call's arguments (`f` drops each)."""
    sig, args = entry.sig, call.args  # model values (a static case's typed ones: `params_model`)
    if entry.params_model is not None:
        args = tuple(m(a) for m, a in zip(entry.params_model, args))
    return [v.rep for (_, t), a in zip(sig.params, args)
            for h, v in handles(t, a, GuestHandle) if h.own]


def _expect_dtor(fail, when: str, before: tuple[int, int], reps: list[int]) -> None:
    count, total = GUEST.dtor_state()
    problem = dtor_problem(when, count - before[0], total - before[1], reps)
    if problem:
        raise fail(*problem)


# What each failed check reports: (check, detail, message), on both lanes.
WHEN = {"in-call": "during the call (f drops each own gr it receives)",
        "host-drop": "when the host dropped what it lent and got back"}


def dtor_problem(when: str, runs: int, got: int, reps: list[int]) -> tuple[str, str, str] | None:
    """`gr`'s destructor ran `runs` times for reps summing to `got` (mod 2**32) `when`; it
    should have run once for each of `reps`."""
    got &= MASK
    if runs != len(reps):
        return ("gr-dtor", f"{when}:count={'more' if runs > len(reps) else 'less'}",
                f"gr's destructor ran {runs} time(s) {WHEN[when]}, expected {len(reps)}")
    if got != sum(reps) & MASK:
        return ("gr-dtor", f"{when}:reps", f"gr's destructor ran for reps summing to {got} "
                f"{WHEN[when]}, expected {reps}")
    return None


def not_moved(rep: int) -> tuple[str, str, str]:
    return ("gr-ownership", "own:not-moved",
            f"the host passed own<gr> rep {rep} but could still drop it after the call")


def lender_lost(rep: int, error: str) -> tuple[str, str, str]:
    return ("gr-borrow", "lender:lost", f"the own of rep {rep} the host lent as borrow<gr> is "
            f"unusable after the call: {error}")


def lender_rep(rep: int, got: int) -> tuple[str, str, str]:
    return ("gr-borrow", "lender:rep", f"the own of rep {rep} the host lent as borrow<gr> "
            f"names rep {got} after the call")


def drop_refused(rep: int) -> tuple[str, str, str]:
    return ("gr-dtor", "host-drop:refused", f"Wasmtime refused the host's drop of the gr handle "
            f"of rep {rep} it lent or got back")
