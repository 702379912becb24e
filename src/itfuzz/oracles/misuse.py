"""Host-API misuse oracle: invalid values handed to wasmtime-py must raise, harmlessly.

For a `MisuseCase` (an invalid argument of the export `f`, an invalid result of the host function
`g`, or a wrong argument count) the required behaviour is: a Python exception of a type
wasmtime-py uses for bad values (`ACCEPTED_ERRORS`), the process survives, and a valid call still
completes afterwards. Findings:

- `misuse-accepted|KIND`: the invalid value went through; the report shows what arrived (the
  host's argument, or `f`'s result). KIND is the misuse kind, `wrong-type:CLASS` for a value
  of the wrong Python class.
- `misuse-wrong-exception|TYPE`: another exception type (e.g. an `assert` inside wasmtime-py).
- `misuse-store-poisoned|SITE:ERROR`: after a rejected argument (no guest code ran), the same
  store no longer completes a valid call.
- `misuse-after-failed|SITE`: after a rejected host result, a valid call fails in a fresh store.
  A host error is a trap and Wasmtime poisons the whole store after a trap by design (instances
  cannot be re-entered, bytecodealliance/wasmtime#4354, #11686), so the same store may only
  answer "cannot enter component instance".
- `misuse-abort|char-surrogate`: a lone-surrogate `char` aborts the process inside Wasmtime's C
  API (known finding M5). It is predicted and reported without running, so fuzzing continues;
  set `ITFUZZ_MISUSE_RUN_ABORTS=1` (or `run_aborts=True`) to really run it.

A resource misuse (`case.res`, `engines/resource_misuse.py`) puts a bad handle, made at run time
in the case's store, in place of one handle of an argument or of the host's result; the checks
are the same, and after a same-store failure (K9's pattern) a valid call must still complete in
a fresh store (`misuse-after-failed|arg-fresh-store:…`). A consumed handle as the host's result
is K28's abort (`misuse-abort|ret:moved-own`), predicted like K8's.

Hangs are left to libFuzzer's -timeout. Compilation, caching and the valid call are the
round-trip oracle's (this class extends it; its host function serves both).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import wasmtime

from itfuzz.engines.compat import call_func
from itfuzz.engines.invalid_values import MisuseCase, show
from itfuzz.engines.resource_misuse import BadHandles, substitute
from itfuzz.engines.wasmtime_values import from_wasmtime
from itfuzz.findings import Discard, Finding, first_line, normalize_error
from itfuzz.known_findings import known
from itfuzz.oracles import resources
from itfuzz.oracles.capi_misuse import run_c_misuse
from itfuzz.oracles.discard import is_nondeterministic
from itfuzz.oracles.roundtrip import UNTAGGED, Prepared, RoundTripOracle

ACCEPTED_ERRORS = (TypeError, ValueError, OverflowError, AttributeError,
                   wasmtime.WasmtimeError, wasmtime.Trap)
POISONED = "cannot enter component instance"  # Wasmtime's trap after a trap in the store
# Kinds (KIND, or SITE:KIND) that abort the process on the releases their known finding lists
# (K8, K15, K28), and why; on a release
# with the fix (`known` is None there) they run for real.
PREDICTED_ABORTS = {
    "char-surrogate": "Wasmtime's C API aborts the process (val.rs: char::from_u32(..).unwrap() "
                      "panics on a surrogate)",
    # K28: a consumed ResourceAny as the host's result (the resource misuse `moved-own`)
    "ret:moved-own": "wasmtime-py's OwnType.convert_to_c marks the result slot as a resource, "
                     "then fails to take the consumed handle's pointer, and the error path "
                     "frees the garbage pointer (double free or corruption)",
    # K15: a host result string with a lone surrogate (the same error path, strings)
    "ret:string-surrogate": "wasmtime-py's string converter marks the result slot, then fails "
                            "to encode the lone surrogate, and the error path frees a pointer "
                            "it never set (double free or segfault)",
}


@dataclass
class _Misuse:
    """What the host function does while a misuse call runs."""

    active: bool = False
    raw_ret: Any = None          # returned as is (the invalid result), when `invalid_ret`
    invalid_ret: bool = False
    ret: Any = None              # otherwise this valid model value is returned
    arrived: tuple | None = None  # raw arguments the host received
    ret_fn: Callable | None = None  # makes the returned value from the converted `ret`


class MisuseOracle(RoundTripOracle):
    """Runs misuse cases; raises `Finding` when wasmtime-py or Wasmtime mishandles one."""

    target = "host_api_misuse"

    def __init__(self, *args, run_aborts: bool | None = None, **kw) -> None:
        super().__init__(*args, **kw)
        self.box = _Misuse()
        self.bad_handles = BadHandles()
        if run_aborts is None:
            run_aborts = os.environ.get("ITFUZZ_MISUSE_RUN_ABORTS", "") not in ("", "0")
        self.run_aborts = run_aborts

    def _host(self, entry: Prepared) -> Callable:
        checked = super()._host(entry)
        box, result_in = self.box, entry.result_in

        def g(store, *args):
            if not box.active:
                return checked(store, *args)
            box.arrived = args
            if box.invalid_ret:
                return box.raw_ret
            out = result_in(box.ret) if result_in else None
            return box.ret_fn(out) if box.ret_fn is not None else out
        return resources.in_scope(g) if resources.uses_resources(entry.sig) else g

    # -- running -----------------------------------------------------------------------------
    def run(self, case: MisuseCase) -> None:  # type: ignore[override]
        self.stats["inputs"] += 1
        entry = self.prepare(case.sig, case.config)
        if case.lane == "c" and self.c_lane.lib is not None:
            return run_c_misuse(self, case, entry)  # the C-level twin
        kind = case.misuse.kind if case.misuse is not None else ""
        if case.res is not None:
            kind = f"{case.where}:{kind}"
        predicted = next((k for k in (kind, f"{case.where}:{kind}") if k in PREDICTED_ABORTS), "")
        if predicted and not self.run_aborts \
                and known(f"misuse-abort|{predicted}", self.target) is not None:
            raise self.misuse_finding(
                "misuse-abort", predicted,
                f"predicted without running: {PREDICTED_ABORTS[predicted]}; run with "
                "ITFUZZ_MISUSE_RUN_ABORTS=1 to see it", case, entry)
        store, instance, f = self.instantiate(entry)
        bad = None
        if case.res is not None:
            resources.begin_call(store)
            try:
                bad = self.bad_handles.make(
                    case.res, store, instance, entry.engine,
                    lambda: self.run_call(store, f, entry, case.call.args, case.call.ret))
            except wasmtime.WasmtimeError as e:  # making the handle failed (K25 before 50)
                self._raise_error("call", e, entry, case.call.args, case.call.ret)
        try:
            error = self.misuse_call(store, f, entry, case, bad)
            self.check_after(store, f, entry, case, error)
        finally:
            self.bad_handles.keep = []

    def misuse_call(self, store, f, entry: Prepared, case: MisuseCase,
                    bad: Any = None) -> BaseException:
        """Make the invalid call; the exception it raised, or a finding. `bad`: the bad
        resource handle of a resource misuse (`case.res`), put in place of its handle."""
        sig, box, rm = case.sig, self.box, case.res
        if rm is not None:
            resources.begin_call(store)
        wargs = [conv(a) for conv, a in zip(entry.params_in, case.call.args)]
        box.ret_fn = None
        if case.where == "arg" and rm is not None:
            t, v = sig.params[case.index][1], case.call.args[case.index]
            wargs[case.index] = substitute(t, v, wargs[case.index], rm.index, bad)
        elif case.where == "arg":
            wargs[case.index] = case.misuse.value
        elif case.where == "arity":
            wargs.append(wargs[-1] if wargs else 0)
        elif rm is not None:  # a bad handle in the host's result
            box.ret_fn = lambda w: substitute(sig.result, case.call.ret, w, rm.index, bad)
        box.active, box.arrived, box.ret = True, None, case.call.ret
        box.invalid_ret, box.raw_ret = case.where == "ret" and rm is None, (
            case.misuse.value if case.where == "ret" else None)
        out: Any = None
        try:
            out = call_func(store, f, *wargs)
        except ACCEPTED_ERRORS as e:
            if case.where == "arg" and box.arrived is not None:
                raise self.accepted(case, entry, self.arrived_arg(case, entry)) from None
            return e
        except Exception as e:
            if is_nondeterministic(e):  # deep types can exhaust the Python stack
                self.stats["discarded"] += 1
                raise Discard(first_line(e)) from None
            raise self.misuse_finding(
                "misuse-wrong-exception", type(e).__name__,
                f"wasmtime-py raised {type(e).__name__}: {first_line(e, 300)} (not one of "
                f"{', '.join(c.__name__ for c in ACCEPTED_ERRORS)})", case, entry) from None
        finally:
            box.active = False
        if case.where == "arg":
            raise self.accepted(case, entry, self.arrived_arg(case, entry))
        if case.where == "ret":
            shown = show(out) if sig.result is None else self._model(sig.result, out, "result")
            raise self.accepted(case, entry, f"f returned {shown}")
        raise self.accepted(case, entry, "the call ran")

    def arrived_arg(self, case: MisuseCase, entry: Prepared) -> str:
        if box_args := self.box.arrived:
            t = case.sig.params[case.index][1]
            return f"the host received {self._model(t, box_args[case.index], 'arg')}"
        return "the host was not called"

    @staticmethod
    def _model(t, w: Any, path: str) -> str:
        try:
            return f"{show(from_wasmtime(t, path)(w))} (model value)"
        except Exception:  # an ill-shaped arrival: show it raw
            return show(w)

    def check_after(self, store, f, entry: Prepared, case: MisuseCase,
                    error: BaseException) -> None:
        """A valid call completes after the rejected misuse (a fresh store after a trap)."""
        if case.where != "ret":
            try:
                self.valid_call(store, f, entry, case)
            except Finding as after:
                if self.valid_calls_own(after):
                    raise
                if case.res is not None:  # a same-store failure is K9's; a fresh store works
                    self.check_fresh(entry, case, error, "arg-fresh-store:")
                raise self.misuse_finding(
                    "misuse-store-poisoned", f"{case.where}:{type(error).__name__}",
                    f"the misuse raised {type(error).__name__}: {first_line(error, 200)}; "
                    f"then a valid call in the same store failed: {after.message}",
                    case, entry) from None
            return
        try:
            self.valid_call(store, f, entry, case)
        except Finding as after:
            if self.valid_calls_own(after):
                raise
            if POISONED not in after.message:
                raise self.misuse_finding(
                    "misuse-after-failed", "ret-same-store:" + after.check,
                    f"after the rejected host result ({type(error).__name__}), a valid call in "
                    f"the same store failed otherwise than with '{POISONED}': {after.message}",
                    case, entry) from None
        self.check_fresh(entry, case, error, "ret-fresh-store:")

    def valid_calls_own(self, after: Finding) -> bool:
        """Whether the valid call's failure is its own known bug, not the misuse's doing: a
        wasmtime-py ambiguity of the valid values (K1/K2), or a known finding of valid calls on
        this release (e.g. K13, K25 on older releases). Reported as that finding."""
        return after.check == UNTAGGED or known(after.signature, self.target) is not None

    def valid_call(self, store, f, entry: Prepared, case: MisuseCase) -> None:
        """The case's valid call (handles are made in `store`)."""
        if case.res is not None:
            resources.begin_call(store)
        self.run_call(store, f, entry, case.call.args, case.call.ret)

    def check_fresh(self, entry: Prepared, case: MisuseCase, error: BaseException,
                    site: str) -> None:
        """After the rejected misuse, a valid call completes in a fresh store."""
        fresh, _, f2 = self.instantiate(entry)
        try:
            self.valid_call(fresh, f2, entry, case)
        except Finding as after:
            if self.valid_calls_own(after):
                raise
            raise self.misuse_finding(
                "misuse-after-failed", site + after.check,
                f"after the rejected {'host result' if case.where == 'ret' else 'argument'} "
                f"({type(error).__name__}), a valid call in a fresh store failed: "
                f"{after.message}", case, entry) from None

    # -- reporting ---------------------------------------------------------------------------
    def accepted(self, case: MisuseCase, entry: Prepared, arrival: str) -> Finding:
        kind = case.misuse.kind if case.misuse is not None else "arity"
        if kind == "wrong-type":  # the class matters: which of wasmtime-py's tests let it in
            kind += ":" + type(case.misuse.bad).__name__
        return self.misuse_finding("misuse-accepted", kind,
                                   f"wasmtime-py accepted an invalid value: {arrival}",
                                   case, entry)

    def misuse_finding(self, check: str, detail: str, message: str, case: MisuseCase,
                       entry: Prepared) -> Finding:
        f = self.finding(check, normalize_error(detail) or detail, message, case.sig,
                         entry.wat, case.call.args, case.call.ret)
        f.values = f"misuse: {case.describe()}\n-- valid values --\n{f.values}"
        return f
