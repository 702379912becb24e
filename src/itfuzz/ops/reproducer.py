'''Standalone reproducers: a Python script that needs only wasmtime-py (no itfuzz) and fails the
way the finding did, fit to paste into an upstream bug report.

The round-trip script embeds the component WAT and each call's values as literal wasmtime-py
values (`Record`, `Variant`, `bytes`, `set`, …), defines the host import `g` with the oracle's
checks (each argument strictly equal to what was passed, the prepared result returned, `g` run
exactly once) and checks that the export `f` returns exactly that result. Strict equality:
`True` is not `1`, -0.0 is not 0.0, any NaN equals any NaN. Exit 1 with a `FAIL[check]` line
when the bug shows, 0 when every check passes.
'''
from __future__ import annotations

from collections.abc import Callable

from itfuzz.findings import Finding
from itfuzz.ops.script_parts import HELPERS, SAME, Literal, Unsupported, _b64, _indent, _quote_block
from itfuzz.targets import MAX_INPUT

__all__ = ["Unsupported", "script", "roundtrip_script"]

def roundtrip_script(case, finding: Finding | None, source: str = "") -> str:
    from itfuzz.engines.wasmtime_values import to_wasmtime
    from itfuzz.generators import components as component
    sig = case.sig
    wat = component.component_text(sig)
    # post-return counters the component exports (each must equal the number of calls so far)
    counters = [n for n in (getattr(component, "COUNT_EXPORT", None),
                            getattr(component, "CALLEE_COUNT_EXPORT", None))
                if n and f'(export "{n}"' in wat]
    lit = Literal()
    params_in = [to_wasmtime(t) for _, t in sig.params]
    result_in = to_wasmtime(sig.result) if sig.result is not None else None
    calls = []
    for call in case.calls:
        args = "[" + ", ".join(lit(conv(a), 1) for conv, a in zip(params_in, call.args)) + "]"
        ret = lit(result_in(call.ret), 1) if result_in else "None"
        calls.append(f"    ({args},\n     {ret}),")
    try:
        from importlib.metadata import version
        wasmtime_version = version("wasmtime")
    except Exception:
        wasmtime_version = "?"
    head = ["Standalone reproducer" + (f" of [{finding.signature}]" if finding else ""),
            "",
            f"Needs only wasmtime-py: pip install wasmtime=={wasmtime_version} && python3 THIS.py",
            "Exit 1 with a FAIL line when the bug shows, 0 when every check passes.",
            "",
            "A component imports `g` and exports `f`, which forwards to `g` (canonical ABI lower",
            "and lift, memory and realloc in the component). For each call the host `g` checks",
            "that it received exactly the arguments passed to `f` and returns a prepared value,",
            "which `f` must return exactly. Strict equality: True is not 1, -0.0 is not 0.0,",
            "any NaN equals any NaN."]
    if finding is not None:
        head += ["", f"Found by itfuzz ({finding.target or 'target'}"
                 + (f", input {source}" if source else "") + f"): {finding.message}"]
    head += ["", "WIT of the function:", _indent(sig.wit())]
    doc = "\n".join(head).replace("\\", "\\\\").replace('"""', "'''")
    params = [n for n, _ in sig.params]
    return f'''#!/usr/bin/env python3
"""{doc}
"""
import base64
import math
import struct
import sys

import wasmtime
from wasmtime.component import Component, Linker, Record, Variant

WAT = {_quote_block(wat)}
# The same component in binary: every wasmtime-py release from 39.0.0 on accepts it.
COMPONENT = base64.b64decode({_b64(wat)!r})

PARAMS = {params!r}
HAS_RESULT = {sig.result is not None}
POST_RETURN_COUNTERS = {counters!r}


{HELPERS}
{chr(10).join(lit.parts)}
# (arguments of f, value the host g returns) per call
CALLS = [
{chr(10).join(calls)}
]


{SAME}class HostCheckFailed(Exception):
    pass


def fail(n, check, what):
    print(f"FAIL[{{check}}] call #{{n}}: {{what}}")
    return 1


def main():
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    component = Component(engine, COMPONENT)
    linker = Linker(engine)
    state = {{"args": None, "ret": None, "count": 0, "failure": None}}

    def g(store, *args):
        state["count"] += 1
        if state["count"] > 1:
            state["failure"] = ("host-call-count", "g ran more than once")
            raise HostCheckFailed
        want = state["args"]
        if len(args) != len(want):
            state["failure"] = ("host-arg-count", f"g received {{len(args)}} arguments")
            raise HostCheckFailed
        for name, w, h in zip(PARAMS, want, args):
            if not same(w, h):
                state["failure"] = ("host-arg-mismatch",
                                    f"g received {{name}} = {{h!r}}, expected {{w!r}}")
                raise HostCheckFailed
        return state["ret"]

    linker.root().add_func("g", g)
    instance = linker.instantiate(store, component)
    f = instance.get_func(store, "f")
    counters = [(name, instance.get_func(store, name)) for name in POST_RETURN_COUNTERS]
    for n, (args, ret) in enumerate(CALLS):
        state.update(args=args, ret=ret, count=0, failure=None)
        try:
            out = f(store, *args)
            f.post_return(store)
        except HostCheckFailed:
            return fail(n, *state["failure"])
        except Exception as e:
            if state["failure"]:
                return fail(n, *state["failure"])
            return fail(n, "call-error", f"f raised {{type(e).__name__}}: {{e}}")
        if state["count"] != 1:
            return fail(n, "host-call-count", f"g ran {{state['count']}} times, expected once")
        want = ret if HAS_RESULT else None
        if not same(want, out):
            return fail(n, "result-mismatch", f"f returned {{out!r}}, expected {{want!r}}")
        for name, count in counters:
            got = count(store)
            count.post_return(store)
            if got != n + 1:
                return fail(n, "post-return-count",
                            f"{{name}} is {{got}} after {{n + 1}} call(s): post-return must run "
                            "once per call")
    print(f"OK: {{len(CALLS)}} call(s) round-tripped exactly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


def _hostile(case, finding: Finding | None, source: str = "") -> str:
    from itfuzz.ops.hostile_script import hostile_script
    return hostile_script(case, finding, source)


WRITERS: dict[str, Callable] = {
    "component_roundtrip": roundtrip_script,
    "component_hostile": _hostile,
}


def script(target, data: bytes, finding: Finding | None, source: str = "") -> str:
    """A standalone reproducer for `data` on `target`; `Unsupported` if the target has none."""
    writer = WRITERS.get(target.name)
    if writer is None:
        raise Unsupported(f"target {target.name} has no standalone reproducer writer "
                          f"(available for: {', '.join(sorted(WRITERS))})")
    return writer(target.decode(data[:MAX_INPUT]), finding, source)
