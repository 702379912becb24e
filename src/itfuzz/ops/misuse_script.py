"""Standalone reproducer of a host_api_misuse case: a script that needs only wasmtime-py (any
release from 39.0.0 on) and checks what the misuse oracle (`oracles/misuse.py`) checks.

It embeds the round-trip component (binary, and its WAT to read), the valid values of the call,
the invalid wasmtime-py value and where it goes (an argument of `f`, the result of the host
function `g`, or one argument too many). The misuse call must raise one of the oracle's
`ACCEPTED_ERRORS`, and a valid call must still complete afterwards: in the same store after a
rejected argument, in a fresh store after a rejected host result (a host error is a trap, and a
trap poisons the store by Wasmtime's design: the old store may answer only "cannot enter
component instance"). The FAIL line names the oracle's finding, `FAIL[check] detail: …`. A
process abort in Wasmtime (K8) just ends the script: that is the reproduction.
"""
from __future__ import annotations

import wasmtime

from itfuzz.engines.invalid_values import MisuseCase
from itfuzz.findings import Finding
from itfuzz.generators.components import component_text, for_config
from itfuzz.ops.resource_script import (
    ABOUT_HANDLES,
    ABOUT_MISUSE,
    handle_hooks,
    handle_literals,
    misuse_hooks,
)
from itfuzz.ops.script_parts import (
    HELPERS,
    PLAIN_HOOKS,
    ROUNDTRIP_CHECKS,
    SAME,
    Literal,
    _b64,
    _indent,
    _quote_block,
    docstring,
    engine_source,
    found_by,
    wasmtime_release,
)
from itfuzz.oracles.misuse import ACCEPTED_ERRORS, POISONED
from itfuzz.oracles.roundtrip import dynamic_converters


def _accepted_source() -> str:
    """`ACCEPTED_ERRORS` as source of the script."""
    names = []
    for cls in ACCEPTED_ERRORS:
        if cls.__module__ == "builtins":
            names.append(cls.__name__)
        elif getattr(wasmtime, cls.__name__, None) is cls:
            names.append(f"wasmtime.{cls.__name__}")
        else:  # pragma: no cover - a class the script cannot name
            raise AssertionError(f"cannot name {cls!r} in a standalone script")
    return "(" + ", ".join(names) + ")"


def misuse_kind(case: MisuseCase) -> str:
    """The detail of `misuse-accepted` findings (as `MisuseOracle.accepted` names it)."""
    if case.misuse is None:
        return "arity"
    kind = case.misuse.kind
    if kind == "wrong-type":
        kind += ":" + type(case.misuse.bad).__name__
    return kind


BODY = '''def fail(check, detail, what):
    print(f"FAIL[{check}] {detail}: {what}")
    return 1


def machine_limit(e):
    """Stack or memory exhaustion: depends on the machine, not on the case (the oracle discards)."""
    return isinstance(e, (RecursionError, MemoryError)) or "maximum recursion depth" in str(e)


def main():
    engine = make_engine()
    component = compile_component(engine)
    if isinstance(component, int):
        return component
    linker = Linker(engine)
    define_host(linker)
    state = {"args": None, "ret": None, "count": 0, "failure": None, "misuse": False,
             "arrived": None}
    checked = checking_host(state)

    def g(store, *args):
        if not state["misuse"]:
            return checked(store, *args)  # the valid call: the round-trip checks
        state["arrived"] = args
        return to_wasm(store, MISUSE if WHERE == "ret" else RET)

    linker.root().add_func("g", g)
    store = wasmtime.Store(engine)
    instance = linker.instantiate(store, component)
    f = instance.get_func(store, "f")

    args = list(ARGS)
    if WHERE == "arg":
        args[INDEX] = MISUSE
    elif WHERE == "arity":
        args.append(args[-1] if args else 0)
#MAKE_BAD
    print(f"misuse: {DESCRIPTION}", flush=True)
    state["misuse"] = True
    try:
        out = f(store, *to_wasm(store, args))
        f.post_return(store)  # needed before Wasmtime ran post-return itself; a no-op after
    except ACCEPTED as e:
        error = e
    except Exception as e:
        if machine_limit(e):
            print(f"SKIP: {type(e).__name__} (a machine limit; itfuzz discards this input)")
            return 0
        return fail("misuse-wrong-exception", type(e).__name__,
                    f"wasmtime-py raised {type(e).__name__}: {e} (not one of "
                    + ", ".join(c.__name__ for c in ACCEPTED) + ")")
    else:
        error = None
    finally:
        state["misuse"] = False
    arrived = state["arrived"]
    if WHERE == "arg" and arrived is not None:  # rejected late, or not at all
        return fail("misuse-accepted", KIND, "wasmtime-py accepted an invalid value: the host "
                    f"received {show(from_wasm(store, arrived[INDEX]))}"
                    + (f" (then {type(error).__name__}: {error})" if error else ""))
    if error is None:
        what = {"arg": "the host was not called", "ret": f"f returned {show(from_wasm(store, out))}",
                "arity": "the call ran"}[WHERE]
        return fail("misuse-accepted", KIND, f"wasmtime-py accepted an invalid value: {what}")
    print(f"the misuse raised {type(error).__name__}: {error}", flush=True)

    # A valid call must still complete.
    def in_fresh_store(site):
        fresh = wasmtime.Store(engine)
        f2 = linker.instantiate(fresh, component).get_func(fresh, "f")
        problem = round_trip(fresh, f2, state, ARGS, RET)
        if problem:
            return fail("misuse-after-failed", f"{site}:{problem[0]}",
                        f"after the rejected {'host result' if WHERE == 'ret' else 'argument'} "
                        f"({type(error).__name__}), a valid call in a fresh store failed: "
                        f"{problem[1]}")
        return None

    if WHERE != "ret":
        problem = round_trip(store, f, state, ARGS, RET)
        if problem and RESOURCE_MISUSE:  # K9's pattern in the same store: a fresh store must work
            status = in_fresh_store("arg-fresh-store")
            if status:
                return status
        if problem:
            return fail("misuse-store-poisoned", f"{WHERE}:{type(error).__name__}",
                        f"the misuse raised {type(error).__name__}; then a valid call in the "
                        f"same store failed: [{problem[0]}] {problem[1]}")
    else:
        problem = round_trip(store, f, state, ARGS, RET)
        if problem and POISONED not in problem[1]:
            return fail("misuse-after-failed", f"ret-same-store:{problem[0]}",
                        f"after the rejected host result ({type(error).__name__}), a valid call "
                        f"in the same store failed otherwise than with {POISONED!r}: "
                        f"{problem[1]}")
        status = in_fresh_store("ret-fresh-store")
        if status:
            return status
    print("OK: the misuse was rejected and a valid call completed afterwards"
          + (" (in a fresh store)" if WHERE == "ret" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


MAKE_BAD = '''    try:  # the bad handle; failing to make it is the call's error, as in itfuzz
        problem = make_bad(store, instance, engine, f, state)
    except wasmtime.WasmtimeError as e:
        problem = ("call-error", f"making the bad handle raised WasmtimeError: {e}")
    if problem:
        return fail(problem[0], "making the bad handle", problem[1])
'''


def misuse_script(case: MisuseCase, finding: Finding | None, source: str = "") -> str:
    if case.lane == "c":  # the C-level twin: a script calling the C API through ctypes
        from itfuzz.ops.capi_script import capi_misuse_script
        return capi_misuse_script(case, finding, source)
    sig = case.sig
    wat = for_config(component_text(sig), case.config)
    conv = handle_literals(sig) if sig.resources or sig.guest else dynamic_converters(sig)
    lit = Literal()
    args = "[" + ", ".join(lit(c(a), 1) for c, a in zip(conv["params_in"], case.call.args)) + "]"
    ret = lit(conv["result_in"](case.call.ret), 1) if conv["result_in"] else "None"
    misuse = lit(case.misuse.value, 1) if case.misuse is not None else "None"
    hooks, body = PLAIN_HOOKS, BODY.replace("#MAKE_BAD\n", "")
    if case.res is not None:  # a bad handle, made at run time
        hooks, misuse = misuse_hooks(case, lit)
        body = BODY.replace("#MAKE_BAD\n", MAKE_BAD)
    elif sig.resources:  # valid handles in the values
        hooks = handle_hooks(sig)
    head = ["Standalone reproducer" + (f" of [{finding.signature}]" if finding else ""), "",
            f"Needs only wasmtime-py: pip install wasmtime=={wasmtime_release()} && python3 THIS.py",
            "(any release from 39.0.0 on: the component is embedded as binary). Exit 1 with a",
            "FAIL line when wasmtime-py or Wasmtime mishandles the invalid value, 0 when it is",
            "rejected harmlessly; an abort in Wasmtime ends the process instead.", "",
            "A component imports `g` and exports `f`, which forwards to `g`. One invalid",
            "wasmtime-py value is handed over (an argument of `f`, the host `g`'s result, or a",
            "wrong argument count): the call must raise one of",
            "    " + _accepted_source() + ",",
            "then a valid call must complete (after a rejected host result, in a fresh store:",
            "a host error is a trap and poisons the store by Wasmtime's design).", "",
            "Misuse: " + case.describe(),
            *(ABOUT_MISUSE if case.res else ABOUT_HANDLES if sig.resources else ())]
    if case.res is not None and (case.where, case.res.kind) == ("ret", "moved-own"):
        head += ["", "K28: wasmtime-py fails on the consumed handle ('already closed') after it",
                 "marked the result slot as a resource, then frees an unset pointer: the process",
                 "dies by allocation luck (e.g. on 41.0.0), or survives with its heap corrupted."]
    if finding is not None:
        head += ["", found_by("host_api_misuse", source, finding.message)]
    if case.config is not None:
        head += ["", f"Engine configuration: {case.config.text()} (see make_engine)."]
    head += ["", "WIT of the function:", _indent(sig.wit())]
    description = case.describe().splitlines()[0]
    return "\n".join([
        "#!/usr/bin/env python3",
        docstring(head),
        "import base64\nimport math\nimport struct\nimport sys\n",
        "import wasmtime\nfrom wasmtime.component import Component, Linker, Record, Variant\n",
        f"WAT = {_quote_block(wat)}",
        "# The same component in binary: every wasmtime-py release from 39.0.0 on accepts it.",
        f"COMPONENT = base64.b64decode({_b64(wat)!r})\n",
        f"PARAMS = {[n for n, _ in sig.params]!r}",
        f"HAS_RESULT = {sig.result is not None}",
        f"WHERE = {case.where!r}  # arg: argument INDEX of f; ret: the host's result; arity",
        f"INDEX = {case.index!r}",
        f"KIND = {misuse_kind(case)!r}",
        f"DESCRIPTION = {description!r}",
        f"ACCEPTED = {_accepted_source()}  # what the oracle accepts as a rejection",
        f"POISONED = {POISONED!r}  # Wasmtime's answer in a store after a trap",
        f"RESOURCE_MISUSE = {case.res is not None}  # a bad resource handle\n\n",
        HELPERS, hooks, *lit.parts,
        "# the valid call: arguments of f and the value the host g returns",
        f"ARGS = {args}",
        f"RET = {ret}",
        "# the invalid wasmtime-py value",
        f"MISUSE = {misuse}\n\n",
        SAME + ROUNDTRIP_CHECKS + engine_source(case.config) + body])
