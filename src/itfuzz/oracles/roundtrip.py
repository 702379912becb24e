"""Dynamic round-trip oracle on `wasmtime.component` with types made at run time.

For each call of a test case: call the export `f`; in the host function `g` check that the
arguments equal the originals and return the chosen result; check that `f` returned exactly that
result and that `g` ran exactly once. Compiled components and their linkers are cached by
component text (bounded LRU); every input gets a fresh `Store` and runs all its calls in it
(`oracles.calls` says why, and names the failing call in a finding).
"""
from __future__ import annotations

import re
import sys
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import wasmtime
from wasmtime import component as wc

from itfuzz.engines.compat import call_func, typed_func
from itfuzz.engines.component_engine import instantiate_pooled, make_component_engine
from itfuzz.engines.configs import Engines, StrategyMismatch, engine_name
from itfuzz.engines.resources import define_resources
from itfuzz.engines.wasmtime_values import (
    ShapeError,
    ambiguities,
    ambiguity,
    from_wasmtime,
    to_wasmtime,
    wasmtime_py_work,
)
from itfuzz.findings import Discard, Finding, first_line, normalize_error, short
from itfuzz.generators.components import (
    CALLEE_COUNT_EXPORT,
    COUNT_EXPORT,
    component_text,
    for_config,
)
from itfuzz.lru import LRU
from itfuzz.model.case import Signature, TestCase
from itfuzz.model.engine_config import EngineConfig, engine_text
from itfuzz.model.resources import guest_as_u32, guest_reps, has_guest
from itfuzz.model.types import List, Map, Record, Tuple, Type, _VariantLike
from itfuzz.model.values import diff
from itfuzz.oracles import guest_handles, reflection, resources
from itfuzz.oracles.calls import affordable, name_call
from itfuzz.oracles.capi_lane import CLaneRunner
from itfuzz.oracles.compile import compile_checked
from itfuzz.oracles.discard import is_nondeterministic

# wasmtime-py's untagged variant dispatch is ambiguous for some types (see `ambiguity`); the
# findings it causes get this check name so that they group, and are skipped when known.
UNTAGGED = "wasmtime-py-untagged"
# Above this much `wasmtime_py_work` a value takes seconds to convert: reported (and skipped
# when known) instead of running into libFuzzer's timeout.
SLOW = "wasmtime-py-slow"
SLOW_WORK = 50000  # ≈ 2 s per call of the deepest value on this machine
# Compiled components kept (~200 KiB each): a 120 s libFuzzer run's corpus grows past a thousand
# inputs, and with 256 a quarter of its compiles were of components compiled before and evicted.
CACHE_SIZE = 2048
# Engines kept, one per configuration; an evicted one takes its components along. A 120 s run
# meets several hundred configurations: with 128 kept, 14-18 % of its compiles were of dropped
# components (hits 90.2-90.6 %), with 512 none (91.8 %). An engine costs ~50 KiB of memory and
# ~27 GiB of address space (pooling reserves; 200 random configurations: +9 MiB RSS, +5.5 TiB
# virtual, of 128 TiB).
ENGINES = 512



class _HostCheckFailed(Exception):
    """Raised inside the host function to abort the call once a check has failed."""


@dataclass
class _CallState:
    """What the host function must see and return during one call of `f`."""

    args: tuple = ()
    ret: Any = None
    want: tuple = ()  # the model values of `args` (what the host must see)
    count: int = 0
    failure: Finding | None = None


@dataclass
class Prepared:
    """A compiled component with its linker and value converters (one cache entry)."""

    sig: Signature
    wat: str
    component: wc.Component
    linker: wc.Linker
    state: _CallState
    params_in: list[Callable]     # case value → wasmtime-py, per param
    params_out: list[Callable]    # wasmtime-py → model, per param
    result_in: Callable | None
    result_out: Callable | None
    # Case value → model, when a target's case values are not model values (the static target's
    # typed values); None: they are.
    params_model: list[Callable] | None = None
    result_model: Callable | None = None
    reflected: bool = False  # the export's reflected type has been checked
    work: int = 0  # wasmtime-py variant work of its costliest value (bounds the calls run)
    engine: Any = None  # the wasmtime.Engine it is compiled for (its config's)
    config: EngineConfig | None = None

    @property
    def key(self) -> Hashable:
        """Its cache key: the component text, per engine configuration."""
        return self.wat if self.config is None else (self.config, self.wat)


class RoundTripOracle:
    """Runs test cases; raises `Finding` on a failed check and `Discard` on machine limits."""

    target = "component_roundtrip"
    big_py_on_c = True  # a wasmtime-py case with a big first call runs on C (`calls.PY_MAX_NODES`)

    def __init__(self, cache_size: int = CACHE_SIZE, engine: wasmtime.Engine | None = None,
                 transform: Callable[[Prepared], None] | None = None) -> None:
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
        self.engine = engine or make_component_engine()
        self.cache: LRU = LRU(cache_size)  # component text → Prepared entry
        self.by_key: dict[tuple, Hashable] = {}  # (config, signature input bytes) → entry key
        # One engine per configuration; its entries go with it.
        self.engines = Engines(self.engine, ENGINES, on_evict=self.forget_config)
        self.texts: LRU = LRU(cache_size)  # signature input bytes → component text
        self.config: EngineConfig | None = None  # the configuration of the case running now
        self.transform = transform  # test hook: fault injection into a prepared entry
        self.stats: dict[str, Any] = {"inputs": 0, "calls": 0, "compiles": 0, "discarded": 0}
        self.c_lane = CLaneRunner(self)  # cases whose `lane` is "c" (if it can run here)
        self.stats["lanes"] = self.c_lane.counts  # calls per lane
        self.stats["forced_py"] = self.c_lane.forced  # …of cases that chose C, by reason
        self.seen: set[int] = set()  # hashes of the component texts compiled (bounded)

    # -- preparation -------------------------------------------------------------------------
    def prepare(self, sig: Signature, config: EngineConfig | None = None) -> Prepared:
        """The cached entry for `sig` on `config`'s engine (by its input key, then by component
        text), or a new one."""
        self.use_config(config)
        entry = self.cache.get(self.by_key.get((config, sig.key), "")) if sig.key else None
        if entry is not None:
            self.cache.move_to_end(entry.key)
            return entry
        entry = self.entry(self.wat(sig, config), sig, lambda: dynamic_converters(sig), config)
        self._alias((config, sig.key), entry)
        return entry

    def text(self, sig: Signature) -> str:
        """`component_text(sig)`, cached by the signature's input bytes (a structure edit of the
        engine configuration keeps them, and needs the same text compiled on another engine)."""
        if not sig.key:
            return component_text(sig)
        return self.texts.get_or_make(sig.key, lambda: component_text(sig))

    def wat(self, sig: Signature, config: EngineConfig | None) -> str:
        """The component text `prepare(sig, config)` compiles."""
        return for_config(self.text(sig), config)

    def component_of(self, tc) -> tuple[EngineConfig | None, str]:
        """(engine configuration, component text) that `prepare_case(tc)` compiles: what the
        precompile helper (`engines.precompile`) compiles ahead of time, under the same
        disk-cache key. `tc` needs its structure only (signature, configuration)."""
        return tc.config, self.wat(tc.sig, tc.config)

    def prepare_case(self, tc) -> Prepared:
        """The entry a test case runs on (targets with other cases override this)."""
        return self.prepare(tc.sig, tc.config)

    def use_config(self, config: EngineConfig | None) -> None:
        """The case about to run uses `config` (its findings name it; counted per engine)."""
        self.config = config
        self.engines.touch(config)
        name = f"engine:{config.strategy if config is not None else 'default'}"
        self.stats[name] = self.stats.get(name, 0) + 1

    def entry(self, wat: str, sig: Signature, converters: Callable[[], dict],
              config: EngineConfig | None = None) -> Prepared:
        """The cached entry of this component text on `config`'s engine, or a new one compiled
        with `converters()` (the `Prepared` fields from `params_in` on)."""
        key = wat if config is None else (config, wat)
        return self.cache.get_or_make(key, lambda: self._compile(wat, sig, converters, config))

    def _compile(self, wat: str, sig: Signature, converters: Callable[[], dict],
                 config: EngineConfig | None = None) -> Prepared:
        """A new entry: the component compiled, its linker with the checking host function."""
        work = max((wasmtime_py_work(t) for t in sig.types()), default=0)
        if work > SLOW_WORK:
            # Deterministic stand-in for the timeout wasmtime-py would hit (never cached).
            raise self.finding(SLOW, "variant-nesting",
                               f"wasmtime-py would make ~{work} uncached add_classes/_tagged "
                               f"calls per value (exponential in variant nesting)", sig, wat)
        try:
            engine = self.engines.get(config)
        except StrategyMismatch as e:
            raise self.finding("engine-strategy", config.strategy if config else "", str(e),
                               sig, wat) from None
        if len(self.seen) < 1 << 20:  # distinct components, for throughput numbers
            self.seen.add(hash(wat))
            self.stats["distinct"] = len(self.seen)
        component = compile_checked(engine, wat, self.stats,
                                    lambda c, d, m: self.finding(c, d, m, sig, wat),
                                    engine_text(config))
        state = _CallState()
        entry = Prepared(sig, wat, component, wc.Linker(engine), state, **converters(),
                         engine=engine, config=config)
        entry.work = work
        if self.transform:
            self.transform(entry)
        define_resources(entry.linker, sig.types())
        entry.linker.root().add_func("g", self._host(entry))
        return entry

    def forget_config(self, config: EngineConfig) -> None:
        """Drop the cached entries compiled for `config` (its engine is no longer kept)."""
        for key in [k for k, e in self.cache.items() if e.config == config]:
            del self.cache[key]

    def _alias(self, key: tuple, entry: Prepared) -> None:
        """Remember which entry (config, input key) decodes to (bounded; holds no entry, so
        evicted components are freed)."""
        if key[1]:
            if len(self.by_key) >= 4 * self.cache.size:
                self.by_key.clear()
            self.by_key[key] = entry.key

    def _host(self, entry: Prepared) -> Callable:
        # The closure lives in wasmtime-py's global function table until the linker is freed, so
        # it must not reference the linker (through `entry`): that cycle would keep every
        # compiled component alive.
        state, sig, wat = entry.state, entry.sig, entry.wat
        params_out, result_in = entry.params_out, entry.result_in
        g_params = [(n, guest_as_u32(t)) for n, t in sig.params]  # `gr` handles: u32 reps
        g_object = "object" in ambiguities([t for _, t in g_params])

        def g(store, *args):
            state.count += 1
            if state.count > 1:
                state.failure = self.finding("host-call-count", "more-than-once",
                                             "host function ran more than once", sig, wat)
                raise _HostCheckFailed
            try:
                got = tuple(conv(a) for conv, a in zip(params_out, args))
            except ShapeError as e:
                check, detail = "host-arg-shape", normalize_error(str(e)) or ""
                if "fits no case" in str(e) and g_object:
                    # K1 as `g` receives: the untagged value cannot tell its case (met when
                    # a `gr` case, distinct in `f`'s type, is a u32 in `g`'s)
                    check, detail = UNTAGGED, "object"
                state.failure = self.finding(check, detail, str(e), sig, wat, state.args,
                                             state.ret)
                raise _HostCheckFailed from None
            if len(args) != len(sig.params):
                state.failure = self.finding("host-arg-count", "", f"{len(args)} args", sig,
                                             wat, state.args, state.ret)
                raise _HostCheckFailed
            for (name, t), want, have in zip(g_params, state.want, got):
                m = diff(t, want, have, f"arg {name}")
                if m:
                    check, detail = mismatch_class("host-arg-mismatch", m, sig)
                    state.failure = self.finding(check, detail,
                                                 f"host saw a different argument: {m}", sig,
                                                 wat, state.args, state.ret)
                    raise _HostCheckFailed
            return result_in(state.ret) if result_in else None
        return resources.in_scope(g) if resources.uses_resources(sig) else g

    # -- running -----------------------------------------------------------------------------
    def instantiate(self, entry: Prepared):
        """A fresh store with an instance of the entry's component: (store, instance, f)."""
        if entry.config != self.config:  # the cache handed out another configuration's entry
            raise self.finding("engine-mismatch", "cache",
                               f"the case asks for {engine_text(self.config)}, the cached "
                               f"component was compiled for {engine_text(entry.config)}",
                               entry.sig, entry.wat)
        store = wasmtime.Store(entry.engine)  # the engine it was compiled on (alive with it)
        try:
            instance = instantiate_pooled(
                lambda: entry.linker.instantiate(store, entry.component))
        except wasmtime.WasmtimeError as e:
            self._raise_error("instantiate", e, entry)
        return store, instance, instance.get_func(store, "f")

    def run(self, tc: TestCase) -> None:
        self.stats["inputs"] += 1
        entry = self.prepare_case(tc)
        if self.c_lane.takes(tc, entry):
            return self.c_lane.run(tc, entry)
        store, instance, f = self.instantiate(entry)
        if not entry.reflected:
            self.check_reflection(store, f, entry)
        f = typed_func(store, f)  # its types read once for all the calls
        counters = self.post_return_counters(store, instance, entry.sig)
        calls = affordable(tc.calls, entry.work)
        if len(calls) < len(tc.calls):
            self.stats["calls-skipped"] = self.stats.get("calls-skipped", 0) + len(tc.calls) - len(calls)
        n = 0
        try:
            for n, call in enumerate(calls, 1):
                resources.begin_call(store)
                guest_handles.begin_call(store, instance, entry.sig)
                self.c_lane.count_py()  # a call on the wasmtime-py lane
                self.run_call(store, f, entry, call.args, call.ret)
                self.check_post_return(store, counters, n, entry, call)
                guest_handles.check_call(self, store, entry, call)
                resources.check_call(self, store, instance, entry, call)
        except Finding as e:
            name_call(e, n, len(calls))
            raise

    def check_reflection(self, store, f, entry: Prepared) -> None:
        """The type Wasmtime reflects for `f` is exactly the generated one (once per entry)."""
        try:  # wasmtime-py reflects parts lazily: walking the type can fail too
            m = reflection.mismatch(entry.sig, f.type(store))
        except (TypeError, ValueError, wasmtime.WasmtimeError) as e:  # e.g. a map type (K22)
            raise self.finding("type-reflection", f"{type(e).__name__}:{normalize_error(first_line(e))}",
                               f"Func.type(store) failed: {type(e).__name__}: {first_line(e, 500)}",
                               entry.sig, entry.wat) from None
        if m:
            raise self.finding("type-reflection", m.detail,
                               f"Func.type(store) differs from the generated type at {m}",
                               entry.sig, entry.wat)
        entry.reflected = True

    @staticmethod
    def post_return_counters(store, instance, sig: Signature) -> list[tuple[str, Any]]:
        """(export name, func) of each post-return counter of the component (none unless
        `sig.count_post_return`)."""
        if not sig.count_post_return:
            return []
        names = [COUNT_EXPORT] + ([CALLEE_COUNT_EXPORT] if sig.shape == "composed" else [])
        return [(name, typed_func(store, instance.get_func(store, name))) for name in names]

    def check_post_return(self, store, counters, calls: int, entry: Prepared, call) -> None:
        """Each post-return function ran exactly once per completed call of `f`."""
        for name, count in counters:
            got = call_func(store, count)
            if got != calls:
                raise self.finding("post-return-count", f"{name}:{'more' if got > calls else 'less'}",
                                   f"{name} is {got} after {calls} call(s) of f: post-return "
                                   "must run exactly once per call", entry.sig, entry.wat,
                                   call.args, call.ret)

    def run_call(self, store, f, entry: Prepared, args: tuple, ret: Any) -> None:
        self.stats["calls"] += 1
        state, sig = entry.state, entry.sig
        state.args, state.ret, state.count, state.failure = args, ret, 0, None
        state.want = args
        if entry.params_model is not None:
            state.want = tuple(m(a) for m, a in zip(entry.params_model, args))
        if sig.guest:  # what `g` sees: the rep of each `gr` handle
            state.want = tuple(guest_reps(t, a) for (_, t), a in zip(sig.params, state.want))
        try:
            wargs = [conv(a) for conv, a in zip(entry.params_in, args)]
            out = call_func(store, f, *wargs)
        except _HostCheckFailed:
            raise state.failure from None
        except (wasmtime.WasmtimeError, wasmtime.Trap, TypeError, ValueError, OverflowError,
                AttributeError, RecursionError, MemoryError) as e:
            if state.failure is not None:
                raise state.failure from None
            self._raise_error("call", e, entry, args, ret)
        if state.count != 1:
            raise self.finding("host-call-count", f"count={state.count}",
                               f"host function ran {state.count} times, expected once",
                               sig, entry.wat, args, ret)
        if sig.result is None:
            if out is not None:
                raise self.finding("result-mismatch", "none", f"f returned {short(out)}",
                                   sig, entry.wat, args, ret)
            return
        try:
            got = entry.result_out(out)
        except ShapeError as e:
            raise self.finding("result-shape", normalize_error(str(e)) or "", str(e), sig,
                               entry.wat, args, ret) from None
        want = entry.result_model(ret) if entry.result_model is not None else ret
        m = diff(sig.result, want, got, "result")
        if m:
            check, detail = mismatch_class("result-mismatch", m, sig)
            raise self.finding(check, detail,
                               f"f returned a different value than the host: {m}", sig,
                               entry.wat, args)

    def _raise_error(self, where: str, e: BaseException, entry: Prepared, args=None, ret=None):
        if is_nondeterministic(e):
            self.stats["discarded"] += 1
            raise Discard(first_line(e)) from None
        if (isinstance(e, ValueError) and "not valid for this variant" in str(e)
                and "object" in form_ambiguities(entry.sig)):
            # Only an `object`-capturing case makes wasmtime-py reject a valid value
            # (a bool captured by an int case is silently accepted instead).
            raise self.finding(UNTAGGED, "object",
                                   f"wasmtime-py rejected a valid value: {first_line(e)}",
                                   entry.sig, entry.wat, args, ret) from None
        raise self.finding(f"{where}-error", f"{type(e).__name__}:{normalize_error(first_line(e))}",
                           f"{type(e).__name__}: {first_line(e, 500)}", entry.sig, entry.wat,
                           args, ret) from None

    def finding(self, check: str, detail: str, message: str, sig: Signature, wat: str,
                args: tuple | None = None, ret: Any = None) -> Finding:
        values = ""
        if args is not None:
            values = "\n".join(f"{n} = {short(a, 2000)}" for (n, _), a in zip(sig.params, args))
            if sig.result is not None:
                values += f"\nhost returns = {short(ret, 2000)}"
        return Finding(check, detail, message, target=self.target, wit=sig.wit(), wat=wat,
                       values=values, engine=engine_name(self.config),
                       config=self.config.text() if self.config is not None else "")


def dynamic_converters(sig: Signature) -> dict:
    """The `Prepared` converters of the dynamic target: built from the type model (`g`'s side
    with the u32 reps of `gr` handles, `Signature.g_type`)."""
    return dict(
        params_in=[to_wasmtime(t) for _, t in sig.params],
        params_out=[from_wasmtime(guest_as_u32(t), f"arg {n}") for n, t in sig.params],
        result_in=g_result_in(sig.result) if sig.result is not None else None,
        result_out=from_wasmtime(sig.result, "result") if sig.result is not None else None)


def g_result_in(t: Type) -> Callable:
    """A model value of `f`'s result type `t` → what `g` returns to wasmtime-py: `g`'s form
    (`Signature.g_type`), the rep of each `gr` handle as a u32."""
    conv = to_wasmtime(guest_as_u32(t))
    if not has_guest(t):
        return conv
    return lambda v: conv(guest_reps(t, v))


def mismatch_class(check: str, m, sig: Signature | None = None) -> tuple[str, str]:
    """(check, detail) of a value mismatch, attributing case confusions to a known ambiguity
    (with `gr` in `sig`'s types, one of `f`'s form or of `g`'s, where a handle is a u32)."""
    kind = ambiguity(m.type)
    if not kind and sig is not None and sig.guest:
        kind = ambiguity(guest_as_u32(m.type)) or _guest_ambiguity(sig, m)
    if kind and m.detail.split(":")[1] in ("case", "payload"):
        return UNTAGGED, kind
    return check, m.detail


def form_ambiguities(sig: Signature) -> set[str]:
    """The ambiguity kinds of `f`'s types and, with `gr` in them, of `g`'s form too (where a
    handle is a u32, so a variant may be untagged for `g` and tagged for `f`)."""
    kinds = ambiguities(sig.types())
    return kinds | ambiguities([sig.g_type(t) for t in sig.types()]) if sig.guest else kinds


def _guest_ambiguity(sig: Signature, m) -> str:
    """The ambiguity of `f`'s form of the node a case confusion `g` saw sits at (`g`'s own form
    is `m.type`): with a `gr` case distinct in `f`'s type, wasmtime-py may tag the value in one
    form and not in the other — a bool taken as an int (K2), or an `object` case (K1). Only
    that node counts: a confusion elsewhere in the signature is not explained by it."""
    head = re.match(r"arg ([^.\[<]+)", m.path)
    params = dict(sig.params)
    if head is None or head.group(1) not in params:
        return ""
    node = node_at(params[head.group(1)], m.path[head.end():])
    return ambiguity(node) if node is not None else ""


_STEP = re.compile(r"\.([^.\[<]+)|\[(\d+)\]|<([^>]+)>")


def node_at(t: Type, path: str) -> Type | None:
    """The node of `t` a `diff` path suffix (`.field`, `[i]`, `<case>` steps) names, or None."""
    pos = 0
    node: Type | None = t
    while pos < len(path) and node is not None:
        step = _STEP.match(path, pos)
        if step is None:
            return None
        field, index, case = step.groups()
        if index is not None and isinstance(node, (List, Map)):
            node = node.elem
        elif field is not None and isinstance(node, Record):
            node = dict(node.fields).get(field)
        elif field is not None and isinstance(node, Tuple) and field.isdigit():
            node = node.elems[int(field)] if int(field) < len(node.elems) else None
        elif case is not None and isinstance(node, _VariantLike):
            node = dict(node.cases()).get(case)
        else:
            return None
        pos = step.end()
    return node
