"""Standalone reproducer of a C-level misuse case (`host_api_misuse`, lane "c"): a script that
needs only wasmtime-py, whose own ctypes bindings it uses to call Wasmtime's component C API
directly, as the C-API lane does (the script's source text: `engines/capi/script_source.py`).

The script embeds the component (binary), the call's values in the lane's compact encoding
(`engines/capi/encoding.py`) with the invalid node in place, and a small builder of
`wasmtime_component_val_t` trees from that encoding. The host `g` is a ctypes callback that
returns the encoded result. Exit 1 with a FAIL line when the C API accepts the invalid value, 0
when it returns an error; an abort (a Rust panic in the C API) ends the process instead.
"""
from __future__ import annotations

from itfuzz.engines.capi.script_source import BODY, BUILDER, DUMPER, IMPORTS, ROUNDTRIP_BODY
from itfuzz.findings import Finding
from itfuzz.generators.components import component_text, for_config
from itfuzz.ops.script_parts import (
    Unsupported,
    _b64,
    _indent,
    docstring,
    engine_source,
    found_by,
    wasmtime_release,
)


def capi_misuse_script(case, finding: Finding | None, source: str = "") -> str:
    cm = case.c_misuse
    sig = case.sig
    wat = for_config(component_text(sig), case.config)
    head = ["Standalone reproducer" + (f" of [{finding.signature}]" if finding else ""), "",
            f"Needs only wasmtime-py: pip install wasmtime=={wasmtime_release()} && python3 THIS.py",
            "It calls Wasmtime's component C API through wasmtime-py's ctypes bindings with one",
            "invalid C value (an argument of `f`, the host `g`'s result, or a wrong argument",
            "count). Required: an error. Exit 1 with a FAIL line when the value is accepted, 0",
            "on an error; an abort in Wasmtime ends the process instead.", "",
            "Misuse: " + cm.describe()]
    if finding is not None:
        head += ["", found_by("host_api_misuse, C-API lane", source, finding.message)]
    if case.config is not None:
        head += ["", f"Engine configuration: {case.config.text()} (see make_engine)."]
    head += ["", "WIT of the function:", _indent(sig.wit()), "",
             "Values: wasmtime_component_val_t trees, encoded as kind byte + payload (see build)."]
    return "\n".join([
        "#!/usr/bin/env python3",
        docstring(head),
        IMPORTS,
        f"COMPONENT = base64.b64decode({_b64(wat)!r})",
        f"WHERE = {cm.where!r}  # arg: an argument of f is invalid; ret: the host's result; arity",
        f"KIND = {cm.kind!r}",
        f"DESCRIPTION = {cm.describe()!r}",
        f"ARGS = bytes.fromhex({cm.args.hex()!r})",
        f"NARGS = {cm.nargs}",
        f"RET = bytes.fromhex({cm.ret.hex()!r})",
        f"NRESULTS = {cm.nresults}\n\n",
        BUILDER, engine_source(case.config) + BODY])


def capi_roundtrip_script(case, finding: Finding | None, source: str = "",
                          wat: str | None = None) -> str:
    """A round-trip case on the C-API lane: every call's values in the lane's encoding, the host
    `g` a ctypes callback comparing what it gets, the results and post-return counters checked
    (`wat`: another component text, for tests)."""
    from itfuzz.engines.capi.encoding import encoder
    from itfuzz.generators.components import CALLEE_COUNT_EXPORT, COUNT_EXPORT
    from itfuzz.oracles.capi_lane import Plan
    sig = case.sig
    if sig.resources or sig.guest:  # the checks need resource definitions, gr-new, a store
        raise Unsupported("resource handles on the C-API lane: no standalone script yet (the "
                          "K24-K26 scripts in findings/ show how)")
    wat = wat if wat is not None else for_config(component_text(sig), case.config)
    plan = Plan(sig)
    rows = []
    for call in case.calls:
        a, r = bytearray(), bytearray()
        for enc, v in zip(plan.encs, call.args):
            enc(a, v)
        if plan.rtype is not None:
            encoder(plan.rtype)(r, call.ret)
        rows.append(f"    (bytes.fromhex({a.hex()!r}),\n     bytes.fromhex({r.hex()!r})),")
    counters = [n for n in (COUNT_EXPORT, CALLEE_COUNT_EXPORT) if f'(export "{n}"' in wat]
    head = ["Standalone reproducer" + (f" of [{finding.signature}]" if finding else ""), "",
            f"Needs only wasmtime-py: pip install wasmtime=={wasmtime_release()} && python3 THIS.py",
            "It runs the case as itfuzz's C-API lane does: Wasmtime's component C API called",
            "through wasmtime-py's ctypes bindings, the host `g` a callback that checks it got",
            "exactly the arguments given to `f` and returns a prepared value, which `f` must",
            "return exactly; each post-return counter must equal the calls so far. Values are",
            "wasmtime_component_val_t trees, encoded as kind byte + payload (see build); any NaN",
            "equals any NaN. Exit 1 with a FAIL line when the bug shows, 0 when every check passes."]
    if finding is not None:
        head += ["", found_by(f"{finding.target or 'target'}, C-API lane", source,
                                 finding.message)]
    if case.config is not None:
        head += ["", f"Engine configuration: {case.config.text()} (see make_engine)."]
    head += ["", "WIT of the function:", _indent(sig.wit())]
    return "\n".join([
        "#!/usr/bin/env python3",
        docstring(head),
        IMPORTS,
        f"COMPONENT = base64.b64decode({_b64(wat)!r})",
        f"NARGS = {plan.nargs}",
        f"NRESULTS = {plan.nresults}",
        f"COUNTERS = {counters!r}",
        "# each call: the arguments of f, the value the host g returns",
        "CALLS = [", *rows, "]\n\n",
        BUILDER, DUMPER, engine_source(case.config) + ROUNDTRIP_BODY])
