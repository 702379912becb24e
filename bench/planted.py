"""Planted bugs of the bug-finding benchmark: small patches applied only inside a benchmark
process (or a test, which undoes them), never in `src/`.

Each `Plant` patches wasmtime-py's value conversion, itfuzz's component generator or the
differential oracle's raw Wasmtime call so that a known class of input goes wrong, and names
which finding signatures count as detecting it. The oracles' checks are untouched: the benchmark
measures how fast the search reaches the input.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

UTF16 = re.compile(r"string-encoding=utf16\b")


@dataclass(frozen=True)
class Plant:
    name: str
    title: str
    targets: tuple[str, ...]   # the targets whose code path goes through the patched code
    signature: str             # regex (re.search) over finding signatures that detect it
    patch: Callable[[], Callable[[], None]]  # applies the bug; returns the undo

    def detects(self, signature: str) -> bool:
        return re.search(self.signature, signature) is not None


def _swap(owner, attr: str, make: Callable[[Callable], Callable]) -> Callable[[], None]:
    """Replace `owner.attr` by `make(original)`; return the undo."""
    orig = owner.__dict__[attr]
    setattr(owner, attr, make(orig))
    return lambda: setattr(owner, attr, orig)


def _types():
    from wasmtime.component import _types
    return _types


# -- wasmtime-py value conversion ---------------------------------------------------------------
def u64_truncate():
    """U64 lowering keeps only the low 32 bits of values above u32::MAX."""
    def make(orig):
        def convert_to_c(self, store, val, ptr):
            if type(val) is int and val > 0xFFFFFFFF:
                val &= 0xFFFFFFFF
            return orig(self, store, val, ptr)
        return convert_to_c
    return _swap(_types().U64, "convert_to_c", make)


def list_256_drop():
    """List lowering drops the last element of a list of exactly 256 elements (a map's host
    form is a list of pairs lowered by the same code, so a 256-entry map loses an entry too)."""
    def make(orig):
        def convert_to_c(self, store, val, ptr):
            if isinstance(val, (list, bytes)) and len(val) == 256:
                val = val[:-1]
            return orig(self, store, val, ptr)
        return convert_to_c
    return _swap(_types().ListType, "convert_to_c", make)


def flags_swap():
    """Flags lifting swaps the first two labels when exactly one of them is set."""
    def make(orig):
        def convert_from_c(self, c):
            got = orig(self, c)
            names = self.names
            if len(names) >= 2 and (names[0] in got) != (names[1] in got):
                got ^= {names[0], names[1]}
            return got
        return convert_from_c
    return _swap(_types().FlagsType, "convert_from_c", make)


def option_nested_mistag():
    """Lifting `option<option<T>>` turns `some(none)` into `none`."""
    t = _types()

    def make(orig):
        def convert_from_c(self, c):
            got = orig(self, c)
            if isinstance(got, t.Variant) and got.tag == "some" and got.payload is None \
                    and isinstance(self.payload, t.OptionType):
                return t.Variant("none")
            return got
        return convert_from_c
    return _swap(t.OptionType, "convert_from_c", make)


def f64_negzero():
    """F64 lowering turns -0.0 into 0.0."""
    def make(orig):
        def convert_to_c(self, store, val, ptr):
            if type(val) is float and val == 0.0 and math.copysign(1.0, val) < 0:
                val = 0.0
            return orig(self, store, val, ptr)
        return convert_to_c
    return _swap(_types().F64, "convert_to_c", make)


def utf16_astral():
    """In a component with a utf16 side, string lifting mangles astral chars into U+FFFD."""
    import wasmtime.component as wc
    state = {"utf16": False}
    marks: dict[int, bool] = {}

    def make_init(orig):
        def __init__(self, engine, wasm):
            orig(self, engine, wasm)
            marks[id(self)] = isinstance(wasm, str) and UTF16.search(wasm) is not None
        return __init__

    def make_instantiate(orig):
        def instantiate(self, store, component):
            state["utf16"] = marks.get(id(component), False)
            return orig(self, store, component)
        return instantiate

    def make_lift(orig):
        def convert_from_c(self, c):
            s = orig(self, c)
            if state["utf16"] and any(ord(ch) > 0xFFFF for ch in s):
                s = "".join("\ufffd" if ord(ch) > 0xFFFF else ch for ch in s)
            return s
        return convert_from_c
    undo = [_swap(wc.Component, "__init__", make_init),
            _swap(wc.Linker, "instantiate", make_instantiate),
            _swap(_types().String, "convert_from_c", make_lift)]
    return lambda: [u() for u in reversed(undo)]


# -- itfuzz's component generator ---------------------------------------------------------------
def record_retptr_offset():
    """The generated core adapter returns a record result's address 4 bytes past where `g`
    wrote it, so the record is lifted mis-aligned (fields read from the wrong offsets)."""
    from itfuzz.generators import components as component
    from itfuzz.model.types import Record

    def make(orig):
        def main_module(sig):
            text = orig(sig)
            if sig.uses_retptr and isinstance(sig.result, Record):
                call = f"(call $g) (i32.const {component.RETBUF})"
                text = text.replace(call, f"(call $g) (i32.const {component.RETBUF + 4})")
            return text
        return main_module
    return _swap(component, "main_module", make)


def adapter_drop_16():
    """With exactly 16 flat params (the most that are passed flat), the generated core adapter
    forwards a zero in place of the last one."""
    from itfuzz.generators import components as component

    def make(orig):
        def main_module(sig):
            text = orig(sig)
            if len(sig.flat_params) == 16:
                zero = f"({sig.flat_params[15]}.const 0)"
                text = re.sub(r"\(local\.get 15\)(?= (\(i32\.const \d+\) )?\(call \$g\))",
                              zero, text)
            return text
        return main_module
    return _swap(component, "main_module", make)


# -- differential_spec: a wrong instruction in the interpreter, a wrong argument into Wasmtime ----
def multi_result():
    """Wasmtime returns the last result with its low bit flipped (a number; a reference stays)
    from functions of 2 params and 2 or more results: found by a module that has one (a search
    over modules, ~3 % of them)."""
    from itfuzz.oracles import differential
    from itfuzz.spec.values import Value

    def make(orig):
        def raw_caller(store, func, params, results):
            call = orig(store, func, params, results)
            if len(params) != 2 or len(results) < 2:
                return call

            def wrong(args):
                out = call(args)
                last = out[-1]
                if last.bits is None:
                    return out
                return out[:-1] + (Value(last.type, last.bits ^ 1),)
            return wrong
        return raw_caller
    return _swap(differential, "raw_caller", make)


def i32_small_negative():
    """Wasmtime receives an i32 argument from -256 to -2 with its sign bit cleared: found by
    argument values that are no edge value of the decoder (a search over a module's calls)."""
    from itfuzz.oracles import differential
    from itfuzz.spec.values import Value

    def make(orig):
        def raw_caller(store, func, params, results):
            call = orig(store, func, params, results)
            return lambda args: call(tuple(
                Value("i32", a.bits & 0x7FFFFFFF)
                if a.type == "i32" and 0xFFFFFF00 <= a.bits <= 0xFFFFFFFE else a for a in args))
        return raw_caller
    return _swap(differential, "raw_caller", make)


BOTH = ("component_roundtrip", "component_static")
ROUNDTRIP = ("component_roundtrip",)
MISMATCH = r"^(host-arg-mismatch|result-mismatch)\|"
DIFFERENTIAL = ("differential_spec",)
DIFF = r"^diff-"  # any disagreement of the interpreter and Wasmtime after instantiation

PLANTS = {p.name: p for p in (
    Plant("u64-truncate", "wasmtime-py lowers u64 above u32::MAX truncated to 32 bits", BOTH,
          MISMATCH + r"u64:value", u64_truncate),
    Plant("list-256-drop", "wasmtime-py drops the last element of a 256-element list", BOTH,
          MISMATCH + r"(list|map):length", list_256_drop),
    Plant("flags-swap", "wasmtime-py swaps the first two flags when one of them is set", BOTH,
          MISMATCH + r"flags:value", flags_swap),
    Plant("option-mistag", "wasmtime-py lifts some(none) of option<option<T>> as none", BOTH,
          MISMATCH + r"option:case", option_nested_mistag),
    Plant("f64-negzero", "wasmtime-py lowers f64 -0.0 as 0.0", BOTH,
          MISMATCH + r"f64:value", f64_negzero),
    Plant("utf16-astral", "strings of a utf16 component lose astral chars when lifted", BOTH,
          MISMATCH + r"string:value", utf16_astral),
    Plant("record-retptr-offset", "generator: record result lifted 4 bytes off (mis-aligned)",
          ROUNDTRIP, r"^(result-mismatch|result-shape|call-error)\|", record_retptr_offset),
    Plant("adapter-drop-16", "generator: adapter forwards 0 for the 16th flat param", ROUNDTRIP,
          r"^(host-arg-mismatch|call-error)\|", adapter_drop_16),
    Plant("multi-result", "Wasmtime flips a bit of the last result of (2 params, 2+ results)",
          DIFFERENTIAL, DIFF, multi_result),
    Plant("i32-small-negative", "Wasmtime clears the sign of i32 arguments -256..-2",
          DIFFERENTIAL, DIFF, i32_small_negative),
)}


def apply(name: str) -> Callable[[], None]:
    """Apply the planted bug `name`; returns the undo."""
    try:
        plant = PLANTS[name]
    except KeyError:
        raise SystemExit(f"unknown planted bug {name!r}; known: {', '.join(PLANTS)}") from None
    return plant.patch()
