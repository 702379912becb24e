"""Standalone reproducer of a differential_spec case: a script that needs only wasmtime-py (any
release from 39.0.0 on) and checks Wasmtime against the reference as the differential oracle
(`oracles/differential.py`) does.

The reference, our OCaml spec interpreter, is not available outside itfuzz, so the writer runs
the oracle's spec side now and embeds what it did: the instantiation outcome, each call's results
(raw bits) or trap kind, and after instantiation and after every call the host-call log and every
exported and imported memory (a hash; the contents compressed, to show where they differ),
global and table. The script compiles the module (embedded binary, exactly the case's bytes; the
WAT to read) on the case's engine (Cranelift, Winch or Pulley), instantiates it with the same
stub imports, makes the calls and compares: numbers bitwise, NaN as one class, references by
null-ness, trap kinds mapped from Wasmtime's trap codes. What the oracle discards (machine
limits, stack or fuel exhaustion, engine-unsupported features) ends the script with exit 0.

The script uses wasmtime-py's public API, as the oracle's raw C-API calls would: `Func.__call__`
reaches the same `wasmtime_func_call`, and its float conversions are exact except for f32
signalling NaNs (a C float conversion quiets them); a call with such an argument goes through a
small adapter module instead, which takes the argument's bits as an i32 and reinterprets them.
Only choosing the engine needs wasmtime-py's C bindings: Winch (wasmtime-py's `strategy` knows
"auto" and "cranelift" only) and Pulley on releases whose `Config` has no `target` (before 45).
"""
from __future__ import annotations

import base64
import hashlib
import zlib

from itfuzz.engines.core_engine import UNSUPPORTED, WASMTIME_DISCARD, WASMTIME_KINDS
from itfuzz.findings import Discard, Finding
from itfuzz.generators.core_cases import CoreCase
from itfuzz.generators.core_modules import MAX_MEMORY_PAGES, wasm_to_wat
from itfuzz.ops.script_parts import (
    Unsupported,
    _b64,
    _quote_block,
    docstring,
    found_by,
    wasmtime_release,
)
from itfuzz.oracles.discard import MACHINE_DEPENDENT


def spec_expectations(case: CoreCase) -> dict:
    """What the spec interpreter does with the case, through the oracle's own spec side:
    ``instantiate`` (None: instantiated; ("trap", kind); ("discard", why)), ``checkpoints`` (after
    instantiation, then after each call: (call outcome or None, host-call log length, state)),
    ``stop`` (why the calls stop early: the interpreter's exhaustion), ``log`` and ``memories``
    (memory contents by sha256)."""
    from itfuzz.oracles.differential import SPEC_MAX_DEPTH, DifferentialOracle
    oracle = DifferentialOracle()
    oracle.spec.set_limits(oracle.spec_fuel, SPEC_MAX_DEPTH)
    out: dict = {"instantiate": None, "checkpoints": [], "stop": None, "log": [],
                 "memories": {}}
    try:
        side = oracle._spec_side(case)
    except Discard as d:
        out["instantiate"] = ("discard", str(d))
        return out
    except Finding as f:  # spec-rejected: the interpreter's own bug
        raise Unsupported(
            f"the spec interpreter rejects this module ({f.signature}): that is a bug of "
            "itfuzz's interpreter, not of Wasmtime, so a Wasmtime-only script cannot show it"
        ) from None
    if isinstance(side, tuple):
        out["instantiate"] = side
        return out
    assert side is not None

    def checkpoint(outcome) -> None:
        state = {}
        for name, value in side.state(None).items():
            if isinstance(value, bytes):
                digest = hashlib.sha256(value).hexdigest()
                out["memories"].setdefault(digest, base64.b64encode(
                    zlib.compress(value, 9)).decode())
                value = ("memory", digest)
            state[name] = value
        out["checkpoints"].append((outcome, len(side.log), state))

    checkpoint(None)
    for call in case.calls:
        try:
            want = side.call(call)
        except Discard as d:
            out["stop"] = str(d)
            break
        if want[0] == "ok":
            want = ("ok", [(v.type, v.bits) for v in want[1]])
        checkpoint(want)
    out["log"] = list(side.log)
    return out


def _bounded(limits: tuple) -> tuple[int, int]:
    lo, hi = limits  # the oracle's bound on imported memories without a maximum
    return lo, hi if hi is not None else max(lo, MAX_MEMORY_PAGES)


def differential_script(case: CoreCase, finding: Finding | None, source: str = "") -> str:
    if case.wasm is None:
        raise Unsupported(
            "this differential_spec input has no module (" + (case.note or "no module")
            + "): the target discards it, so there is nothing to reproduce")
    assert case.info is not None
    want = spec_expectations(case)
    imports = []
    for it in case.info.imports:
        t = _bounded(it.type) if it.kind == "memory" else it.type
        imports.append((it.kind, it.module, it.name, t))
    items = [(e.name, e.kind, e.type) for e in case.info.exports if e.kind != "func"]
    funcs = {e.name: e.type for e in case.info.funcs()}
    calls = [(c.name, [(a.type, a.bits) for a in c.args]) for c in case.calls]
    n_checked = len(want["checkpoints"]) - 1 if want["checkpoints"] else 0
    head = ["Standalone reproducer" + (f" of [{finding.signature}]" if finding else ""), "",
            f"Needs only wasmtime-py: pip install wasmtime=={wasmtime_release()} && python3 THIS.py",
            "(any release from 39.0.0 on). Exit 1 with a FAIL line when Wasmtime disagrees with",
            "the WebAssembly spec interpreter, 0 when it agrees; a Wasmtime crash ends the",
            "process instead.", "",
            f"A core module runs on Wasmtime/{case.engine}: instantiated with stub imports (host",
            "functions log their calls and return zeros, bounded memories, null tables, zero",
            "globals), then its exports are called. The reference results were computed by",
            "itfuzz's OCaml spec interpreter when this script was written and are embedded:",
            "results (numbers bitwise, NaN as one class, references null or not) and trap kinds",
            "of every call, and after instantiation and after every call the host-call log and",
            "every exported and imported memory, global and table.", "",
            f"Module: {case.source}" + (f" ({case.note})" if case.note else "")
            + f"; {len(case.calls)} call(s)"
            + (f", the reference stops after {n_checked} ({want['stop']}: itfuzz discards "
               "the rest)" if want["stop"] else "") + "."]
    if finding is not None:
        head += ["", found_by("differential_spec", source, finding.message)]
    if case.calls:
        head += ["", "Calls:"] + [f"    #{i}: {c}" for i, c in enumerate(case.calls)]
    checkpoints = ",\n".join(f"    {cp!r}" for cp in want["checkpoints"])
    memories = ",\n".join(f"    {k!r}: {v!r}" for k, v in want["memories"].items())
    return "\n".join([
        "#!/usr/bin/env python3",
        docstring(head),
        "import base64\nimport ctypes\nimport hashlib\nimport json\nimport struct\nimport sys"
        "\nimport zlib\n",
        "import wasmtime\n",
        f"WAT = {_quote_block(wasm_to_wat(case.wasm))}",
        "# The module's exact bytes (the WAT above is printed from them).",
        f"MODULE = base64.b64decode({_b64(case.wasm)!r})",
        f"ENGINE = {case.engine!r}  # cranelift | winch | pulley\n",
        "# (kind, module, name, type): func (params, results), memory (min, max), "
        "table (reftype, min, max), global (type, mutable)",
        f"IMPORTS = {imports!r}",
        "# exports compared after instantiation and after every call (functions are called)",
        f"ITEMS = {items!r}",
        f"FUNCS = {funcs!r}  # name: (params, results)",
        "# (export, [(type, bits)]); bits None is a null reference",
        f"CALLS = {calls!r}\n",
        "# -- the reference: what the WebAssembly spec interpreter did (computed by itfuzz) --",
        "# None: instantiated; (\"trap\", kind): instantiation trapped; (\"discard\", why): itfuzz",
        "# discards the input (the interpreter ran out of fuel or stack)",
        f"SPEC_INSTANTIATE = {want['instantiate']!r}",
        "# after instantiation, then after each call: (the call's outcome, host calls so far,",
        "# state); outcome (\"ok\", [(type, bits)]) or (\"trap\", kind); state by item: global",
        "# (type, bits or \"nan\"), table ((reftype, \"null\"|\"ref\"), ...), memory (\"memory\", sha256)",
        f"SPEC_CHECKPOINTS = [\n{checkpoints}\n]",
        f"SPEC_STOP = {want['stop']!r}  # why the reference stops before the last call (None: it does not)",
        f"SPEC_LOG = {want['log']!r}  # host calls: (import, args)",
        f"SPEC_MEMORIES = {{\n{memories}\n}}  # sha256: zlib-compressed contents, base64\n",
        "# Wasmtime's trap codes as the interpreter's trap kinds",
        f"WASMTIME_KINDS = {WASMTIME_KINDS!r}",
        "# outcomes that depend on the machine or on limits, not on the module: itfuzz discards them",
        f"WASMTIME_DISCARD = {WASMTIME_DISCARD!r}",
        f"MACHINE_DEPENDENT = {MACHINE_DEPENDENT!r}",
        f"UNSUPPORTED = {UNSUPPORTED[case.engine]!r}  # compile errors: a feature this engine lacks",
        "", "", BODY])


BODY = '''class Discarded(Exception):
    \"\"\"An outcome itfuzz discards: not a finding either way.\"\"\"


def fail(check, detail, what):
    print(f"FAIL[{check}]" + (f" {detail}" if detail else "") + f": {what}")
    return 1


def first_line(e):
    return (str(e).strip().splitlines() or [""])[0]


def make_engine():
    cfg = wasmtime.Config()
    if isinstance(getattr(type(cfg), "cranelift_nan_canonicalization", None), property):
        cfg.cranelift_nan_canonicalization = False  # the default (itfuzz compares NaN bits)
    if ENGINE == "winch":
        # wasmtime-py's `strategy` knows "auto" and "cranelift" only: the C API's setter
        from wasmtime import _ffi
        if "WASMTIME_STRATEGY_WINCH" not in _ffi.wasmtime_strategy_enum.__members__:
            print("SKIP: this release's C API has no Winch (the value 2 would mean Cranelift)")
            sys.exit(0)
        _ffi.wasmtime_config_strategy_set(cfg.ptr(), 2)  # WASMTIME_WINCH (wasmtime/config.h)
    elif ENGINE == "pulley":
        if isinstance(getattr(type(cfg), "target", None), property):
            cfg.target = "pulley64"
        else:  # wasmtime-py < 45 has no Config.target (setting it would be silently ignored)
            from wasmtime import _ffi
            if _ffi.wasmtime_config_target_set(cfg.ptr(), ctypes.create_string_buffer(b"pulley64")):
                raise RuntimeError("this release cannot target pulley64")
    return wasmtime.Engine(cfg)


# -- values: raw bits, compared as the oracle compares them ------------------------------------

def is_nan(t, bits):
    if t == "f32":
        return bits & 0x7FFFFFFF > 0x7F800000
    return t == "f64" and bits & (1 << 63) - 1 > 0x7FF0000000000000


def comparable(t, bits):
    \"\"\"Numbers bitwise (so -0.0 is not 0.0), NaN as one class, references null or not.\"\"\"
    if t in ("funcref", "externref"):
        return (t, "null" if bits is None else "ref")
    return (t, "nan") if is_nan(t, bits) else (t, bits)


def bits_of(t, x):
    \"\"\"Raw bits of a wasmtime-py value (exact but for NaN payloads); None: a null reference.\"\"\"
    if t == "i32":
        return x & 0xFFFFFFFF
    if t == "i64":
        return x & 0xFFFFFFFFFFFFFFFF
    if t == "f32":
        return struct.unpack("<I", struct.pack("<f", x))[0]
    if t == "f64":
        return struct.unpack("<Q", struct.pack("<d", x))[0]
    null = x is None or (isinstance(x, wasmtime.Val) and x.value is None)
    return None if null else 0


def py_value(t, bits):
    \"\"\"The wasmtime-py value of raw bits (None: a null reference).\"\"\"
    if bits is None:
        return None
    if t in ("i32", "i64"):
        width = 32 if t == "i32" else 64
        return bits - (1 << width) if bits >> (width - 1) else bits
    if t == "f32":
        return struct.unpack("<f", struct.pack("<I", bits))[0]
    if t == "f64":
        return struct.unpack("<d", struct.pack("<Q", bits))[0]
    return None


def f32_exact(bits):
    \"\"\"Does this f32 reach Wasm unchanged through wasmtime-py (a C float)? Not a signalling NaN.\"\"\"
    return bytes(ctypes.c_float(py_value("f32", bits))) == struct.pack("<I", bits)


def show(t, bits):
    if bits is None:
        return f"{t}:null"
    if t in ("i32", "i64"):
        return f"{t}:{py_value(t, bits)}"
    if t in ("f32", "f64"):
        return f"{t}:{py_value(t, bits)!r}[{bits:#x}]"
    return f"{t}:ref"


def render(outcome):
    if outcome[0] == "ok":
        return "returned [" + ", ".join(show(t, b) for t, b in outcome[1]) + "]"
    return f"trapped ({outcome[1]})"


def key(outcome):
    if outcome[0] == "ok":
        return ("ok", [comparable(t, b) for t, b in outcome[1]])
    return tuple(outcome)


def outcome_class(want, got):
    \"\"\"The value-free detail of the finding's signature.\"\"\"
    if want[0] == got[0] == "ok":
        return ",".join(t for t, _ in want[1])
    name = lambda o: o[0] if o[0] == "ok" else o[1]
    return f"{name(want)}-vs-{name(got)}"


WIDE = {"f32": "i32", "f64": "i64"}


def adapter(store, engine, func, params, results):
    \"\"\"A function calling `func` with its floats passed and returned as integer bits.\"\"\"
    n = len(params)
    code = []
    for i, t in enumerate(params):
        code += [f"local.get {i}"] + ([f"{t}.reinterpret_{WIDE[t]}"] if t in WIDE else [])
    code += ["call $f"] + [f"local.set {n + j}" for j in reversed(range(len(results)))]
    for j, t in enumerate(results):
        code += [f"local.get {n + j}"] + ([f"{WIDE[t]}.reinterpret_{t}"] if t in WIDE else [])
    wide = lambda ts: " ".join(WIDE.get(t, t) for t in ts)
    wat = (f'(module (import "m" "f" (func $f (param {" ".join(params)}) '
           f'(result {" ".join(results)})))\\n'
           f'  (func (export "f") (param {wide(params)}) (result {wide(results)}) '
           f'(local {" ".join(results)})\\n    ' + "\\n    ".join(code) + "))")
    module = wasmtime.Module(engine, wat)
    return wasmtime.Instance(store, module, [func]).exports(store)["f"]


def call(store, engine, func, params, results, args):
    \"\"\"Call `func` with raw bits (through the adapter when wasmtime-py would change one);
    its results as [(type, bits)].\"\"\"
    via = func
    if not all(t != "f32" or f32_exact(b) for t, b in args):
        via = adapter(store, engine, func, params, results)
        args = [(WIDE.get(t, t), b) for t, b in args]
        print("  (an f32 signalling NaN: called through an adapter that passes its bits)")
    out = via(store, *[py_value(t, b) for t, b in args])
    out = [] if not results else [out] if len(results) == 1 else list(out)
    if via is func:
        return [(t, bits_of(t, x)) for t, x in zip(results, out)]
    return [(t, bits_of(WIDE.get(t, t), x)) for t, x in zip(results, out)]  # floats as bits


def trap_kind(e):
    code = e.trap_code
    name = code.name if code is not None else "NONE"
    if name in WASMTIME_DISCARD:
        raise Discarded(f"Wasmtime {name}")
    return WASMTIME_KINDS.get(name, f"wasmtime:{name}")


def wasmtime_error(e):
    text = f"{type(e).__name__}: {e}"
    if any(m in text for m in MACHINE_DEPENDENT):
        raise Discarded(f"a machine limit: {first_line(e)}")
    return fail("wasmtime-error", first_line(e),
                f"Wasmtime/{ENGINE} failed with a non-trap error: {first_line(e)}")


# -- imports and state --------------------------------------------------------------------------

def val_type(t):
    return getattr(wasmtime.ValType, t)()


def make_import(store, kind, module, name, t, log):
    if kind == "func":
        params, results = t
        full = f"{module}.{name}"

        def host(*args):
            log.append((full, tuple(comparable(p, bits_of(p, a)) for p, a in zip(params, args))))
            out = [0.0 if r in ("f32", "f64") else 0 if r in ("i32", "i64") else None
                   for r in results]
            return None if not out else out[0] if len(out) == 1 else out
        ty = wasmtime.FuncType([val_type(p) for p in params], [val_type(r) for r in results])
        return wasmtime.Func(store, ty, host)
    if kind == "memory":
        return wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(*t)))
    if kind == "table":
        ref, lo, hi = t
        return wasmtime.Table(store, wasmtime.TableType(val_type(ref), wasmtime.Limits(lo, hi)),
                              None)
    vt, mutable = t
    zero = 0.0 if vt in ("f32", "f64") else 0 if vt in ("i32", "i64") else None
    return wasmtime.Global(store, wasmtime.GlobalType(val_type(vt), mutable), zero)


def read_state(store, items):
    state = {}
    for name, kind, t, ext in items:
        if kind == "memory":
            data = ctypes.string_at(ext.data_ptr(store), ext.data_len(store))
            state[name] = ("memory", hashlib.sha256(data).hexdigest(), data)
        elif kind == "global":
            state[name] = comparable(t[0], bits_of(t[0], ext.value(store)))
        else:
            state[name] = tuple(comparable(t[0], bits_of(t[0], ext.get(store, i)))
                                for i in range(ext.size(store)))
    return state


def state_diff(want, got):
    if want[0] == "memory":
        spec = zlib.decompress(base64.b64decode(SPEC_MEMORIES[want[1]]))
        data = got[2]
        if len(spec) != len(data):
            return f"size {len(spec)} (spec) vs {len(data)} (wasmtime)"
        i = next(i for i, (a, b) in enumerate(zip(spec, data)) if a != b)
        return (f"first different byte at {i:#x}: spec {spec[i:i + 8].hex()} vs "
                f"wasmtime {data[i:i + 8].hex()}")
    return f"spec {want!r} vs wasmtime {got!r}"


def compare_state(store, items, log, checkpoint, after):
    _, n_log, want = checkpoint
    if log != SPEC_LOG[:n_log]:
        return fail("diff-host-calls", "", f"host calls differ: spec {SPEC_LOG[:n_log]}, "
                    f"wasmtime/{ENGINE} {log}")
    got = read_state(store, items)
    for name, kind, _, _ in items:  # in the oracle's order: exports, then imports
        w, g = want[name], got[name]
        if w != (g[:2] if kind == "memory" else g):
            return fail(f"diff-{name.split()[0]}-{kind}", "",
                        f"after {after}: {name} differs: {state_diff(w, g)}")
    return None


# -- the run ------------------------------------------------------------------------------------

def main():
    try:
        return run()
    except Discarded as d:
        print(f"SKIP: {d} (itfuzz discards this input: not a finding)")
        return 0


def run():
    engine = make_engine()
    try:
        module = wasmtime.Module(engine, MODULE)
    except wasmtime.WasmtimeError as e:
        if any(m in str(e).lower() for m in UNSUPPORTED):
            raise Discarded(f"Wasmtime/{ENGINE} does not support this module: {first_line(e)}")
        return fail("wasmtime-compile", first_line(e),
                    f"Wasmtime/{ENGINE} rejected a module the spec interpreter accepts: "
                    f"{first_line(e)}")
    if SPEC_INSTANTIATE is not None and SPEC_INSTANTIATE[0] == "discard":
        raise Discarded(f"the reference gives up instantiating ({SPEC_INSTANTIATE[1]})")
    store = wasmtime.Store(engine)
    log = []
    imports = [make_import(store, kind, m, n, t, log) for kind, m, n, t in IMPORTS]
    try:
        instance = wasmtime.Instance(store, module, imports)
        got = ("ok",)
    except wasmtime.Trap as e:
        got = ("trap", trap_kind(e))
    except wasmtime.WasmtimeError as e:
        return wasmtime_error(e)
    want = SPEC_INSTANTIATE or ("ok",)
    print(f"instantiate on wasmtime/{ENGINE}: {got}; spec: {want}", flush=True)
    if tuple(got) != tuple(want):
        return fail("diff-instantiate", outcome_class(want, got),
                    f"instantiation: spec {tuple(want)}, wasmtime/{ENGINE} {got}")
    if got[0] == "trap":
        print("OK: both trap on instantiation")
        return 0
    exports = instance.exports(store)
    items = [(f"export {name}", kind, t, exports[name]) for name, kind, t in ITEMS]
    items += [(f"import {m}.{n}", kind, t, ext)
              for (kind, m, n, t), ext in zip(IMPORTS, imports) if kind != "func"]
    status = compare_state(store, items, log, SPEC_CHECKPOINTS[0], "instantiation")
    if status:
        return status
    for n, (name, args) in enumerate(CALLS):
        if n + 1 >= len(SPEC_CHECKPOINTS):
            raise Discarded(f"the reference gives up at call #{n} ({SPEC_STOP})")
        checkpoint = SPEC_CHECKPOINTS[n + 1]
        want = checkpoint[0]
        params, results = FUNCS[name]
        text = f"#{n}: {json.dumps(name)}({', '.join(show(t, b) for t, b in args)})"
        try:
            got = ("ok", call(store, engine, exports[name], params, results, args))
        except wasmtime.Trap as e:
            got = ("trap", trap_kind(e))
        except wasmtime.WasmtimeError as e:
            return wasmtime_error(e)
        print(f"{text}: wasmtime/{ENGINE} {render(got)}; spec {render(want)}", flush=True)
        if key(want) != key(got):
            return fail(f"diff-{'return' if want[0] == got[0] == 'ok' else 'outcome'}",
                        outcome_class(want, got),
                        f"call {text[text.index(' ') + 1:]}: spec {render(want)}, "
                        f"wasmtime/{ENGINE} {render(got)}")
        status = compare_state(store, items, log, checkpoint, text[text.index(" ") + 1:])
        if status:
            return status
    print(f"OK: Wasmtime/{ENGINE} agrees with the spec interpreter on instantiation and "
          f"{len(CALLS)} call(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''
