"""Hostile-guest oracle: Wasmtime must do what our canonical-ABI model (the spec) says.

Cases come from `itfuzz.generators.hostile`, each with the model's verdict. Per input: a fresh
store, ``init`` hands the image, flat values and realloc answers to the guest, then the call:

- lift (``lift-result``, ``lift-args``): a value verdict → Wasmtime returns (or the host receives)
  exactly that value, once; a trap verdict → Wasmtime traps and the host never runs.
- ``lower-args``: a value verdict → no trap, the guest's realloc log equals the model's call for
  call, the flat params the guest received equal the model's bit for bit, and the whole guest
  memory equals the model's byte for byte; a trap verdict → Wasmtime traps.
- ``adapter``: as ``lower-args`` for the callee, and a trap verdict also means the callee was
  never entered (it tells the host when it is).

Findings: ``abi-missing-trap|REASON`` (Wasmtime returned where the spec traps),
``abi-extra-trap|…`` (Wasmtime trapped where the spec gives a value), ``abi-value|…``,
``abi-realloc-log|…``, ``abi-flat|…``, ``abi-memory|…:byte`` (``…:released:PAIR`` when every
differing byte lies in memory `realloc` gave back and did not hand out again),
``abi-host-calls|…``; each detail starts with the direction (``abi-missing-trap|adapter:realloc-oob``).
"""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import wasmtime
from wasmtime import component as wc

from itfuzz.engines.compat import call_func
from itfuzz.engines.component_engine import instantiate_pooled, make_component_engine
from itfuzz.engines.configs import Engines, StrategyMismatch, engine_name
from itfuzz.engines.wasmtime_values import ambiguities, from_wasmtime, to_wasmtime, wasmtime_py_work
from itfuzz.findings import Discard, Finding, first_line, normalize_error, short
from itfuzz.generators.hostile import HostileCase, Verdict, handed_types
from itfuzz.generators.hostile_components import (
    COUNT_AT,
    LOG_AT,
    MAX_LOG,
    PARAMS_AT,
    REPORT_START,
    hostile_component_text,
)
from itfuzz.lru import LRU
from itfuzz.model.engine_config import engine_text
from itfuzz.model.values import diff
from itfuzz.oracles.compile import compile_checked
from itfuzz.oracles.discard import is_nondeterministic

SLOW_WORK = 50000  # wasmtime-py's variant conversion work above which a case is discarded (K12)


@dataclass
class _HostState:
    """What the host import `g` received during one `run` (lift-args)."""

    calls: list = field(default_factory=list)
    error: str = ""
    error_class: str = ""  # value-free: the exception's class and message without the path
    entered: int = 0  # adapter: times the callee's core code started


@dataclass
class _Compiled:
    wat: str
    component: wc.Component
    linker: wc.Linker
    host: _HostState
    engine: Any = None  # the wasmtime.Engine it was compiled on


class HostileOracle:
    """Runs `HostileCase`s; raises `Finding` on a disagreement with the model, `Discard` when
    the case cannot run (too large, or a type wasmtime-py cannot convert unambiguously)."""

    target = "component_hostile"

    def __init__(self, cache_size: int = 256, engine: wasmtime.Engine | None = None) -> None:
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
        self.engine = engine or make_component_engine()
        # one engine per configuration; an evicted engine takes its compiled components along
        # (else they would keep it, and a pooling engine's ~64 GiB of address space, alive)
        self.engines = Engines(self.engine, on_evict=self.forget_config)
        self.cache: LRU = LRU(cache_size)  # (configuration, component text) → _Compiled
        # (direction, signature input bytes) → (component text, discard reason or ""): the
        # per-signature work of an input, done once (a mutated value keeps its signature bytes)
        self.by_key: LRU = LRU(4 * cache_size)
        self.stats: Counter = Counter()

    # -- preparation -------------------------------------------------------------------------
    def signature_work(self, case: HostileCase) -> tuple[str, str]:
        """(component text, why wasmtime-py cannot take the types or ""), cached by the case's
        signature input bytes when it has them."""
        def make() -> tuple[str, str]:
            types = case.types
            reason = ("wasmtime-py-ambiguous" if ambiguities(types)  # K1/K2: not the ABI's
                      else "wasmtime-py-slow" if max(wasmtime_py_work(t) for t in types) > SLOW_WORK
                      else "")  # K12
            return hostile_component_text(case.sig, case.direction), reason
        if not case.sig.key:
            return make()
        return self.by_key.get_or_make((case.direction, case.sig.key), make)

    def forget_config(self, config) -> None:
        """Drop the components compiled for `config` (its engine is no longer kept)."""
        for key in [k for k in self.cache if k[0] == config]:
            del self.cache[key]

    def compiled(self, case: HostileCase, wat: str) -> _Compiled:
        return self.cache.get_or_make((case.config, wat), lambda: self._compile(case, wat))

    def _compile(self, case: HostileCase, wat: str) -> _Compiled:
        try:
            engine = self.engines.get(case.config)
        except StrategyMismatch as e:
            raise self.finding("engine-strategy", case.config.strategy if case.config else "",
                               str(e), case, wat) from None
        component = compile_checked(engine, wat, self.stats,
                                    lambda c, d, m: self.finding(c, d, m, case, wat),
                                    engine_text(case.config))
        linker = wc.Linker(engine)
        host = _HostState()
        if case.direction == "lift-args":
            convs = [from_wasmtime(t, f"arg {n}") for n, t in case.sig.params]

            def g(store, *args):  # must not reference the linker (see RoundTripOracle._host)
                try:
                    host.calls.append(tuple(c(a) for c, a in zip(convs, args)))
                except Exception as e:  # a wasmtime-py value of the wrong shape
                    host.error = f"{type(e).__name__}: {first_line(e)}"
                    host.error_class = _error_class(e)
            linker.root().add_func("g", g)
        if case.direction == "adapter":
            def entered(store):
                host.entered += 1
            linker.root().add_func("entered", entered)
        return _Compiled(wat, component, linker, host, engine)

    # -- running -----------------------------------------------------------------------------
    def run(self, case: HostileCase) -> None:
        self.stats["inputs"] += 1
        if case.note:
            raise self.discard("too-many-reallocs" if "realloc" in case.note else "too-large")
        wat, unconvertible = self.signature_work(case)
        if unconvertible:
            raise self.discard(unconvertible)
        self.stats[f"direction:{case.direction}"] += 1
        self.stats[f"verdict:{case.expected.name}"] += 1
        self.stats[f"engine:{case.config.strategy if case.config else 'default'}"] += 1
        entry = self.compiled(case, wat)
        store = wasmtime.Store(entry.engine)
        try:
            instance = instantiate_pooled(
                lambda: entry.linker.instantiate(store, entry.component))
            image, flat, answers = case.image.hex(), _hex_flat(case), _hex_answers(case)
            if case.direction == "adapter":
                call_func(store, instance.get_func(store, "caller-init"), image, flat, "")
                call_func(store, instance.get_func(store, "callee-init"), "", "", answers)
            else:
                call_func(store, instance.get_func(store, "init"), image, flat, answers)
        except wasmtime.WasmtimeError as e:
            raise self.finding("hostile-setup", normalize_error(first_line(e)) or "",
                               f"instantiating or init failed: {first_line(e, 500)}", case,
                               entry.wat) from None
        if case.direction == "lift-result":
            self._lift_result(case, entry, store, instance)
        elif case.direction == "lift-args":
            self._lift_args(case, entry, store, instance)
        elif case.direction == "lower-args":
            self._lower_args(case, entry, store, instance)
        else:
            self._adapter(case, entry, store, instance)

    def _call(self, store, func, args: tuple, case: HostileCase | None = None,
              wat: str = "") -> tuple[str, Any]:
        """("ok", result) or ("trap", message); machine limits discard; wasmtime-py failing to
        convert a valid value (an embedding bug, not the ABI's) is a `host-api-error` finding."""
        try:
            return "ok", call_func(store, func, *args)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as e:
            if is_nondeterministic(e):
                raise self.discard("machine-limit") from None
            return "trap", first_line(e, 300)
        except (TypeError, ValueError, OverflowError, AttributeError) as e:
            if case is None:
                raise
            raise self.finding("host-api-error",
                               f"{type(e).__name__}:{normalize_error(first_line(e))}",
                               f"wasmtime-py failed on a valid value: {type(e).__name__}: "
                               f"{first_line(e, 300)}", case, wat) from None

    def _lift_result(self, case: HostileCase, entry: _Compiled, store, instance) -> None:
        status, got = self._call(store, instance.get_func(store, "f"), (), case, entry.wat)
        want = case.expected
        if self._trap_agreement(case, entry, want, status, got):
            return
        t = case.sig.result
        try:
            value = from_wasmtime(t, "result")(got)
        except Exception as e:
            raise self.finding("abi-host-value", normalize_error(_error_class(e)) or "",
                               f"wasmtime-py returned a value of the wrong shape: {e}", case,
                               entry.wat) from None
        m = diff(t, want.values[0], value, "result")
        if m:
            raise self.finding("abi-value", m.detail, f"the host got a different value: {m}",
                               case, entry.wat)

    def _lift_args(self, case: HostileCase, entry: _Compiled, store, instance) -> None:
        host = entry.host
        host.calls.clear()
        host.error = ""
        status, got = self._call(store, instance.get_func(store, "run"), (), case, entry.wat)
        want = case.expected
        if host.error:
            raise self.finding("abi-host-value", normalize_error(host.error_class) or "",
                               f"wasmtime-py handed the host a value of the wrong shape: "
                               f"{host.error}", case, entry.wat)
        if want.trap is not None and host.calls:
            raise self.finding("abi-missing-trap", trap_class(want),
                               f"the spec traps ({want.trap}: {want.trap_detail}) but the host "
                               f"ran with {short(host.calls[0], 600)}", case, entry.wat)
        if self._trap_agreement(case, entry, want, status, got):
            return
        if len(host.calls) != 1:
            raise self.finding("abi-host-calls", str(len(host.calls)),
                               f"the host ran {len(host.calls)} times, not once", case, entry.wat)
        for (n, t), w, h in zip(case.sig.params, want.values, host.calls[0]):
            m = diff(t, w, h, f"arg {n}")
            if m:
                raise self.finding("abi-value", m.detail, f"the host got a different value: {m}",
                                   case, entry.wat)

    def _lower_args(self, case: HostileCase, entry: _Compiled, store, instance) -> None:
        args = tuple(to_wasmtime(t)(v) for t, v in zip(case.types, case.values))
        status, got = self._call(store, instance.get_func(store, "f"), args, case, entry.wat)
        want = case.expected
        if self._trap_agreement(case, entry, want, status, got):
            return
        self._check_lowering(case, entry, store, instance.get_func(store, "report"))

    def _adapter(self, case: HostileCase, entry: _Compiled, store, instance) -> None:
        host = entry.host
        host.entered = 0
        status, got = self._call(store, instance.get_func(store, "run"), (), case, entry.wat)
        want = case.expected
        if want.trap is not None and host.entered:
            raise self.finding("abi-missing-trap", trap_class(want),
                               f"the spec traps in the adapter ({want.trap}: {want.trap_detail}) "
                               f"but the callee was entered", case, entry.wat)
        if self._trap_agreement(case, entry, want, status, got):
            return
        if host.entered != 1:
            raise self.finding("abi-host-calls", f"entered-{host.entered}",
                               f"the callee was entered {host.entered} times, not once", case,
                               entry.wat)
        self._check_lowering(case, entry, store, instance.get_func(store, "callee-report"))

    def _check_lowering(self, case: HostileCase, entry: _Compiled, store, report_func) -> None:
        """After a lowering the spec completes: the realloc log, the flat params and the memory
        the guest got (the last two unless a NaN, whose bits are open, was lowered)."""
        want = case.expected
        status, text = self._call(store, report_func, ())
        if status != "ok":
            raise self.finding("hostile-setup", normalize_error(text) or "",
                               f"report failed after a successful call: {text}", case, entry.wat)
        report = bytes.fromhex(text)
        reallocs = _realloc_log(report)
        expected = [(c.old_ptr, c.old_size, c.align, c.new_size, c.result) for c in want.reallocs]
        # the guest logs the first MAX_LOG calls and counts the rest (as `_realloc_log` reads it)
        expected = expected[:MAX_LOG] + [(-1,) * 5] * (len(expected) - MAX_LOG)
        if reallocs != expected:
            i = next((i for i, (a, b) in enumerate(zip(expected, reallocs)) if a != b),
                     min(len(expected), len(reallocs)))
            detail = "count" if len(reallocs) != len(expected) and i == min(len(expected),
                                                                            len(reallocs)) else "args"
            raise self.finding("abi-realloc-log", detail,
                               f"realloc call {i} differs: spec {expected[i:i + 1]}, Wasmtime "
                               f"{reallocs[i:i + 1]} ({len(expected)} vs {len(reallocs)} calls)",
                               case, entry.wat)
        if want.nan:
            self.stats["nan-unjudged"] += 1
            return
        types = handed_types(case.sig, case.direction)
        flat = _flat_params(report, len(types))
        if flat != list(want.values):
            i = next(i for i, (a, b) in enumerate(zip(want.values, flat)) if a != b)
            raise self.finding("abi-flat", types[i],
                               f"flat param {i}: spec {want.values[i]:#x}, guest got {flat[i]:#x}",
                               case, entry.wat)
        memory = report[-len(want.memory):]
        if memory != want.memory:
            diffs = [i for i, (a, b) in enumerate(zip(want.memory, memory)) if a != b]
            i = diffs[0]
            released = released_bytes(want.reallocs, len(want.memory))
            where = "byte"
            if all(released[d] for d in diffs):  # only in memory the guest no longer owns
                where = "released:" + "->".join(case.sig.encoding_pair
                                                if case.direction == "adapter"
                                                else ("host", case.sig.encoding))
            raise self.finding("abi-memory", where,
                               f"guest memory differs at {len(diffs)} byte(s), first at {i:#x}"
                               + (" (all in blocks realloc gave back)" if where == "released"
                                  else "") + f": spec {want.memory[i:i + 16].hex()}, Wasmtime "
                               f"wrote {memory[i:i + 16].hex()}", case, entry.wat)

    def _trap_agreement(self, case: HostileCase, entry: _Compiled, want: Verdict, status: str,
                        got: Any) -> bool:
        """True when both trapped (nothing more to compare); raises on a trap disagreement."""
        if want.trap is not None:
            if status == "trap":
                self.stats[f"trap-agrees:{want.trap}"] += 1
                return True
            raise self.finding("abi-missing-trap", trap_class(want),
                               f"the spec traps ({want.trap}: {want.trap_detail}) but Wasmtime "
                               f"returned {short(got, 600)}", case, entry.wat)
        if status == "trap":
            raise self.finding("abi-extra-trap", normalize_error(got) or "",
                               f"Wasmtime trapped where the spec gives a value: {got}", case,
                               entry.wat)
        return False

    # -- reporting ---------------------------------------------------------------------------
    def discard(self, reason: str) -> Discard:
        self.stats[f"discard:{reason}"] += 1
        return Discard(reason)

    def finding(self, check: str, detail: str, message: str, case: HostileCase,
                wat: str) -> Finding:
        """A finding; the details of the model's checks (`abi-…`) name the direction, so a known
        bug of one path never hides the same symptom on another."""
        if check.startswith("abi-"):
            detail = f"{case.direction}:{detail}"
        return Finding(check, detail, message, target=self.target, wit=case.sig.wit(), wat=wat,
                       values=describe_case(case), engine=engine_name(case.config),
                       config=case.config.text() if case.config is not None else "")


def trap_class(want: Verdict) -> str:
    """The spec's trap reason; for a realloc trap also which call it was (alloc, grow or shrink:
    Wasmtime checks them on different paths, fixed in different releases)."""
    if want.trap in ("realloc-oob", "realloc-misaligned") and want.reallocs:
        c = want.reallocs[-1]  # the call whose answer trapped
        kind = "alloc" if c.old_ptr == 0 else "grow" if c.new_size > c.old_size else "shrink"
        return f"{want.trap}:{kind}"
    return want.trap or ""


def released_bytes(reallocs, size: int) -> bytearray:
    """A mask of the bytes realloc gave back and did not hand out again: each resized block's
    old range minus its new one, minus every block returned by a later call."""
    mask = bytearray(size)
    for k, c in enumerate(reallocs):
        if c.old_ptr == 0:
            continue
        lo, hi = min(c.old_ptr, size), min(c.old_ptr + c.old_size, size)
        mask[lo:hi] = b"\1" * (hi - lo)
        for later in reallocs[k:]:
            lo, hi = min(later.result, size), min(later.result + later.new_size, size)
            mask[lo:hi] = bytes(hi - lo)
    return mask


def _error_class(e: BaseException) -> str:
    """Value-free class of a conversion error: its type and message without the value path."""
    return f"{type(e).__name__}:{str(e).split(': ', 1)[-1]}"


def describe_case(case: HostileCase) -> str:
    """The case's values, what the guest hands over and the model's verdict, for a report."""
    lines = [f"direction: {case.direction}"]
    names = [n for n, _ in case.sig.params] or ["result"]
    lines += [f"{n} = {short(v, 2000)}" for n, v in zip(names, case.values)]
    if case.direction == "adapter":
        lines[0] += f" (caller {case.sig.encoding} -> callee {case.sig.callee_encoding})"
    if case.direction != "lower-args":
        lines.append("flat values handed over: [" + ", ".join(f"{x:#x}" for x in case.flat) + "]")
        lines.append(f"memory image at {0x400:#x}: {len(case.image)} bytes: "
                     f"{case.image[:256].hex()}{'…' if len(case.image) > 256 else ''}")
        lines.append("mutations: " + ("; ".join(map(str, case.mutations)) or "none"))
    if case.answers:
        lines.append("realloc answers: " + ", ".join(
            f"{k}={a:#x}" for k, a in zip(case.answer_kinds, case.answers)))
    v = case.expected
    lines.append(f"spec verdict: {v.name}" + (f" ({v.trap_detail})" if v.trap_detail else ""))
    if v.reallocs:
        lines.append("spec realloc calls: " + ", ".join(
            f"({c.old_ptr:#x}, {c.old_size}, {c.align}, {c.new_size}) -> {c.result:#x}"
            for c in v.reallocs))
    return "\n".join(lines)


def _hex_flat(case: HostileCase) -> str:
    return b"".join(x.to_bytes(8, "little") for x in case.flat).hex()


def _hex_answers(case: HostileCase) -> str:
    return b"".join((a & 0xFFFFFFFF).to_bytes(4, "little") for a in case.answers).hex()


def _word(report: bytes, at: int) -> int:
    i = at - REPORT_START
    return int.from_bytes(report[i:i + 4], "little")


def _realloc_log(report: bytes) -> list[tuple[int, ...]]:
    """(old, old size, align, new size, answer) of every realloc call the guest saw."""
    count = _word(report, COUNT_AT)
    n = min(count, MAX_LOG)
    out = [tuple(_word(report, LOG_AT + 20 * k + 4 * j) for j in range(5)) for k in range(n)]
    return out + [(-1,) * 5] * (count - n)


def _flat_params(report: bytes, n: int) -> list[int]:
    i = PARAMS_AT - REPORT_START
    return [int.from_bytes(report[i + 8 * k:i + 8 * k + 8], "little") for k in range(n)]
