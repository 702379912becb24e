"""Standalone reproducer of a component_hostile case: a script that needs only wasmtime-py (any
release from 39.0.0 on) and checks Wasmtime against the spec's verdict as the oracle does.

It embeds the component as binary (and its WAT to read), the data `init` hands the guest, the
call, and the verdict: a trap, or the value (lift) / the realloc calls, flat params and a hash of
the guest memory (lower, adapter).
"""
from __future__ import annotations

import hashlib

from itfuzz.engines.wasmtime_values import to_wasmtime
from itfuzz.findings import Finding
from itfuzz.generators.hostile import MEMORY_SIZE
from itfuzz.generators.hostile_components import (
    COUNT_AT,
    LOG_AT,
    MAX_LOG,
    PARAMS_AT,
    REPORT_START,
    hostile_component_text,
)
from itfuzz.ops.script_parts import (
    HELPERS,
    SAME,
    Literal,
    Unsupported,
    _b64,
    _indent,
    _quote_block,
    engine_source,
    found_by,
)
from itfuzz.oracles.hostile import _hex_answers, _hex_flat, describe_case

BODY = '''

def call(store, func, *args):
    out = func(store, *args)
    func.post_return(store)  # needed before Wasmtime ran post-return itself; harmless after
    return out


def fail(check, what):
    print(f"FAIL[{check}] {what}")
    return 1


def main():
    engine = make_engine()
    store = wasmtime.Store(engine)
    linker = Linker(engine)
    host = {"calls": [], "entered": 0}
    if DIRECTION == "lift-args":
        linker.root().add_func("g", lambda store, *a: host["calls"].append(list(a)))
    if DIRECTION == "adapter":
        def entered(store):
            host["entered"] += 1
        linker.root().add_func("entered", entered)
    instance = linker.instantiate(store, Component(engine, COMPONENT))
    get = lambda name: instance.get_func(store, name)
    if DIRECTION == "adapter":
        call(store, get("caller-init"), IMAGE, FLAT, "")
        call(store, get("callee-init"), "", "", ANSWERS)
    else:
        call(store, get("init"), IMAGE, FLAT, ANSWERS)
    name = {"lift-result": "f", "lift-args": "run", "lower-args": "f", "adapter": "run"}[DIRECTION]
    print(f"calling {name} ({DIRECTION}); the spec says: "
          + (f"trap ({SPEC_TRAPS})" if SPEC_TRAPS else "a value"), flush=True)
    try:
        out = call(store, get(name), *(ARGS if DIRECTION == "lower-args" else []))
    except wasmtime.WasmtimeError as e:
        if SPEC_TRAPS is None:
            return fail("abi-extra-trap", f"Wasmtime trapped where the spec gives a value: {e}")
        if host["calls"] or host["entered"]:
            return fail("abi-missing-trap", "Wasmtime trapped, but only after the callee ran")
        print(f"OK: both trap (spec: {SPEC_TRAPS})")
        return 0
    if SPEC_TRAPS is not None:
        return fail("abi-missing-trap", f"the spec traps ({SPEC_TRAPS}) but Wasmtime returned "
                    f"{out!r} (host calls {host['calls']!r}, callee entered {host['entered']})")
    if DIRECTION == "lift-result" and not same(EXPECTED, out):
        return fail("abi-value", f"got {out!r}, the spec says {EXPECTED!r}")
    if DIRECTION == "lift-args" and (len(host["calls"]) != 1
                                     or not same(EXPECTED, host["calls"][0])):
        return fail("abi-value", f"the host got {host['calls']!r}, the spec says {EXPECTED!r}")
    if DIRECTION in ("lower-args", "adapter"):
        text = call(store, get("callee-report" if DIRECTION == "adapter" else "report"))
        report = bytes.fromhex(text)  # scratch memory from REPORT_START: count, params, log, memory
        word = lambda at: int.from_bytes(report[at - REPORT_START:at - REPORT_START + 4], "little")
        n = word(COUNT_AT)
        log = [tuple(word(LOG_AT + 20 * k + 4 * j) for j in range(5)) for k in range(min(n, MAX_LOG))]
        log += [(-1,) * 5] * (n - len(log))  # calls past MAX_LOG are counted, not logged
        want = [tuple(c) for c in EXPECTED_REALLOCS]
        want = want[:MAX_LOG] + [(-1,) * 5] * (len(want) - MAX_LOG)
        if log != want:
            return fail("abi-realloc-log", f"realloc calls {log}, the spec: {EXPECTED_REALLOCS}")
        at = PARAMS_AT - REPORT_START
        flat = [int.from_bytes(report[at + 8 * i:at + 8 + 8 * i], "little")
                for i in range(len(EXPECTED_FLAT))]
        if flat != EXPECTED_FLAT:
            return fail("abi-flat", f"the guest got flat params {flat}, the spec: {EXPECTED_FLAT}")
        memory = report[-MEMORY_SIZE:]
        if EXPECTED_MEMORY_SHA256 and hashlib.sha256(memory).hexdigest() != EXPECTED_MEMORY_SHA256:
            return fail("abi-memory", "the guest memory differs from the spec's")
    print("OK: Wasmtime did what the spec says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


def hostile_script(case, finding: Finding | None, source: str = "") -> str:
    if case.note:
        raise Unsupported(f"no runnable case: {case.note}")
    wat = hostile_component_text(case.sig, case.direction)
    lit = Literal()
    want = case.expected
    expected = "None"
    if want.trap is None and case.direction == "lift-result":
        expected = lit(to_wasmtime(case.sig.result)(want.values[0]), 1)
    elif want.trap is None and case.direction == "lift-args":
        expected = "[" + ", ".join(lit(to_wasmtime(t)(v), 1)
                                   for t, v in zip(case.types, want.values)) + "]"
    args = "[" + ", ".join(lit(to_wasmtime(t)(v), 1)
                           for t, v in zip(case.types, case.values)) + "]"
    lowering = case.direction in ("lower-args", "adapter") and want.trap is None
    judged = lowering and not want.nan
    reallocs = [(c.old_ptr, c.old_size, c.align, c.new_size, c.result) for c in want.reallocs]
    head = ["Standalone reproducer" + (f" of [{finding.signature}]" if finding else ""), "",
            "Needs only wasmtime-py: pip install wasmtime==VERSION && python3 THIS.py (any release",
            "from 39.0.0 on). Exit 1 with a FAIL line when Wasmtime disagrees with the Canonical",
            "ABI (CanonicalABI.md, WebAssembly/component-model), 0 when it agrees; a Wasmtime",
            "panic ends the process with the panic message instead.", ""]
    if finding is not None:
        head += [found_by("component_hostile", source, finding.message), ""]
    if case.config is not None:
        head += [f"Engine configuration: {case.config.text()} (see make_engine).", ""]
    head += ["WIT:", _indent(case.sig.wit()), "", describe_case(case)]
    doc = "\n".join(head).replace("\\", "\\\\").replace('"""', "'''")
    return "\n".join([
        "#!/usr/bin/env python3",
        f'"""{doc}\n"""',
        "import base64\nimport hashlib\nimport math\nimport struct\nimport sys\n",
        "import wasmtime\nfrom wasmtime.component import Component, Linker, Record, Variant\n",
        f"WAT = {_quote_block(wat)}",
        f"COMPONENT = base64.b64decode({_b64(wat)!r})",
        f"DIRECTION = {case.direction!r}",
        f"REPORT_START, COUNT_AT, PARAMS_AT, LOG_AT, MAX_LOG = {REPORT_START}, {COUNT_AT}, "
        f"{PARAMS_AT}, {LOG_AT}, {MAX_LOG}",
        f"MEMORY_SIZE = {MEMORY_SIZE}",
        f"IMAGE, FLAT, ANSWERS = {case.image.hex()!r}, {_hex_flat(case)!r}, {_hex_answers(case)!r}",
        f"SPEC_TRAPS = {want.trap!r}  # the spec's verdict: None (a value) or why it traps\n\n",
        HELPERS, *lit.parts,
        f"ARGS = {args}",
        f"EXPECTED = {expected}",
        f"EXPECTED_REALLOCS = {reallocs!r}",
        f"EXPECTED_FLAT = {list(want.values) if judged else []!r}",
        f"EXPECTED_MEMORY_SHA256 = {hashlib.sha256(want.memory).hexdigest() if judged else ''!r}"
        "\n\n",
        SAME + engine_source(case.config).rstrip() + BODY])
