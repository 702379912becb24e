"""Pieces of the standalone reproducer scripts (`ops/reproducer.py`, `ops/hostile_script.py`,
`ops/misuse_script.py`, `ops/differential_script.py`): wasmtime-py values as Python source, the
strict equality and helpers every script defines, the checked round trip the round-trip, static
and misuse scripts share, the docstring, and the component or module embedded as binary (so a
script runs on every release from 39.0.0)."""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

from itfuzz.engines.compat import NEWER_RULES, RELEASE_LIMITS

MAX_INLINE_DEPTH = 40  # deeper values are split into named parts (Python's parser nests ≤ 200)


class Unsupported(Exception):
    """No standalone reproducer for this target, or for this input of it (the message says
    why)."""


def _float(x: float) -> str:
    if math.isnan(x):
        return f"nan(0x{struct.unpack('<Q', struct.pack('<d', x))[0]:016x})"
    if math.isinf(x):
        return "math.inf" if x > 0 else "-math.inf"
    return repr(x)


@dataclass(frozen=True)
class Call:
    """A value written as a call in a script, `func(*args)` (e.g. `own(0, 7)`: a handle the
    script makes at run time)."""

    func: str
    args: tuple


class Literal:
    """Python source for wasmtime-py values; parts nested too deep are hoisted into names."""

    def __init__(self) -> None:
        self.parts: list[str] = []  # "name = source" lines, each before its first use

    def __call__(self, x: Any, depth: int = 0) -> str:
        from wasmtime.component import Record, Variant
        composite = isinstance(x, (list, tuple, Record, Variant))
        if composite and depth >= MAX_INLINE_DEPTH:
            name = f"part{len(self.parts)}"
            self.parts.append(f"{name} = {self(x, 0)}")
            return name
        d = depth + 1
        if x is None or isinstance(x, (bool, int, str, bytes, bytearray)):
            return repr(x)
        if isinstance(x, float):
            return _float(x)
        if isinstance(x, list):
            return "[" + ", ".join(self(e, d) for e in x) + "]"
        if isinstance(x, tuple):
            return "(" + ", ".join(self(e, d) for e in x) + ("," if len(x) == 1 else "") + ")"
        if isinstance(x, frozenset):  # not a wasmtime-py value: the misuse target's wrong types
            return "frozenset(" + (self(set(x), d) if x else "") + ")"
        if isinstance(x, set):
            return "{" + ", ".join(self(e, d) for e in _sorted(x)) + "}" if x else "set()"
        if isinstance(x, dict):
            return "{" + ", ".join(f"{self(k, d)}: {self(v, d)}" for k, v in x.items()) + "}"
        if type(x) is object:
            return "object()"
        if isinstance(x, Call):
            return x.func + "(" + ", ".join(self(a, d) for a in x.args) + ")"
        if isinstance(x, Record):
            return "record(" + ", ".join(f"({k!r}, {self(v, d)})" for k, v in vars(x).items()) + ")"
        if isinstance(x, Variant):
            return f"Variant({x.tag!r}, {self(x.payload, d)})"
        raise TypeError(f"no literal for {type(x).__name__}")


def _sorted(items) -> list:
    try:
        return sorted(items)
    except TypeError:  # mixed classes (a misuse value)
        return sorted(items, key=repr)


HELPERS = '''def record(*fields):
    r = Record()
    for name, value in fields:
        setattr(r, name, value)
    return r


def nan(bits):
    return struct.unpack("<d", struct.pack("<Q", bits))[0]

'''
SAME = '''def same(a, b):
    """Strict equality of wasmtime-py values."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, Record):
        return vars(a).keys() == vars(b).keys() and all(
            same(v, getattr(b, k)) for k, v in vars(a).items())
    if isinstance(a, Variant):
        return a.tag == b.tag and same(a.payload, b.payload)
    return a == b


'''


# How values cross in a script without resource handles: as written. A script of a signature with
# resources defines these hooks instead (`ops/resource_script.py`); they come before the values.
PLAIN_HOOKS = '''# The values pass as written (a signature with resources would make handles here).
def define_host(linker):
    pass


def to_wasm(store, value):
    return value


def from_wasm(store, value):
    return value


def view(value, who):
    return value


def before_call(store, instance):
    pass


def after_call(store, instance, n, fresh):
    return None


'''


# The checked round trip of one call (component_roundtrip, component_static, and the valid calls
# of host_api_misuse), as the round-trip oracle checks it: the host import `g` must receive
# exactly the arguments passed to the export `f` and run exactly once, and `f` must return
# exactly what `g` returned. Needs `same` (SAME), PARAMS, HAS_RESULT and the value hooks
# (PLAIN_HOOKS or a resource script's). `compile_component` tells a limit of an old release (the
# oracle discards those components there) from a finding.
_LIMITS = f"""# Errors of old releases on valid components, and rules newer releases add that the spec
# revision itfuzz models lacks: limits, not bugs (itfuzz discards them).
RELEASE_LIMITS = {tuple(RELEASE_LIMITS) + tuple(NEWER_RULES)!r}


"""
ROUNDTRIP_CHECKS = _LIMITS + '''def compile_component(engine):
    """The component, or the script's exit status when this release cannot compile it."""
    try:
        return Component(engine, COMPONENT)
    except wasmtime.WasmtimeError as e:
        limit = next((needle for needle in RELEASE_LIMITS if needle in str(e)), None)
        if limit:
            print(f"SKIP: this release rejects the component ({limit}): a release limit, "
                  "not a finding")
            return 0
        print(f"FAIL[compile] Wasmtime rejected a valid component: {str(e).splitlines()[0]}")
        return 1


def show(x):
    """A readable wasmtime-py value (Record and Variant have no repr of their own)."""
    if isinstance(x, Record):
        return "Record(" + ", ".join(f"{k}={show(v)}" for k, v in vars(x).items()) + ")"
    if isinstance(x, Variant):
        return f"Variant({x.tag!r}, {show(x.payload)})"
    if isinstance(x, (list, tuple)):
        inner = ", ".join(show(e) for e in x)
        return f"[{inner}]" if isinstance(x, list) else f"({inner}{',' if len(x) == 1 else ''})"
    return repr(x)


class HostCheckFailed(Exception):
    pass


def checking_host(state):
    """The host function `g`: checks its arguments against state["args"], returns state["ret"]."""
    def g(store, *args):
        state["count"] += 1
        if state["count"] > 1:
            state["failure"] = ("host-call-count", "g ran more than once")
            raise HostCheckFailed
        want = view(state["args"], "g")  # what g must see of f's arguments
        if len(args) != len(want):
            state["failure"] = ("host-arg-count", f"g received {len(args)} arguments")
            raise HostCheckFailed
        for name, w, h in zip(PARAMS, want, from_wasm(store, args)):
            if not same(w, h):
                state["failure"] = ("host-arg-mismatch",
                                    f"g received {name} = {show(h)}, expected {show(w)}")
                raise HostCheckFailed
        return to_wasm(store, view(state["ret"], "g"))
    return g


def round_trip(store, f, state, args, ret):
    """Call f(*args) with g returning `ret`: None when every check passes, else (check, what)."""
    state.update(args=args, ret=ret, count=0, failure=None)
    try:
        out = f(store, *to_wasm(store, view(args, "f")))
        f.post_return(store)  # needed before Wasmtime ran post-return itself; a no-op after
        out = from_wasm(store, out)
    except HostCheckFailed:
        return state["failure"]
    except Exception as e:
        if state["failure"]:
            return state["failure"]
        return ("call-error", f"f raised {type(e).__name__}: {e}")
    if state["count"] != 1:
        return ("host-call-count", f"g ran {state['count']} times, expected once")
    want = view(ret, "f") if HAS_RESULT else None
    if not same(want, out):
        return ("result-mismatch", f"f returned {show(out)}, expected {show(want)}")
    return None


'''


def _b64(wat: str | bytes) -> str:
    """A component's or module's binary, base64: `wat` as text (made binary by wasm-tools, which
    every release's `Component` accepts) or already binary (embedded exactly)."""
    import base64

    from itfuzz.spec.tools import wat2wasm
    return base64.b64encode(wat if isinstance(wat, bytes) else wat2wasm(wat)).decode()


def wasmtime_release() -> str:
    """The wasmtime-py release this process runs (for the script's `pip install` line)."""
    try:
        from importlib.metadata import version
        return version("wasmtime")
    except Exception:
        return "?"


def found_by(where: str, source: str | None, message: str) -> str:
    """The docstring line that says which target (and lane) found the bug, in which input."""
    return f"Found by itfuzz ({where}" + (f", input {source}" if source else "") + f"): {message}"


def docstring(lines: list[str]) -> str:
    """The script's docstring from its lines: a `\"\"\"` block that is valid source whatever the
    text holds (backslashes, triple quotes, lone surrogates shown as escapes)."""
    text = "\n".join(lines).encode("utf-8", "backslashreplace").decode("utf-8")
    return '"""' + text.replace("\\", "\\\\").replace('"""', "'''") + '\n"""'


def _quote_block(text: str) -> str:
    return 'r"""' + text + '"""' if '"""' not in text and not text.endswith("\\") else repr(text)


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def engine_source(config) -> str:
    """`make_engine()` of a script: the engine `config` (an `EngineConfig`, None for Wasmtime's
    default) names, made by the same C API calls itfuzz makes (`engines.configs`), maps on where
    the release has them, as itfuzz's engines."""
    from itfuzz.engines.configs import pool_calls, setter_calls
    what = "Wasmtime's default configuration" if config is None else config.text()
    return f'''# The engine configuration itfuzz ran the case on ({what}), through wasmtime-py's
# C API bindings (it has no property for Winch, pooling or concurrency support).
CONFIG_CALLS = {setter_calls(config) if config is not None else []!r}
POOL_CALLS = {pool_calls(config) if config is not None else []!r}


def make_engine():
    import ctypes
    from wasmtime import _bindings as capi
    cfg = wasmtime.Config()
    if hasattr(capi, "wasmtime_config_wasm_component_model_map_set"):
        capi.wasmtime_config_wasm_component_model_map_set(cfg.ptr(), True)  # map<K, V>
    if ("wasmtime_config_strategy_set", 2) in CONFIG_CALLS \\
            and "WASMTIME_STRATEGY_WINCH" not in capi.wasmtime_strategy_enum.__members__:
        print("SKIP: this release's C API has no Winch (the value 2 would mean Cranelift)")
        sys.exit(0)
    for setter, value in CONFIG_CALLS:
        if isinstance(value, bytes):
            if getattr(capi, setter)(cfg.ptr(), ctypes.c_char_p(value)):  # an error
                raise SystemExit(f"this release cannot make {{setter}}({{value!r}})")
        elif hasattr(capi, setter):
            getattr(capi, setter)(cfg.ptr(), value)
        elif value is not False:  # off is what a release without the setter is
            print(f"SKIP: this release has no {{setter}} (itfuzz discards the case here)")
            sys.exit(0)
    if POOL_CALLS:
        pool = capi.wasmtime_pooling_allocation_config_new()
        for setter, n in POOL_CALLS:
            getattr(capi, setter)(pool, n)
        capi.wasmtime_pooling_allocation_strategy_set(cfg.ptr(), pool)
        capi.wasmtime_pooling_allocation_config_delete(pool)
    return wasmtime.Engine(cfg)


'''
