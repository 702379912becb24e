"""Differential oracle: Wasmtime (Cranelift, Winch or Pulley) against the OCaml spec interpreter.

Cases come from `itfuzz.generators.core_cases`. Per input both sides instantiate (outcomes must
agree), then run the calls; after instantiation and after every call the results (integers exact,
floats bitwise with NaN as one class), trap kinds (mapped between the engines), every exported
global, memory (bytes) and table (size and null-ness), every imported memory/global/table and the
host-call log must agree. Stack or fuel exhaustion and resource limits on either side discard the
input (counted in ``stats``, with the throughput counters: ``distinct`` modules run, and the
process's wasm-smith runs and disk-cache answers so far, ``smith_runs``, ``smith_disk_hits``).
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from itfuzz.engines.core_engine import (
    UNSUPPORTED,
    WASMTIME_DISCARD,
    WASMTIME_KINDS,
    core_value_from_wasmtime,
    core_value_to_wasmtime,
    global_value,
    make_core_engine,
    memory_bytes,
    raw_caller,
    table_state,
)
from itfuzz.findings import Discard, Finding, first_line, normalize_error
from itfuzz.generators.core_cases import EDGES, CoreCall, CoreCase, show_value
from itfuzz.generators.core_modules import MAX_MEMORY_PAGES, Item, smith, wasm_to_wat
from itfuzz.lru import LRU
from itfuzz.oracles.discard import is_nondeterministic
from itfuzz.spec.values import Value, comparable

SPEC_FUEL = 2_000_000  # interpreter instructions per top-level call before it gives up (discard)
SPEC_MAX_DEPTH = 300
SPEC_KINDS = {"undefined_element": "oob_table"}


@dataclass
class _Side:
    """One engine's live instance: how to call, read the state, and the host-call log."""

    call: Callable[[CoreCall], tuple]      # -> ("ok", results) | ("trap", kind)
    state: Callable[[set | None], dict]  # kinds of item to re-read (None: all) -> state
    log: list


class DifferentialOracle:
    """Runs `CoreCase`s; raises `Finding` on a disagreement and `Discard` on machine limits.

    ``tamper(side, instance, store)``, a test hook, runs on the Wasmtime side after every call
    (e.g. to change a memory byte or a global behind the interpreter's back)."""

    target = "differential_spec"

    def __init__(self, cache_size: int = 512, spec_fuel: int = SPEC_FUEL,
                 tamper: Callable | None = None, nan_canonicalization: bool = False,
                 on_opcodes: Callable[[Counter], None] | None = None) -> None:
        from itfuzz import spec
        spec.init()  # the OCaml runtime starts before any Wasmtime engine (signal handlers)
        self.spec, self.spec_fuel = spec, spec_fuel
        self.engines: dict[str, Any] = {}
        self.modules: LRU = LRU(cache_size)  # (engine, module hash) → Module or its error
        self.tamper = tamper
        self.nan_canonicalization = nan_canonicalization  # Wasmtime's; see make_core_engine
        self.stats: Counter = Counter()
        self.seen: set[bytes] = set()  # digests of the modules run (bounded), for throughput
        self.on_opcodes = on_opcodes  # gets the executed opcodes of each input (feedback)

    # -- preparation -------------------------------------------------------------------------
    def engine(self, kind: str):
        if kind not in self.engines:
            self.engines[kind] = make_core_engine(kind, self.nan_canonicalization)
        return self.engines[kind]

    def module(self, case: CoreCase, digest: bytes):
        """The compiled Wasmtime module (cached by engine and `digest`, the module's SHA-1)."""
        import wasmtime
        key = (case.engine, digest)

        def compile_module():
            self.stats["compiles"] += 1
            try:
                return wasmtime.Module(self.engine(case.engine), case.wasm)
            except wasmtime.WasmtimeError as e:
                return e  # cached too: the same bytes fail the same way
        entry = self.modules.get_or_make(key, compile_module)
        if isinstance(entry, Exception):
            text = str(entry).lower()
            if any(m in text for m in UNSUPPORTED[case.engine]):
                raise self.discard(f"unsupported:{case.engine}")
            raise self.finding("wasmtime-compile", normalize_error(first_line(entry)) or "",
                               f"Wasmtime/{case.engine} rejected a module the spec interpreter "
                               f"accepts: {first_line(entry, 500)}", case, [])
        return entry

    def discard(self, reason: str) -> Discard:
        self.stats[f"discard:{reason}"] += 1
        return Discard(reason)

    def finding(self, check: str, detail: str, message: str, case: CoreCase,
                done: list) -> Finding:
        calls = "\n".join(f"#{i}: {c}" for i, c in enumerate(done)) or "(instantiation)"
        return Finding(check, detail, message, target=self.target, engine=case.engine,
                       values=f"calls up to the disagreement:\n{calls}",
                       wat=wasm_to_wat(case.wasm) if case.wasm else "")

    # -- the spec interpreter ----------------------------------------------------------------
    def _spec_side(self, case: CoreCase) -> _Side | None | tuple:
        spec = self.spec
        log: list = []
        imports = {}
        for it in case.info.imports:
            imports[it.module, it.name] = self._spec_import(it, log)
        try:
            inst = spec.instantiate(case.wasm, imports)
        except spec.Trap as e:
            return "trap", SPEC_KINDS.get(e.kind, e.kind)
        except spec.Exhaustion as e:
            raise self.discard(f"spec-exhaustion:{e.message.split()[0]}") from None
        except spec.SpecError as e:
            raise self.finding("spec-rejected", type(e).__name__,
                               f"the spec interpreter rejected a valid module: "
                               f"{type(e).__name__}: {first_line(e, 500)}", case, []) from None
        exports = inst.exports()
        imported = [(f"import {it.module}.{it.name}", imports[it.module, it.name])
                    for it in case.info.imports if it.kind != "func"]
        items = [(f"export {e.name}", exports[e.name]) for e in case.info.exports
                 if e.kind != "func"] + imported

        def call(c: CoreCall) -> tuple:
            try:
                return "ok", tuple(inst.interpret(c.name, c.args))
            except spec.Trap as e:
                return "trap", SPEC_KINDS.get(e.kind, e.kind)
            except spec.Exhaustion as e:
                raise self.discard(f"spec-exhaustion:{e.message.split()[0]}") from None

        snapshot: dict = {}

        def state(kinds: set | None = None) -> dict:
            """The state, re-reading only the kinds of item the last call may have written."""
            for name, ext in items:
                if kinds is not None and ext.kind not in kinds:
                    continue
                val = ext.read()
                if ext.kind == "table":
                    snapshot[name] = tuple(comparable(v) for v in val)
                elif ext.kind == "global":
                    snapshot[name] = comparable(val)
                else:
                    snapshot[name] = val
            return snapshot

        return _Side(call, state, log)

    def _spec_import(self, it: Item, log: list):
        spec = self.spec
        if it.kind == "func":
            params, results = it.type
            name = f"{it.module}.{it.name}"
            return spec.HostFunc(params, results, lambda args: _host(name, args, results, log))
        if it.kind == "memory":
            return spec.HostMemory(*_bounded(it.type))
        if it.kind == "table":
            ref, lo, hi = it.type
            return spec.HostTable(ref, lo, hi)
        t, mutable = it.type
        return spec.HostGlobal(t, mutable, Value(t, 0 if t in EDGES else None))

    # -- Wasmtime ----------------------------------------------------------------------------
    def _wasmtime_side(self, case: CoreCase, module) -> _Side | tuple:
        import wasmtime
        store = wasmtime.Store(self.engine(case.engine))
        log: list = []
        imports = [self._wasmtime_import(store, it, log) for it in case.info.imports]
        try:
            inst = wasmtime.Instance(store, module, imports)
        except wasmtime.Trap as e:
            return "trap", self._trap_kind(e)
        except wasmtime.WasmtimeError as e:
            raise self._wasmtime_error(case, e, []) from None
        exports = inst.exports(store)
        items = [(f"export {e.name}", e.kind, e.type, exports[e.name]) for e in case.info.exports
                 if e.kind != "func"]
        items += [(f"import {it.module}.{it.name}", it.kind, it.type, ext)
                  for it, ext in zip(case.info.imports, imports) if it.kind != "func"]
        funcs = {e.name: raw_caller(store, exports[e.name], *e.type) for e in case.info.funcs()}

        def call(c: CoreCall) -> tuple:
            try:
                return "ok", funcs[c.name](c.args)
            except wasmtime.Trap as e:
                return "trap", self._trap_kind(e)
            except wasmtime.WasmtimeError as e:
                raise self._wasmtime_error(case, e, []) from None
            finally:
                if self.tamper is not None:
                    self.tamper("wasmtime", inst, store)

        def state(kinds: set | None = None) -> dict:
            """The whole state (Wasmtime's side is always read in full)."""
            out = {}
            for name, kind, t, ext in items:
                if kind == "memory":
                    out[name] = memory_bytes(store, ext)
                elif kind == "global":
                    out[name] = comparable(global_value(store, ext, t[0]))
                else:
                    out[name] = table_state(store, ext, t[0])
            return out

        return _Side(call, state, log)

    def _wasmtime_import(self, store, it: Item, log: list):
        import wasmtime
        vt = lambda t: getattr(wasmtime.ValType, t)()
        if it.kind == "func":
            params, results = it.type
            name = f"{it.module}.{it.name}"

            def host(*args):
                vals = [core_value_from_wasmtime(t, a) for t, a in zip(params, args)]
                out = [core_value_to_wasmtime(v) for v in _host(name, vals, results, log)]
                return None if not out else out[0] if len(out) == 1 else out
            ty = wasmtime.FuncType([vt(t) for t in params], [vt(t) for t in results])
            return wasmtime.Func(store, ty, host)
        if it.kind == "memory":
            return wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(*_bounded(it.type))))
        if it.kind == "table":
            ref, lo, hi = it.type
            return wasmtime.Table(store, wasmtime.TableType(vt(ref), wasmtime.Limits(lo, hi)), None)
        t, mutable = it.type
        return wasmtime.Global(store, wasmtime.GlobalType(vt(t), mutable),
                               0.0 if t in ("f32", "f64") else 0 if t in EDGES else None)

    def _trap_kind(self, e) -> str:
        code = e.trap_code
        name = code.name if code is not None else "NONE"
        if name in WASMTIME_DISCARD:
            raise self.discard(f"wasmtime:{name}") from None
        return WASMTIME_KINDS.get(name, f"wasmtime:{name}")

    def _wasmtime_error(self, case: CoreCase, e, done: list) -> Exception:
        text = str(e)
        if is_nondeterministic(text):
            return self.discard("wasmtime-limit")
        return self.finding("wasmtime-error", normalize_error(first_line(e)) or "",
                            f"Wasmtime/{case.engine} failed with a non-trap error: "
                            f"{first_line(e, 500)}", case, done)

    # -- the oracle --------------------------------------------------------------------------
    def run(self, case: CoreCase) -> None:
        self.stats["inputs"] += 1
        for name in ("runs", "disk_hits"):  # the process's wasm-smith cache so far
            self.stats[f"smith_{name}"] = getattr(smith, name)
        if case.wasm is None:
            raise self.discard("no-module")
        self.stats[f"engine:{case.engine}"] += 1
        self.stats[f"source:{case.source}"] += 1
        digest = hashlib.sha1(case.wasm).digest()
        if len(self.seen) < 1 << 20:
            self.seen.add(digest)
            self.stats["distinct"] = len(self.seen)
        module = self.module(case, digest)
        self.spec.set_limits(self.spec_fuel, SPEC_MAX_DEPTH)  # process-wide: set for every run
        spec_side = self._spec_side(case)
        wasm_side = self._wasmtime_side(case, module)
        if isinstance(spec_side, tuple) or isinstance(wasm_side, tuple):
            got = lambda s: s if isinstance(s, tuple) else ("ok",)
            if got(spec_side) != got(wasm_side):
                raise self.finding("diff-instantiate", _outcome_class(got(spec_side), got(wasm_side)),
                                   f"instantiation: spec {got(spec_side)}, "
                                   f"wasmtime/{case.engine} {got(wasm_side)}", case, [])
            self.stats["instantiate-trap"] += 1
            return
        done: list[CoreCall] = []
        self._compare_state(case, spec_side, wasm_side, done, None)
        self.spec.opcode_counts()  # reset: what each call executes says what it may have written
        executed: Counter = Counter()
        try:
            self._run_calls(case, spec_side, wasm_side, done, executed)
        finally:  # interpreter opcodes as libFuzzer features (the target's reporter)
            if self.on_opcodes is not None:
                self.on_opcodes(executed)

    def _run_calls(self, case: CoreCase, spec_side: _Side, wasm_side: _Side, done: list,
                   executed: Counter) -> None:
        for c in case.calls:
            done.append(c)
            self.stats["calls"] += 1
            want = spec_side.call(c)
            counts = self.spec.opcode_counts()
            executed.update(counts)
            written = written_kinds(counts)
            got = wasm_side.call(c)
            if tuple(map(_key, want)) != tuple(map(_key, got)):
                raise self.finding(
                    f"diff-{'return' if want[0] == got[0] == 'ok' else 'outcome'}",
                    _outcome_class(want, got),
                    f"call {c}: spec {_render(want)}, wasmtime/{case.engine} {_render(got)}",
                    case, done)
            self.stats[f"call:{want[0] if want[0] == 'ok' else want[1]}"] += 1
            self._compare_state(case, spec_side, wasm_side, done, written)
        if case.calls:  # the interpreter's state read in full once more: no stale snapshot
            self._compare_state(case, spec_side, wasm_side, done, None)

    def _compare_state(self, case: CoreCase, spec_side: _Side, wasm_side: _Side,
                       done: list, written: set | None) -> None:
        if spec_side.log != wasm_side.log:
            raise self.finding("diff-host-calls", "", f"host calls differ: spec {spec_side.log}, "
                               f"wasmtime/{case.engine} {wasm_side.log}", case, done)
        want, got = spec_side.state(written), wasm_side.state(None)
        for name in want:
            if want[name] != got[name]:
                kind = name.split()[0] + "-" + _state_kind(want[name])
                raise self.finding(f"diff-{kind}", "", f"after {done[-1] if done else 'instantiation'}"
                                   f": {name} differs: {_state_diff(want[name], got[name])}",
                                   case, done)


# Opcodes that can change a memory, a global or a table (0xFCxx as 0xFC00 + xx).
WRITERS = {
    "memory": {*range(0x36, 0x3F), 0x40, 0xFC08, 0xFC0A, 0xFC0B},
    "global": {0x24},
    "table": {0x26, 0xFC0C, 0xFC0E, 0xFC0F, 0xFC11},
}


def written_kinds(counts: dict[int, int]) -> set[str]:
    """The kinds of state the interpreter may have changed, from its executed opcodes."""
    return {kind for kind, ops in WRITERS.items() if not ops.isdisjoint(counts)}


def _host(name: str, args: list[Value], results: tuple[str, ...], log: list) -> list[Value]:
    """The stub behind every imported function (both sides): log the call, return zeros."""
    log.append((name, tuple(comparable(a) for a in args)))
    return [Value(t, 0 if t in EDGES else None) for t in results]


def _bounded(limits: tuple) -> tuple[int, int]:
    lo, hi = limits
    return lo, hi if hi is not None else max(lo, MAX_MEMORY_PAGES)


def _key(x):
    return tuple(comparable(v) for v in x) if isinstance(x, tuple) else x


def _render(outcome: tuple) -> str:
    if outcome[0] == "ok":
        return "returned [" + ", ".join(show_value(v) for v in outcome[1]) + "]"
    return f"trapped ({outcome[1]})"


def _outcome_class(want: tuple, got: tuple) -> str:
    """A value-free class for the signature: the two outcomes, or the result types."""
    if want[0] == got[0] == "ok" and len(want) > 1:
        return ",".join(v.type for v in want[1])
    name = lambda o: o[0] if o[0] == "ok" else o[1]
    return f"{name(want)}-vs-{name(got)}"


def _state_kind(value) -> str:
    if isinstance(value, bytes):
        return "memory"
    if isinstance(value, tuple) and value and isinstance(value[0], str):
        return "global"
    return "table"


def _state_diff(want, got) -> str:
    if isinstance(want, bytes) and isinstance(got, bytes):
        if len(want) != len(got):
            return f"size {len(want)} (spec) vs {len(got)} (wasmtime)"
        i = next(i for i, (a, b) in enumerate(zip(want, got)) if a != b)
        return (f"first different byte at {i:#x}: spec {want[i:i + 8].hex()} vs "
                f"wasmtime {got[i:i + 8].hex()}")
    return f"spec {want!r} vs wasmtime {got!r}"
