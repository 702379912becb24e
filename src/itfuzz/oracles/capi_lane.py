"""The round-trip oracle's C-API lane: the same case and checks, through Wasmtime's C API.

The component is compiled by the oracle (wasmtime-py) and instantiated through a C linker whose
host function `g` (in C, `lane.c`) compares the arguments it gets with the encoded originals
and returns the encoded result; `f`'s result is compared in C too. Only on a failed check are
C values read back into model values, so the finding is the wasmtime-py lane's (same checks,
same signatures, strict `diff`), with the lane named in its engine line.

Host resource handles (`own`/`borrow` of `rN`): the C linker defines the host resources (the
types of `engines.resources`, destructors that log in C); C makes the handles it sends, converts
back and checks (type, ownership, rep) the ones it gets, and after each call runs the checks of
`oracles.resources.check_call` (moved owns, ended borrows, destructors) itself, in the same order;
a failed one is reported here with that module's words. The guest's own resource `gr` in `f`'s
types likewise: C makes the handles with the component's `gr-new` and reads those `f` returns
with `gr-rep`, `g` is checked against the reps it must see (`g`'s type has `u32` there), and C
runs the checks of `oracles.guest_handles.check_call`. Once per input, the guest-resource checks
of `oracles.resources.check_guest` run through wasmtime-py on the same instance.
"""
from __future__ import annotations

import sys
from typing import Any

import wasmtime

from itfuzz.engines import resources as host_resources
from itfuzz.engines.capi import encoding, lane
from itfuzz.engines.component_engine import instantiate_pooled
from itfuzz.engines.guest_handles import COUNT, NEW, REP, SUM
from itfuzz.findings import Finding
from itfuzz.generators.components import CALLEE_COUNT_EXPORT, COUNT_EXPORT
from itfuzz.known_findings import known
from itfuzz.model.case import Call, Signature, TestCase
from itfuzz.model.resources import GuestHandle, Handle, guest_reps, resource_ids
from itfuzz.model.types import Type, walk
from itfuzz.model.values import diff
from itfuzz.oracles import guest_handles, resources
from itfuzz.oracles.calls import name_call, too_big_for_py

_noted: list[str] = []  # the start-up note is printed once per process


def supported(sig: Signature, handles: bool = True) -> bool:
    """The lane builds every kind; resource handles (of host resources, `Handle`, and of the
    guest's `gr`, `GuestHandle`) if `handles` (the library has the resource functions)."""
    host = getattr(sig, "host_type", None)
    types = [host(t) if host else t for t in sig.types()]
    return all((n.kind in encoding.KIND and n.kind != "resource")
               or (handles and type(n) in (Handle, GuestHandle)) for t in types for n in walk(t))


def host_types(sig: Signature) -> tuple[list[Type], Type | None]:
    """The parameter and result types the host sees (maps may despecialize, see Signature)."""
    host = getattr(sig, "host_type", lambda t: t)
    return ([host(t) for _, t in sig.params],
            host(sig.result) if sig.result is not None else None)


def host_count(sig: Signature) -> int:
    """How many host resources the lane defines (r0 up to the highest one used)."""
    ids = resource_ids(sig.types()) if resources.uses_resources(sig) else ()
    return max(ids) + 1 if ids else 0


class Plan:
    """How one signature's calls are encoded (made once per compiled component)."""

    def __init__(self, sig: Signature, counters: list[str] | None = None) -> None:
        self.counters = counters or []  # the post-return counter exports checked in C
        self.ptypes, self.rtype = host_types(sig)  # `f`'s side
        # `g`'s side: the same but with `gr` in `f`'s types (`g` has its reps as u32 there)
        self.guest = bool(getattr(sig, "guest", False))
        self.gtypes, self.grtype = self.ptypes, self.rtype
        if self.guest:
            self.gtypes = [sig.g_type(t) for _, t in sig.params]
            self.grtype = sig.g_type(sig.result) if sig.result is not None else None
        self.encs = [encoding.encoder(t) for t in self.ptypes]
        self.gencs = [encoding.encoder(t) for t in self.gtypes]
        self.renc = encoding.encoder(self.grtype) if self.grtype is not None else None
        self.echo = sig.echo and len(self.ptypes) == 1 and self.ptypes[0] == self.rtype
        self.nargs, self.nresults = len(self.ptypes), int(self.rtype is not None)
        self.host_resources = host_count(sig)  # r0…r(n-1): their `consume-rN` are needed
        self.handles = self.guest or self.host_resources > 0  # C checks them after each call


def model_calls(calls, entry) -> list[Call]:
    """The calls with model values (a static case's typed values through its `tm_N`)."""
    # (the findings then show model values where the wasmtime-py lane shows typed ones)
    if entry.params_model is None:
        return list(calls)
    rm = entry.result_model
    return [Call(tuple(m(a) for m, a in zip(entry.params_model, c.args)),
                 rm(c.ret) if rm is not None else None) for c in calls]


class _Fixed:
    """A counter value C read, shaped like a wasmtime-py Func for
    `RoundTripOracle.check_post_return` (`call_func` calls it, then `post_return`)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __call__(self, store) -> int:
        return self.value

    def post_return(self, store) -> None:
        """Nothing to complete."""


class CLaneRunner:
    """Decides which cases run on the C API (`takes`) and runs them; counts calls per lane
    (`counts`)."""

    def __init__(self, oracle, fault: str = "", fault_where: str = "") -> None:
        self.oracle = oracle
        self.lib, self.note = lane.load()
        if self.note and not _noted:
            _noted.append(self.note)
            print(f"itfuzz: {self.note}", file=sys.stderr)
        self.fault, self.fault_where = fault, fault_where  # planted faults (tests)
        self.force: str | None = None  # run every case on this lane (tests, benchmarks)
        self.counts = {"c": 0, "py": 0}
        # wasmtime-py calls of cases that chose the C lane, by why they could not run there
        self.forced: dict[str, int] = {}
        self.why_py = ""  # that reason for the case `takes` refused last ("": it chose py)

    def takes(self, tc: TestCase, entry) -> bool:
        """Whether this case runs on the C lane (else on wasmtime-py, which counts its calls
        with `count_py`): it chose C, or it chose wasmtime-py with a first call too big for that
        lane (`calls.too_big_for_py`; counted in the oracle's `py-big-on-c`), and C can run it."""
        self.why_py = ""
        chose = self.force or getattr(tc, "lane", "py")
        big = (chose != "c" and not self.force and self.oracle.big_py_on_c
               and too_big_for_py(tc.calls))
        if chose != "c" and not big:
            return False
        # `transform` plants faults in wasmtime-py's converters: such an oracle stays there.
        why = ("no-lane" if self.lib is None else "transform"
               if self.oracle.transform is not None else "")
        if not why:
            ok = getattr(entry, "capi_supported", None)
            if ok is None:  # once per compiled component: it walks the types
                ok = entry.capi_supported = supported(entry.sig, self.lib.resources)
            why = "" if ok else "unsupported-kind"
        if not big:
            self.why_py = why  # (a case that chose wasmtime-py stays there without a reason)
        elif not why:
            self.oracle.stats["py-big-on-c"] = self.oracle.stats.get("py-big-on-c", 0) + 1
        return not why

    def count_py(self) -> None:
        """One call on the wasmtime-py lane (counted per reason if the case chose C)."""
        self.counts["py"] += 1
        if self.why_py:
            self.forced[self.why_py] = self.forced.get(self.why_py, 0) + 1

    def linker(self, entry) -> lane.Linker:
        """The entry's C linker (made once per compiled component)."""
        linker = getattr(entry, "capi_linker", None)
        if linker is None:
            assert self.lib is not None
            engine = getattr(entry, "engine", None) or self.oracle.engine
            linker = lane.Linker(self.lib, engine, self.fault, self.fault_where,
                                 resources=host_count(entry.sig),
                                 type_base=host_resources.TYPE_BASE)
            entry.capi_linker = linker
        return linker

    def run(self, tc: TestCase, entry) -> None:
        try:
            self._run(tc, entry)
        except Finding as f:
            f.engine = f"{f.engine}, C-API lane" if f.engine else "C-API lane"
            raise

    def _run(self, tc: TestCase, entry) -> None:
        o, sig = self.oracle, entry.sig
        linker = self.linker(entry)
        if not entry.reflected and not getattr(entry, "capi_reflection_done", False):
            self.check_reflection(entry)
        store = wasmtime.Store(getattr(entry, "engine", None) or o.engine)
        try:
            inst = instantiate_pooled(lambda: linker.instantiate(store, entry.component))
        except lane.LaneError as e:
            o._raise_error("instantiate", wasmtime.WasmtimeError(str(e)), entry)
        f = inst.func("f")
        plan = getattr(entry, "capi_plan", None)
        if plan is None:  # encoders are made once per compiled component
            names: list[str] = []
            if sig.count_post_return:
                names = [COUNT_EXPORT] + ([CALLEE_COUNT_EXPORT] if sig.shape == "composed" else [])
            plan = entry.capi_plan = Plan(sig, names)
        inst.check_counters([inst.func(n) for n in plan.counters])  # in C, after every call
        inst.use_guest(*((inst.func(NEW), inst.func(REP)) if plan.guest else (None, None)))
        if plan.handles:  # the resource checks after each call, in C
            counters = (inst.func(COUNT), inst.func(SUM)) if plan.guest else (None, None)
            if plan.guest and None in counters:  # (C would skip the destructor checks)
                raise RuntimeError(f"C lane: the component lacks {COUNT} or {SUM}")
            inst.check_handles(*counters, plan.host_resources)
        guest_check = resources.uses_resources(sig) and sig.shape == "single"
        # all the calls (no wasmtime-py work to bound); C gets model values
        mcalls, n = model_calls(tc.calls, entry), 0
        try:
            for n, (call, mcall) in enumerate(zip(tc.calls, mcalls), 1):
                self.call(inst, f, entry, mcall.args, mcall.ret, plan, n, call)
                if n == 1 and guest_check:  # once per input, as on the wasmtime-py lane
                    resources.begin_call(store)
                    resources.check_guest(o, store, inst.py_instance(), entry, call)
        except Finding as e:
            name_call(e, n, len(tc.calls))
            raise

    def check_reflection(self, entry) -> None:
        """The oracle's reflection check (through wasmtime-py), once per entry; a known
        wasmtime-py failure there (K22: it cannot reflect maps) does not stop this lane."""
        o = self.oracle
        store, _, f = o.instantiate(entry)
        try:
            o.check_reflection(store, f, entry)
        except Finding as e:
            if known(e.signature, o.target) is None:
                raise
        entry.capi_reflection_done = True

    def call(self, inst: lane.Instance, f, entry, args: tuple, ret: Any, plan: Plan,
             n: int = 0, call: Call | None = None) -> None:
        """Call number `n` of this instance (its post-return counters and resource checks are
        in C; `call`: the case's own call, which the resource findings show)."""
        self.oracle.stats["calls"] += 1
        self.counts["c"] += 1
        a = bytearray()
        for enc, v in zip(plan.encs, args):
            enc(a, v)
        encoded = seen = bytes(a)
        host_args = f_ret = None
        if plan.guest:  # what `g` sees: the reps of the `gr` handles
            h = bytearray()
            for enc, t, v in zip(plan.gencs, plan.ptypes, args):
                enc(h, guest_reps(t, v))
            seen = host_args = bytes(h)
        if plan.renc is None:
            result = b""
        elif plan.echo:  # the host returns its argument: the same encoding
            result, f_ret = seen, (encoded if plan.guest else None)
        else:
            r = bytearray()
            assert plan.rtype is not None
            plan.renc(r, guest_reps(plan.rtype, ret) if plan.guest else ret)
            result = bytes(r)
            if plan.guest:  # `f` returns handles where `g` returned reps
                f_ret = encoding.encode(plan.rtype, ret)
        out = inst.call(f, encoded, plan.nargs, result, plan.nresults, host_args, f_ret)
        if out is not None:
            if out.status == lane.COUNTER:
                # the wasmtime-py lane's check and finding, on the value C read
                name = plan.counters[out.fail_index]
                self.oracle.check_post_return(None, [(name, _Fixed(out.count))], n, entry,
                                              Call(args, ret))
                raise RuntimeError(f"C lane: {name} is {out.count}, yet the check passed")
            if out.status == lane.HANDLES:
                self.report_handles(out, inst, entry, call or Call(args, ret))
            self.report(out, entry, args, ret, plan)

    def report_handles(self, out: lane.Outcome, inst: lane.Instance, entry, call: Call) -> None:
        """Raises the finding of a failed resource check in C (status HANDLES) in the words of
        the wasmtime-py lane's check (`oracles.resources`, `oracles.guest_handles`); a call
        the checks made that failed raises Wasmtime's error, as there."""
        sig, ck, got = entry.sig, out.check, out.check_got
        records = inst.handles()
        _, own, resource, rep = (records[out.fail_index] if out.fail_index < len(records)
                                 else (0, False, 0, 0))
        problem: tuple[str, str, str] | None = None
        if ck in (lane.CK_GR_INCALL_COUNT, lane.CK_GR_INCALL_REPS):
            owns = guest_handles.own_reps(entry, call)
            runs = got if ck == lane.CK_GR_INCALL_COUNT else len(owns)
            problem = guest_handles.dtor_problem("in-call", runs, got, owns)
        elif ck in (lane.CK_GR_HOSTDROP_COUNT, lane.CK_GR_HOSTDROP_REPS):
            reps = [r[3] for kind in (lane.GR_LENT, lane.GR_RECEIVED) for r in records
                    if r[0] == kind]
            runs = got if ck == lane.CK_GR_HOSTDROP_COUNT else len(reps)
            problem = guest_handles.dtor_problem("host-drop", runs, got, reps)
        elif ck == lane.CK_GR_NOT_MOVED:
            problem = guest_handles.not_moved(rep)
        elif ck == lane.CK_GR_LENDER_LOST:
            problem = guest_handles.lender_lost(rep, out.message)
        elif ck == lane.CK_GR_LENDER_REP:
            problem = guest_handles.lender_rep(rep, got)
        elif ck == lane.CK_GR_DROP_REFUSED:
            problem = guest_handles.drop_refused(rep)
        elif ck == lane.CK_NOT_MOVED:
            problem = resources.not_moved(Handle(resource, own), rep, sig.names)
        elif ck == lane.CK_BORROW_OUTLIVED:
            problem = resources.outlived(rep)
        elif ck == lane.CK_DTOR_WITHOUT_DROP:
            problem = resources.dtor_without_drop(inst.dtors())
        elif ck == lane.CK_CONSUME_DTOR:
            problem = resources.consume_dtor(Handle(resource, True), rep, inst.dtors(), sig.names)
        elif ck == lane.CK_CALL_ERROR:
            raise wasmtime.WasmtimeError(out.message)
        if problem is None:  # C and the model's words disagree: a harness bug
            raise RuntimeError(f"C lane: resource check {ck} failed (saw {got}) but the "
                               "wasmtime-py lane's check passes")
        raise self.oracle.finding(*problem, sig, entry.wat, call.args, call.ret)

    def report(self, out: lane.Outcome, entry, args: tuple, ret: Any, plan: Plan) -> None:
        """Raises the finding (or Discard) of a failed call, as the wasmtime-py lane would
        (but a case confusion is never put down to wasmtime-py's untagged variants here)."""
        o, sig, wat = self.oracle, entry.sig, entry.wat
        if out.status in (lane.ERROR, lane.POST_RETURN):
            where = "call" if out.status == lane.ERROR else "post-return"
            o._raise_error(where, wasmtime.WasmtimeError(out.message), entry, args, ret)
        if out.status == lane.HOST_TWICE:
            raise o.finding("host-call-count", "more-than-once",
                            "host function ran more than once", sig, wat)
        if out.status == lane.HOST_COUNTS:
            raise o.finding("host-arg-count", "", f"{out.fail_index} args", sig, wat, args, ret)
        if out.status == lane.HOST_COUNT:
            raise o.finding("host-call-count", f"count={out.count}",
                            f"host function ran {out.count} times, expected once", sig, wat,
                            args, ret)
        if out.status == lane.HOST_ARG:  # compared as `g` sees them (`gr` handles: reps)
            got = encoding.decode(plan.gtypes, out.out)
            for (name, _), pt, t, a, have in zip(sig.params, plan.ptypes, plan.gtypes, args,
                                                 got):
                want = guest_reps(pt, a) if plan.guest else a
                m = diff(t, want, have, f"arg {name}")
                if m:
                    raise o.finding("host-arg-mismatch", m.detail, f"host saw a different argument: {m}", sig,
                                    wat, args, ret)
        rtype = plan.rtype
        if out.status == lane.RESULT and rtype is not None:
            (got,) = encoding.decode([rtype], out.out)
            m = diff(rtype, ret, got, "result")
            if m:
                raise o.finding("result-mismatch", m.detail,
                                f"f returned a different value than the host: {m}", sig, wat,
                                args)
        # The C comparison and the model's strict equality disagree, or our encoding is bad:
        # a harness bug, never a finding.
        raise RuntimeError(f"C lane status {out.status} without a model difference "
                           f"(dump {out.out[:200]!r})")
