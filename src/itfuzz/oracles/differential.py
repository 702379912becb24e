"""Differential oracle: Wasmtime (Cranelift, Winch or Pulley) against the OCaml spec interpreter.

Input layout (the module first, so that mutations of the later bytes reuse it):
  byte 0   h, the source by ``h % 8``:
           0-3 "smith-id": wasm-smith on a 256-byte seed expanded (SHAKE-128) from the 13-bit
               id ``n + 256 * (h >> 3)``: three input bytes choose a whole module, so nearly all
               mutations reuse a cached one (wasm-smith is a process per module)
           4-6 "smith": wasm-smith on the seed bytes of the input, which mutations evolve
           7   "component": a core module of the round-trip component decoded from the seed
               bytes (``h >> 3`` picks which)
           smith modules disallow traps unless ``(h >> 3) % 4 == 0`` (id: ``id % 4 == 0``)
  byte 1   n: the seed is ``8 * (n % 16)`` bytes from byte 3 on ("smith", "component")
  byte 2   the Wasmtime engine (cranelift, winch, pulley)
  rest     the calls: every exported function once, then extra calls, each argument an edge
           value (MIN, -1, 0, 1, MAX, ±0, ±inf, NaNs, …) half of the time, else random bits.

Per input both sides instantiate (outcomes must agree), then run the calls; after instantiation
and after every call the results (integers exact, floats bitwise with NaN as one class), trap
kinds (mapped between the engines), every exported global, memory (bytes) and table (size and
null-ness), every imported memory/global/table and the host-call log must agree. Stack or fuel
exhaustion and resource limits on either side discard the input (counted in ``stats``).
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ..arbitrary import Unstructured
from ..core_modules import (MAX_MEMORY_PAGES, Item, ModuleInfo, SmithFailed, bound_memories,
                            component_modules, module_info, smith, wasm_to_wat)
from ..findings import Discard, Finding, first_line, normalize_error
from ..lru import LRU
from ..spec.values import Value

ENGINES = ("cranelift", "winch", "pulley")
SOURCES = ("smith-id", "smith", "component")
SOURCE_OF = ("smith-id",) * 4 + ("smith",) * 3 + ("component",)  # by h % 8
ID_SEED_SIZE = 256
SEED_UNITS = 16  # module seeds are up to 8 * 15 bytes
MAX_EXTRA_CALLS = 12
MAX_CALLS = 40
SPEC_FUEL = 2_000_000  # interpreter instructions per top-level call before it gives up (discard)
SPEC_MAX_DEPTH = 300

EDGES = {
    "i32": (0x80000000, 0xFFFFFFFF, 0, 1, 0x7FFFFFFF, 0x80, 0xFF, 0xFFFF, 0x8000, 31, 32, 16),
    "i64": (1 << 63, (1 << 64) - 1, 0, 1, (1 << 63) - 1, 0x80000000, 0xFFFFFFFF, 1 << 32, 63, 64),
    # +0, -0, +inf, -inf, NaN, 1, -1, max, min normal, min subnormal, 2^31, -2^31 - 1 ulp, 0.5,
    # then non-canonical NaNs (signalling, negative, payload): raw bits reach both sides, and
    # what leaks of them (wasm-smith canonicalizes arithmetic results) is the same on x86
    "f32": (0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x3F800000, 0xBF800000,
            0x7F7FFFFF, 0x00800000, 1, 0x4F000000, 0xCF000001, 0x3F000000,
            0x7F800001, 0xFFC00000, 0xFFBFFFFF, 0x7FA00000),
    "f64": (0, 1 << 63, 0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000,
            0x3FF0000000000000, 0xBFF0000000000000, 0x7FEFFFFFFFFFFFFF, 0x0010000000000000, 1,
            0x41E0000000000000, 0xC1E0000000200000, 0x3FE0000000000000,
            0x7FF0000000000001, 0xFFF8000000000000, 0xFFF7FFFFFFFFFFFF, 0x7FF4000000000000),
}


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Value, ...]

    def __str__(self) -> str:
        return f"{json.dumps(self.name)}({', '.join(show_value(a) for a in self.args)})"


@dataclass(frozen=True)
class DiffCase:
    source: str                 # one of SOURCES
    seed: bytes                 # the bytes the module came from
    engine: str                 # Wasmtime engine: cranelift | winch | pulley
    wasm: Optional[bytes]       # None: no module from this seed (discarded)
    info: Optional[ModuleInfo]
    calls: tuple[Call, ...]
    note: str = ""              # where the module came from (component module index)


def show_value(v: Value) -> str:
    if v.bits is None:
        return f"{v.type}:null"
    if v.type in ("i32", "i64"):
        return f"{v.type}:{v.signed}"
    if v.type in ("f32", "f64"):
        return f"{v.type}:{v.float!r}[{v.bits:#x}]"
    return f"{v.type}:ref"


# -- decoding (pure: no Wasmtime) --------------------------------------------------------------
_component_cache: LRU = LRU(256)  # round-trip input bytes → its core modules


def _component_core_modules(case_bytes: bytes) -> list[bytes]:
    """The core modules of the round-trip component that ``case_bytes`` decodes to (cached)."""
    def make() -> list[bytes]:
        import wasmtime  # only its WAT parser (the `wat` crate), in process

        from ..case import decode as decode_roundtrip
        from ..component import component_text
        text = component_text(decode_roundtrip(case_bytes).sig)
        binary = bytes(wasmtime.wat2wasm(text))
        return [bound_memories(m, MAX_MEMORY_PAGES) for m in component_modules(binary)]
    return _component_cache.get_or_make(case_bytes, make)


@functools.lru_cache(maxsize=16384)
def _module_info(wasm: bytes) -> ModuleInfo:
    return module_info(wasm)


def _arg(u: Unstructured, t: str) -> Value:
    if t not in EDGES:
        return Value(t, None)  # references: null
    if u.ratio(1, 2):
        return Value(t, u.choose(EDGES[t]))
    return Value(t, u.u32() if t in ("i32", "f32") else u.u64())


def decode(data: bytes) -> DiffCase:
    """The case of an input (deterministic; wasm-smith output is cached by seed)."""
    h, n, e = (data + bytes(3))[:3]
    source = SOURCE_OF[h % 8]
    size = 0 if source == "smith-id" else 8 * (n % SEED_UNITS)
    seed = data[3:3 + size]
    u = Unstructured(data[3 + size:])
    engine = ENGINES[e % len(ENGINES)]
    note, wasm, no_traps = "", None, (h >> 3) % 4 != 0
    if source == "smith-id":
        ident = n + 256 * (h >> 3)
        seed = hashlib.shake_128(b"itfuzz-smith-id %d" % ident).digest(ID_SEED_SIZE)
        note, no_traps = f"module id {ident}", ident % 4 != 0
    if source == "component":
        mods = _component_core_modules(seed)
        index = (h >> 3) % len(mods)
        wasm, note = mods[index], f"core module {index} of {len(mods)} in the round-trip component"
    else:
        try:
            wasm = smith(seed, reference_types=engine != "winch", disallow_traps=no_traps)
        except SmithFailed as e:
            note = str(e)
    if wasm is None:
        return DiffCase(source, seed, engine, None, None, (), note)
    info = _module_info(wasm)
    funcs = info.funcs()
    order = list(range(len(funcs)))
    if funcs:
        order += [u.choose_index(len(funcs)) for _ in range(u.int_in_range(0, MAX_EXTRA_CALLS))]
    calls = tuple(Call(funcs[i].name, tuple(_arg(u, t) for t in funcs[i].type[0]))
                  for i in order[:MAX_CALLS])
    return DiffCase(source, seed, engine, wasm, info, calls, note)


def show(case: DiffCase) -> str:
    """The module as WAT and the call sequence."""
    head = [f"-- source: {case.source} ({len(case.seed)} seed bytes)"
            + (f"; {case.note}" if case.note else ""), f"-- engine: wasmtime/{case.engine}"]
    if case.wasm is None:
        return "\n".join(head + ["-- no module (input discarded)"])
    lines = head + ["-- calls --"] + [f"#{i}: {c}" for i, c in enumerate(case.calls)]
    return "\n".join(lines + ["-- module (WAT) --", wasm_to_wat(case.wasm)])


def case_features(case: DiffCase) -> set[str]:
    """Value-free features of a case, for the seed corpus: source, engine, export kinds,
    parameter and result types, function and call counts, imports."""
    out = {f"source:{case.source}", f"engine:{case.engine}", f"{case.source}:{case.engine}"}
    if case.wasm is None:
        return out | {"no-module"}
    funcs = case.info.funcs()
    out.add(f"funcs:{min(len(funcs), 6)}")
    out.add(f"calls:{min(len(case.calls) // 4, 5)}")
    out.update(f"import:{i.kind}" for i in case.info.imports)
    for e in case.info.exports:
        out.add(f"export:{e.kind}")
        if e.kind == "func":
            out.update(f"param:{t}" for t in e.type[0])
            out.update(f"result:{t}" for t in e.type[1])
            out.add(f"results:{min(len(e.type[1]), 3)}")
        elif e.kind == "global":
            out.add(f"global:{e.type[0]}:{'mut' if e.type[1] else 'const'}")
        elif e.kind == "table":
            out.add(f"table:{e.type[0]}")
    return out


# -- running -----------------------------------------------------------------------------------
# Wasmtime trap codes by name -> the spec interpreter's kinds ("undefined_element", a call_indirect
# index past the table's end, is Wasmtime's table-out-of-bounds).
WASMTIME_KINDS = {
    "UNREACHABLE": "unreachable", "INTEGER_DIVISION_BY_ZERO": "div_by_zero",
    "INTEGER_OVERFLOW": "int_overflow", "BAD_CONVERSION_TO_INTEGER": "bad_conversion",
    "MEMORY_OUT_OF_BOUNDS": "oob_memory", "TABLE_OUT_OF_BOUNDS": "oob_table",
    "INDIRECT_CALL_TO_NULL": "uninitialized_element", "BAD_SIGNATURE": "indirect_type_mismatch",
}
SPEC_KINDS = {"undefined_element": "oob_table"}
# Wasmtime outcomes that depend on the machine or on limits, not on the module: discarded.
WASMTIME_DISCARD = ("STACK_OVERFLOW", "OUT_OF_FUEL", "INTERRUPT", "ALLOCATION_TOO_LARGE")
NONDETERMINISTIC = ("stack overflow", "out of memory", "memory allocation failed",
                    "resource limit", "exceeds", "Cannot allocate memory",
                    "unable to make memory executable", "insufficient resources")


# Compile errors that mean "this engine does not implement that" (Winch has no GC heap, so no
# externref), not "Wasmtime rejects a valid module".
UNSUPPORTED = {"cranelift": ("unsupported", "not supported"),
               "pulley": ("unsupported", "not supported"),
               "winch": ("unsupported", "not supported", "gc types are disallowed")}


def make_engine(kind: str, nan_canonicalization: bool = False):
    """A Wasmtime engine for ``kind``.

    Wasmtime's NaN canonicalization stays off: wasm-smith's ``--canonicalize-nans`` canonicalizes
    arithmetic results but not ``f32.demote_f64`` / ``f64.promote_f32`` of a NaN constant, whose
    result the spec leaves open (any arithmetic NaN). Wasmtime with canonicalization makes it
    0x7fc00000 while the interpreter keeps sign and payload (as the hardware does), and the bits
    escape through ``reinterpret`` into integers and memory. Without it, all three engines and
    the interpreter agree (tests/test_differential.py: test_nan_conversions_agree)."""
    import wasmtime
    cfg = wasmtime.Config()
    cfg.cranelift_nan_canonicalization = nan_canonicalization
    if kind == "winch":
        # wasmtime-py's `strategy` knows "auto" and "cranelift" only; 2 is WASMTIME_WINCH
        from wasmtime import _ffi
        _ffi.wasmtime_config_strategy_set(cfg.ptr(), 2)
    elif kind == "pulley":
        cfg.target = "pulley64"
    elif kind != "cranelift":
        raise ValueError(f"unknown engine {kind!r}")
    return wasmtime.Engine(cfg)


def comparable(v: Value) -> tuple:
    """What must agree: numbers bitwise (±0 differ), NaN as one class, references null or not."""
    if v.type in ("f32", "f64") and v.is_nan():
        return v.type, "nan"
    if v.type in ("funcref", "externref"):
        return v.type, "null" if v.bits is None else "ref"
    return v.type, v.bits


def from_wasmtime(t: str, x: Any) -> Value:
    if t in ("funcref", "externref"):
        import wasmtime
        null = x is None or (isinstance(x, wasmtime.Val) and x.value is None)
        return Value(t, None if null else 0)
    return Value.of(t, x)


def to_wasmtime(v: Value) -> Any:
    return None if v.bits is None else v.to_py()


@dataclass
class _Side:
    """One engine's live instance: how to call, read the state, and the host-call log."""

    call: Callable[[Call], tuple]      # -> ("ok", results) | ("trap", kind)
    state: Callable[[Optional[set]], dict]  # kinds of item to re-read (None: all) -> state
    log: list


class DifferentialOracle:
    """Runs `DiffCase`s; raises `Finding` on a disagreement and `Discard` on machine limits.

    ``tamper(side, instance, store)``, a test hook, runs on the Wasmtime side after every call
    (e.g. to change a memory byte or a global behind the interpreter's back)."""

    target = "differential_spec"

    def __init__(self, cache_size: int = 512, spec_fuel: int = SPEC_FUEL,
                 tamper: Optional[Callable] = None, nan_canonicalization: bool = False) -> None:
        from .. import spec
        spec.init()  # the OCaml runtime starts before any Wasmtime engine (signal handlers)
        self.spec, self.spec_fuel = spec, spec_fuel
        self.engines: dict[str, Any] = {}
        self.modules: LRU = LRU(cache_size)  # (engine, module hash) → Module or its error
        self.tamper = tamper
        self.nan_canonicalization = nan_canonicalization  # Wasmtime's; see make_engine
        self.stats: Counter = Counter()

    # -- preparation -------------------------------------------------------------------------
    def engine(self, kind: str):
        if kind not in self.engines:
            self.engines[kind] = make_engine(kind, self.nan_canonicalization)
        return self.engines[kind]

    def module(self, case: DiffCase):
        """The compiled Wasmtime module (cached by engine and module hash)."""
        import wasmtime
        key = (case.engine, hashlib.sha1(case.wasm).digest())

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

    def finding(self, check: str, detail: str, message: str, case: DiffCase,
                done: list) -> Finding:
        calls = "\n".join(f"#{i}: {c}" for i, c in enumerate(done)) or "(instantiation)"
        return Finding(check, detail, message, target=self.target, engine=case.engine,
                       values=f"calls up to the disagreement:\n{calls}",
                       wat=wasm_to_wat(case.wasm) if case.wasm else "")

    # -- the spec interpreter ----------------------------------------------------------------
    def _spec_side(self, case: DiffCase) -> Optional[_Side] | tuple:
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

        def call(c: Call) -> tuple:
            try:
                return "ok", tuple(inst.interpret(c.name, c.args))
            except spec.Trap as e:
                return "trap", SPEC_KINDS.get(e.kind, e.kind)
            except spec.Exhaustion as e:
                raise self.discard(f"spec-exhaustion:{e.message.split()[0]}") from None

        snapshot: dict = {}

        def state(kinds: Optional[set] = None) -> dict:
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
    def _wasmtime_side(self, case: DiffCase, module) -> _Side | tuple:
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
        funcs = {e.name: _raw_caller(store, exports[e.name], *e.type) for e in case.info.funcs()}

        def call(c: Call) -> tuple:
            try:
                return "ok", funcs[c.name](c.args)
            except wasmtime.Trap as e:
                return "trap", self._trap_kind(e)
            except wasmtime.WasmtimeError as e:
                raise self._wasmtime_error(case, e, []) from None
            finally:
                if self.tamper is not None:
                    self.tamper("wasmtime", inst, store)

        def state(kinds: Optional[set] = None) -> dict:
            """The whole state (Wasmtime's side is always read in full)."""
            out = {}
            for name, kind, t, ext in items:
                if kind == "memory":
                    out[name] = ctypes.string_at(ext.data_ptr(store), ext.data_len(store))
                elif kind == "global":
                    out[name] = comparable(_global_value(store, ext, t[0]))
                else:
                    out[name] = _table_state(store, ext, t[0])
            return out

        return _Side(call, state, log)

    def _wasmtime_import(self, store, it: Item, log: list):
        import wasmtime
        vt = lambda t: getattr(wasmtime.ValType, t)()
        if it.kind == "func":
            params, results = it.type
            name = f"{it.module}.{it.name}"

            def host(*args):
                vals = [from_wasmtime(t, a) for t, a in zip(params, args)]
                out = [to_wasmtime(v) for v in _host(name, vals, results, log)]
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

    def _wasmtime_error(self, case: DiffCase, e, done: list) -> Exception:
        text = str(e)
        if any(m in text for m in NONDETERMINISTIC):
            return self.discard("wasmtime-limit")
        return self.finding("wasmtime-error", normalize_error(first_line(e)) or "",
                            f"Wasmtime/{case.engine} failed with a non-trap error: "
                            f"{first_line(e, 500)}", case, done)

    # -- the oracle --------------------------------------------------------------------------
    def run(self, case: DiffCase) -> None:
        self.stats["inputs"] += 1
        if case.wasm is None:
            raise self.discard("no-module")
        self.stats[f"engine:{case.engine}"] += 1
        self.stats[f"source:{case.source}"] += 1
        module = self.module(case)
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
        done: list[Call] = []
        self._compare_state(case, spec_side, wasm_side, done, None)
        self.spec.opcode_counts()  # reset: what each call executes says what it may have written
        executed: Counter = Counter()
        try:
            self._run_calls(case, spec_side, wasm_side, done, executed)
        finally:  # interpreter opcodes as libFuzzer features (no-op outside `itfuzz fuzz`)
            from .. import semantic  # imported here: atheris must not instrument it
            semantic.report_opcodes(executed)

    def _run_calls(self, case: DiffCase, spec_side: _Side, wasm_side: _Side, done: list,
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

    def _compare_state(self, case: DiffCase, spec_side: _Side, wasm_side: _Side,
                       done: list, written: Optional[set]) -> None:
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


def _raw_caller(store, func, params: tuple[str, ...], results: tuple[str, ...]) -> Callable:
    """``call(args) -> results`` through the C API with raw bits both ways (wasmtime-py's
    ``Func.__call__`` rebuilds the function type and converts floats through C floats)."""
    from wasmtime import WasmtimeError
    from wasmtime import _ffi as ffi
    from wasmtime._func import enter_wasm
    kind = {"i32": ffi.WASMTIME_I32, "i64": ffi.WASMTIME_I64, "f32": ffi.WASMTIME_F32,
            "f64": ffi.WASMTIME_F64, "funcref": ffi.WASMTIME_FUNCREF,
            "externref": ffi.WASMTIME_EXTERNREF}
    pkinds = [kind[t].value for t in params]
    narrow = [t in ("i32", "f32") for t in params]
    pt, rt = ffi.wasmtime_val_t * max(len(params), 1), ffi.wasmtime_val_t * max(len(results), 1)
    ctx, ref, np, nr = store._context(), ctypes.byref(func._func), len(params), len(results)

    def call(args: tuple[Value, ...]) -> tuple[Value, ...]:
        ps, rs = pt(), rt()
        for p, k, small, v in zip(ps, pkinds, narrow, args):
            p.kind = k
            if v.bits is None:
                continue  # a null reference: all-zero payload
            if small:
                p.of.i32 = v.bits - (1 << 32) if v.bits >> 31 else v.bits
            else:
                p.of.i64 = v.bits - (1 << 64) if v.bits >> 63 else v.bits
        with enter_wasm(store) as trap:
            error = ffi.wasmtime_func_call(ctx, ref, ps, np, rs, nr, trap)
            if error:
                raise WasmtimeError._from_ptr(error)
        out = []
        for t, r in zip(results, rs):
            if t in ("i32", "f32"):
                out.append(Value(t, r.of.i32 & 0xFFFFFFFF))
            elif t in ("i64", "f64"):
                out.append(Value(t, r.of.i64 & 0xFFFFFFFFFFFFFFFF))
            else:
                null = (r.of.funcref if t == "funcref" else r.of.externref).store_id == 0
                ffi.wasmtime_val_unroot(ctypes.byref(r))
                out.append(Value(t, None if null else 0))
        return tuple(out)
    return call


def _global_value(store, glob, t: str) -> Value:
    """A global's value as raw bits (numbers) or null-ness (references)."""
    if t not in EDGES:
        return from_wasmtime(t, glob.value(store))
    from wasmtime import _ffi
    raw = _ffi.wasmtime_val_t()
    _ffi.wasmtime_global_get(store._context(), ctypes.byref(glob._global), ctypes.byref(raw))
    if t in ("i32", "f32"):
        return Value(t, raw.of.i32 & 0xFFFFFFFF)
    return Value(t, raw.of.i64 & 0xFFFFFFFFFFFFFFFF)


def _table_state(store, table, reftype: str) -> tuple:
    """Null-ness of every element (funcref read raw: one FFI call per element, no wrapper)."""
    if reftype != "funcref":
        return tuple(comparable(from_wasmtime(reftype, table.get(store, i)))
                     for i in range(table.size(store)))
    from wasmtime import _ffi
    raw = _ffi.wasmtime_val_t()
    ctx, ref, out = store._context(), ctypes.byref(table._table), ctypes.byref(raw)
    null, nonnull = ("funcref", "null"), ("funcref", "ref")
    items = []
    for i in range(table.size(store)):
        _ffi.wasmtime_table_get(ctx, ref, i, out)
        items.append(nonnull if raw.of.funcref.store_id else null)
    return tuple(items)


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
