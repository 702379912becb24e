'''Standalone reproducers: a Python script that needs only wasmtime-py (no itfuzz) and fails the
way the finding did, fit to paste into an upstream bug report.

The round-trip script embeds the component WAT and each call's values as literal wasmtime-py
values (`Record`, `Variant`, `bytes`, `set`, …), defines the host import `g` with the oracle's
checks (each argument strictly equal to what was passed, the prepared result returned, `g` run
exactly once) and checks that the export `f` returns exactly that result. Strict equality:
`True` is not `1`, -0.0 is not 0.0, any NaN equals any NaN. Exit 1 with a `FAIL[check]` line
when the bug shows, 0 when every check passes.

Every target has a writer (`WRITERS`): component_roundtrip and component_static share the
round-trip script (`roundtrip_text`, the static target only converts its typed values with its
own generated converters), component_hostile's is in `hostile_script`, host_api_misuse's in
`misuse_script`, differential_spec's in `differential_script`; a finding of the C-API lane gets
a script that calls the C API as the lane does (`capi_script`). An input that cannot have a script
(a differential input without a module, a hostile input without a runnable case, a bug of our
interpreter rather than of Wasmtime) raises `Unsupported` saying why.
'''
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from itfuzz.findings import Finding
from itfuzz.generators.components import component_text, for_config
from itfuzz.ops.script_parts import (
    HELPERS,
    PLAIN_HOOKS,
    ROUNDTRIP_CHECKS,
    SAME,
    Literal,
    Unsupported,
    _b64,
    _indent,
    _quote_block,
    docstring,
    engine_source,
    found_by,
    wasmtime_release,
)
from itfuzz.targets import MAX_INPUT

__all__ = ["Unsupported", "script", "roundtrip_script", "static_script", "roundtrip_text",
           "WRITERS"]


def wasmtime_calls(calls, params_in: list[Callable], result_in: Callable | None,
                   lit: Literal) -> list[str]:
    """Each call as `(arguments of f, value g returns)` source, converted by a target's own
    converters (its oracle's `Prepared.params_in` / `result_in`)."""
    out = []
    for call in calls:
        args = "[" + ", ".join(lit(conv(a), 1) for conv, a in zip(params_in, call.args)) + "]"
        ret = lit(result_in(call.ret), 1) if result_in else "None"
        out.append(f"    ({args},\n     {ret}),")
    return out


def roundtrip_script(case, finding: Finding | None, source: str = "") -> str:
    """component_roundtrip: the generated component, values converted from the value model."""
    from itfuzz.oracles.roundtrip import dynamic_converters
    if finding is not None and "C-API lane" in finding.engine:  # found on the C-API lane
        from itfuzz.ops.capi_script import capi_roundtrip_script
        return capi_roundtrip_script(case, finding, source)
    if case.sig.resources or case.sig.guest:
        return _resource_roundtrip(case.sig, component_text(case.sig), case.calls, None, None,
                                   finding, source, config=case.config)
    conv = dynamic_converters(case.sig)
    return roundtrip_text(case.sig, component_text(case.sig), case.calls, conv["params_in"],
                          conv["result_in"], finding, source, config=case.config)


def static_script(case, finding: Finding | None, source: str = "") -> str:
    """component_static: the static case's component and its typed values, converted to
    wasmtime-py values by the case's generated converters (`tw_N`), as its oracle does."""
    from itfuzz.oracles.static import static_converters
    conv = static_converters(case.case)
    if finding is not None and "C-API lane" in finding.engine:  # found on the C-API lane
        from itfuzz.model.case import TestCase
        from itfuzz.ops.capi_script import capi_roundtrip_script
        from itfuzz.oracles.capi_lane import model_calls
        model = TestCase(case.sig, tuple(model_calls(case.calls, _Models(conv))), case.config,
                         lane="c")
        return capi_roundtrip_script(model, finding, source,
                                     wat=for_config(case.case.wat, case.config))
    if case.sig.resources or case.sig.guest:  # typed values to model values, then handles
        return _resource_roundtrip(case.sig, case.case.wat, case.calls, conv["params_model"],
                                   conv["result_model"], finding, source,
                                   note=f"static case {case.case.index} (typed values as model "
                                        "values: handles are made at run time)",
                                   config=case.config)
    return roundtrip_text(case.sig, case.case.wat, case.calls, conv["params_in"],
                          conv["result_in"], finding, source,
                          note=f"static case {case.case.index} (typed values, generated converters)",
                          config=case.config)


class _Models:
    """The `params_model` / `result_model` pair of a static case's converters."""

    def __init__(self, conv: dict) -> None:
        self.params_model, self.result_model = conv["params_model"], conv["result_model"]


def _resource_roundtrip(sig, wat: str, calls, params_model: list[Callable] | None,
                        result_model: Callable | None, finding: Finding | None, source: str,
                        note: str = "", config=None) -> str:
    """The round-trip script of a signature with resources: each handle written `own(N, rep)` /
    `borrow(N, rep)`, made at run time, and the oracle's resource checks (`resource_script`).
    `params_model` / `result_model`: a target's case values to model values (None: they are)."""
    from itfuzz.ops.resource_script import ABOUT, handle_literals, roundtrip_hooks
    conv = handle_literals(sig, guest=True)
    params_in, result_in = conv["params_in"], conv["result_in"]
    if params_model is not None:
        params_in = [lambda a, c=c, m=m: c(m(a)) for c, m in zip(params_in, params_model)]
    if result_model is not None and result_in is not None:
        result_in = lambda r, c=result_in, m=result_model: c(m(r))  # noqa: E731
    first = None
    if calls:
        first = (calls[0].args if params_model is None
                 else tuple(m(a) for m, a in zip(params_model, calls[0].args)))
    return roundtrip_text(sig, wat, calls, params_in, result_in, finding, source, note=note,
                          config=config, hooks=roundtrip_hooks(sig, first), about=ABOUT)


def roundtrip_text(sig, wat: str, calls, params_in: list[Callable], result_in: Callable | None,
                   finding: Finding | None, source: str = "", note: str = "",
                   config=None, hooks: str = PLAIN_HOOKS, about: tuple[str, ...] = ()) -> str:
    """The round-trip script of a component exporting `f` that forwards to the host's `g`
    (`wat` as generated: `config` may give it one-byte pages). `hooks`: how values cross
    (`script_parts.PLAIN_HOOKS`, or a resource script's), `about`: docstring lines on them."""
    from itfuzz.generators import components as component
    wat = component.for_config(wat, config)
    # post-return counters the component exports (each must equal the number of calls so far)
    counters = [n for n in (getattr(component, "COUNT_EXPORT", None),
                            getattr(component, "CALLEE_COUNT_EXPORT", None))
                if n and f'(export "{n}"' in wat]
    lit = Literal()
    rows = wasmtime_calls(calls, params_in, result_in, lit)
    head = ["Standalone reproducer" + (f" of [{finding.signature}]" if finding else ""),
            "",
            f"Needs only wasmtime-py: pip install wasmtime=={wasmtime_release()} && python3 THIS.py",
            "(any release from 39.0.0 on: the component is embedded as binary).",
            "Exit 1 with a FAIL line when the bug shows, 0 when every check passes.",
            "",
            "A component imports `g` and exports `f`, which forwards to `g` (canonical ABI lower",
            "and lift, memory and realloc in the component). For each call the host `g` checks",
            "that it received exactly the arguments passed to `f` and returns a prepared value,",
            "which `f` must return exactly. Strict equality: True is not 1, -0.0 is not 0.0,",
            "any NaN equals any NaN.", *about]
    if finding is not None:
        head += ["", found_by(finding.target or "target", source, finding.message)]
    if note:
        head += ["", f"Case: {note}."]
    if config is not None:
        head += ["", f"Engine configuration: {config.text()} (see make_engine)."]
    head += ["", "WIT of the function:", _indent(sig.wit())]
    params = [n for n, _ in sig.params]
    return f"""#!/usr/bin/env python3
{docstring(head)}
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
{hooks}{chr(10).join(lit.parts)}
# (arguments of f, value the host g returns) per call
CALLS = [
{chr(10).join(rows)}
]


{SAME}{ROUNDTRIP_CHECKS}{engine_source(config)}{ROUNDTRIP_MAIN}"""


ROUNDTRIP_MAIN = """def fail(n, check, what):
    print(f"FAIL[{check}] call #{n}: {what}")
    return 1


def main():
    engine = make_engine()
    component = compile_component(engine)
    if isinstance(component, int):
        return component
    linker = Linker(engine)
    define_host(linker)
    state = {"args": None, "ret": None, "count": 0, "failure": None}
    linker.root().add_func("g", checking_host(state))

    def fresh():
        store = wasmtime.Store(engine)
        return store, linker.instantiate(store, component)

    store, instance = fresh()
    f = instance.get_func(store, "f")
    counters = [(name, instance.get_func(store, name)) for name in POST_RETURN_COUNTERS]
    for n, (args, ret) in enumerate(CALLS):
        before_call(store, instance)
        problem = round_trip(store, f, state, args, ret)
        if problem:
            return fail(n, *problem)
        for name, count in counters:
            got = count(store)
            count.post_return(store)
            if got != n + 1:
                return fail(n, "post-return-count",
                            f"{name} is {got} after {n + 1} call(s): post-return must run "
                            "once per call")
        problem = after_call(store, instance, n, fresh)
        if problem:
            return fail(n, *problem)
    print(f"OK: {len(CALLS)} call(s) round-tripped exactly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
"""


def _hostile(case, finding: Finding | None, source: str = "") -> str:
    from itfuzz.ops.hostile_script import hostile_script
    return hostile_script(case, finding, source)


def _misuse(case, finding: Finding | None, source: str = "") -> str:
    from itfuzz.ops.misuse_script import misuse_script
    return misuse_script(case, finding, source)


def _differential(case, finding: Finding | None, source: str = "") -> str:
    from itfuzz.ops.differential_script import differential_script
    return differential_script(case, finding, source)


WRITERS: dict[str, Callable[[Any, Finding | None, str], str]] = {
    "component_roundtrip": roundtrip_script,
    "component_static": static_script,
    "component_hostile": _hostile,
    "host_api_misuse": _misuse,
    "differential_spec": _differential,
}


def script(target, data: bytes, finding: Finding | None, source: str = "") -> str:
    """A standalone reproducer for `data` on `target`; `Unsupported` if the target or this input
    has none."""
    writer = WRITERS.get(target.name)
    if writer is None:
        raise Unsupported(f"target {target.name} has no standalone reproducer writer "
                          f"(available for: {', '.join(sorted(WRITERS))})")
    return writer(target.decode(data[:MAX_INPUT]), finding, source)
