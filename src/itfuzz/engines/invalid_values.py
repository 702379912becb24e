"""Invalid and ill-typed wasmtime-py values: the inputs of the host-API misuse target.

A valid model value is converted with `wasmtime_values.to_wasmtime`; then one node, chosen by the
input and possibly deep inside, is replaced by a value that breaks wasmtime-py's documented
conventions (see `wasmtime_values`): a wrong Python type, an out-of-range integer, a bool for an
integer, a lone surrogate in a string, a char that is not one scalar value, an unknown enum or
flag name, an unknown variant tag, a payload on a payload-less case or none on a case that needs
one, a tuple of the wrong length, a record missing or adding a field.

`why_invalid` judges a wasmtime-py value against the conventions on its own, independently of how
the value was made: a mutation that happens to be valid (a wrong-typed payload of an untagged
variant that fits another case) is recognised and never counted as misuse. Floats for `f32` are
valid whatever their magnitude (wasmtime-py rounds them, like any f64 → f32 conversion).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from wasmtime.component import Record as WRecord
from wasmtime.component import Variant as WVariant

from itfuzz.engines.resource_misuse import (
    MAGIC,
    ResourceMisuse,
    decode_resource_misuse,
    occurrences,
    show_handle,
)
from itfuzz.engines.wasmtime_values import is_tagged, py_classes, to_wasmtime
from itfuzz.generators.unstructured import Unstructured
from itfuzz.model.types import INT_RANGES, Enum, Flags, List, Record, Tuple, Type, _VariantLike

UNKNOWN = "zz-unknown"  # a label no generated type uses (typegen labels never start with "zz")
MAX_DESCENT = 12
RESOURCE_SIG_TRIES = 8  # signatures drawn at most, until one uses a resource


@dataclass(frozen=True)
class Misuse:
    """A wasmtime-py value for a type with exactly one invalid node."""

    value: Any  # the whole value, as passed to wasmtime-py
    path: str   # where the invalid node sits, e.g. `x.f0[2]<some>`
    kind: str   # what is wrong there (value-free; part of finding signatures)
    node: Type | None  # the type the invalid node should have had (None: no result type)
    bad: Any    # the invalid node

    @property
    def depth(self) -> int:
        """How many levels below the top value the invalid node sits."""
        return sum(self.path.count(c) for c in ".[<")


def show(w: Any, limit: int = 400) -> str:
    """A deterministic, readable rendering of a wasmtime-py value (no object addresses)."""
    def go(x: Any) -> str:
        if isinstance(x, WRecord):
            return "Record(" + ", ".join(f"{k}={go(v)}" for k, v in vars(x).items()) + ")"
        if isinstance(x, WVariant):
            return f"Variant({x.tag!r}, {go(x.payload)})"
        if isinstance(x, tuple):
            return "(" + ", ".join(go(e) for e in x) + ("," if len(x) == 1 else "") + ")"
        if isinstance(x, list):
            return "[" + ", ".join(go(e) for e in x) + "]"
        if isinstance(x, (set, frozenset)):
            inner = ", ".join(sorted(go(e) for e in x))
            return f"{type(x).__name__}({{{inner}}})" if x else f"{type(x).__name__}()"
        if type(x) is object:
            return "object()"
        return show_handle(x) or repr(x)
    text = go(w)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


def why_invalid(t: Type, w: Any) -> str | None:
    """None when `w` is a valid wasmtime-py value of `t` under its conventions, else why not."""
    k = t.kind
    if k == "bool":
        return None if type(w) is bool else f"{type(w).__name__} for bool"
    if k in INT_RANGES:
        if type(w) is not int:
            return f"{type(w).__name__} for {k}"
        lo, hi = INT_RANGES[k]
        return None if lo <= w <= hi else f"{w} out of {k} range"
    if k in ("f32", "f64"):
        return None if type(w) is float else f"{type(w).__name__} for {k}"
    if k in ("char", "string"):
        if type(w) is not str:
            return f"{type(w).__name__} for {k}"
        if k == "char" and len(w) != 1:
            return f"char of {len(w)} code points"
        if any(0xD800 <= ord(c) <= 0xDFFF for c in w):
            return "lone surrogate"
        return None
    if isinstance(t, List):
        if t.elem.kind == "u8":
            return None if type(w) is bytes else f"{type(w).__name__} for list<u8>"
        if type(w) is not list:
            return f"{type(w).__name__} for list"
        return next((f"[{i}]: {r}" for i, e in enumerate(w) if (r := why_invalid(t.elem, e))),
                    None)
    if isinstance(t, Record):
        if type(w) is not WRecord:
            return f"{type(w).__name__} for record"
        names = [n for n, _ in t.fields]
        if set(vars(w)) != set(names):
            return f"fields {sorted(vars(w))} != {sorted(names)}"
        return next((f".{n}: {r}" for n, ft in t.fields
                     if (r := why_invalid(ft, getattr(w, n)))), None)
    if isinstance(t, Tuple):
        if type(w) is not tuple:
            return f"{type(w).__name__} for tuple"
        if len(w) != len(t.elems):
            return f"tuple of {len(w)} for {len(t.elems)}"
        return next((f".{i}: {r}" for i, (et, e) in enumerate(zip(t.elems, w))
                     if (r := why_invalid(et, e))), None)
    if isinstance(t, Enum):
        if type(w) is not str:
            return f"{type(w).__name__} for enum"
        return None if w in t.names_ else f"unknown enum name {w!r}"
    if isinstance(t, Flags):
        if type(w) is not set:
            return f"{type(w).__name__} for flags"
        bad = [x for x in w if type(x) is not str or x not in t.labels]
        return f"unknown flags {sorted(map(repr, bad))}" if bad else None
    cases = dict(t.cases())
    if is_tagged(t):
        if type(w) is not WVariant:
            return f"{type(w).__name__} for tagged {k}"
        if w.tag not in cases:
            return f"unknown case {w.tag!r}"
        payload = cases[w.tag]
        if payload is None:
            return None if w.payload is None else "payload on a payload-less case"
        r = why_invalid(payload, w.payload)
        return f"<{w.tag}>: {r}" if r else None
    # Untagged: valid when some case takes it (which one wasmtime-py picks is K1/K2's business).
    if w is None and any(p is None for p in cases.values()):
        return None
    if any(p is not None and why_invalid(p, w) is None for p in cases.values()):
        return None
    return f"{type(w).__name__} fits no case of untagged {k}"


def _sibling_slip(t: Type, inner: Misuse) -> str:
    """The kind of a misuse that is a whole payload of `t`: a wrong-typed int or bool in an
    untagged variant is only out of range (`int-range`) or a bool (`bool-for-int`) for another,
    integer case, which wasmtime-py may pick; it is that slip when accepted, not `wrong-type`."""
    if inner.kind != "wrong-type" or not isinstance(t, _VariantLike) or is_tagged(t) \
            or type(inner.bad) not in (int, bool):
        return inner.kind
    ints = [p for _, p in t.cases() if p is not None and p.kind in INT_RANGES]
    if type(inner.bad) is bool:
        return "bool-for-int" if ints else inner.kind
    return "int-range" if ints else inner.kind


# Python values of many classes; `wrong_type` keeps the ones that are invalid for the node and
# that do not pass wasmtime-py's class test for it (a bool where an int is accepted is its own
# kind, `bool-for-int`).
WRONG_SAMPLES: tuple = (None, True, False, 0, 7, -1, 1.5, float("nan"), "s", "", b"b", b"",
                        bytearray(b"b"), [], [1], (), (1,), set(), {"s"}, frozenset({"s"}), {},
                        WRecord(), WVariant("x"), object())


def _record(fields: dict) -> WRecord:
    r = WRecord()
    for k, v in fields.items():
        setattr(r, k, v)
    return r


class InvalidGen:
    """Draws one misuse for a type and a valid model value of it."""

    def __init__(self, u: Unstructured) -> None:
        self.u = u

    def make(self, t: Type, v: Any, path: str = "value", depth: int = 0) -> Misuse | None:
        """A value of `t` with one invalid node (None if no candidate is invalid). The input
        decides how deep the node sits: each level descends with probability 2/3."""
        kids = self._children(t, v, path)
        if kids and depth < MAX_DESCENT and not self.u.ratio(1, 3):
            child_t, child_v, child_path, rebuild = self.u.choose(kids)
            inner = self.make(child_t, child_v, child_path, depth + 1)
            if inner is not None:
                whole = rebuild(inner.value)
                # An untagged variant may take the invalid payload as another, valid case.
                if why_invalid(t, whole) is not None:
                    kind = _sibling_slip(t, inner) if inner.path == child_path else inner.kind
                    return Misuse(whole, inner.path, kind, inner.node, inner.bad)
        return self._here(t, v, path)

    def _children(self, t: Type, v: Any, path: str) -> list:
        """(type, model value, path, rebuild(invalid child) -> whole value) per child."""
        out = []
        if isinstance(t, List) and t.elem.kind != "u8":
            conv = to_wasmtime(t.elem)
            for i, e in enumerate(v):
                out.append((t.elem, e, f"{path}[{i}]",
                            lambda x, i=i: [x if j == i else conv(e2) for j, e2 in enumerate(v)]))
        elif isinstance(t, Record):
            convs = [(n, to_wasmtime(ft)) for n, ft in t.fields]
            for i, (n, ft) in enumerate(t.fields):
                out.append((ft, v[i], f"{path}.{n}", lambda x, i=i: _record(
                    {n2: (x if j == i else c(v[j])) for j, (n2, c) in enumerate(convs)})))
        elif isinstance(t, Tuple):
            convs = [to_wasmtime(et) for et in t.elems]
            for i, et in enumerate(t.elems):
                out.append((et, v[i], f"{path}.{i}", lambda x, i=i: tuple(
                    x if j == i else c(v[j]) for j, c in enumerate(convs))))
        elif isinstance(t, _VariantLike) and not isinstance(t, Enum):
            name, payload = v
            pt = dict(t.cases())[name]
            if pt is not None:
                wrap = (lambda x: WVariant(name, x)) if is_tagged(t) else (lambda x: x)
                out.append((pt, payload, f"{path}<{name}>", wrap))
        return out

    def _here(self, t: Type, v: Any, path: str) -> Misuse | None:
        """Replace the node itself by an invalid value of a kind the input chooses."""
        w = to_wasmtime(t)(v)
        candidates = [(kind, bad) for kind, bad in self._candidates(t, v, w)
                      if why_invalid(t, bad) is not None]
        if not candidates:
            return None
        kind, bad = self.u.choose(candidates)
        return Misuse(bad, path, kind, t, bad)

    def _candidates(self, t: Type, v: Any, w: Any) -> list[tuple[str, Any]]:
        u, k = self.u, t.kind
        accepted = tuple(c for c in py_classes(t) if c is not object)
        wrong = [s for s in WRONG_SAMPLES if not (accepted and isinstance(s, accepted))]
        out: list[tuple[str, Any]] = [("wrong-type", u.choose(wrong))] if wrong else []
        if k in INT_RANGES:
            lo, hi = INT_RANGES[k]
            out.append(("int-range", u.choose((lo - 1, hi + 1, hi + 1 + u.u8(), lo - 1 - u.u8(),
                                               1 << 64, -(1 << 63) - 1, 1 << 100))))
            out.append(("bool-for-int", u.bool()))
        elif k == "char":
            out.append(("char-length", u.choose(("", "ab", "a\u0301", "\U0001f600x"))))
            out.append(("char-surrogate", chr(u.int_in_range(0xD800, 0xDFFF))))
        elif k == "string":
            at = u.int_in_range(0, len(w))
            out.append(("string-surrogate", w[:at] + chr(u.int_in_range(0xD800, 0xDFFF)) + w[at:]))
        elif isinstance(t, List):
            if t.elem.kind == "u8":
                out.append(("wrong-type", u.choose((list(w), bytearray(w), w.decode("latin-1")))))
            else:
                out.append(("wrong-type", tuple(w)))
        elif isinstance(t, Record):
            fields = dict(vars(w))
            if len(fields) > 0:
                drop = u.choose(list(fields))
                out.append(("record-missing-field",
                            _record({n: x for n, x in fields.items() if n != drop})))
            out.append(("record-extra-field", _record({**fields, UNKNOWN: 0})))
            out.append(("wrong-type", u.choose((tuple(fields.values()), fields))))
        elif isinstance(t, Tuple):
            out.append(("tuple-length", u.choose((w[:-1], w + (w[-1],)))))
            out.append(("wrong-type", list(w)))
        elif isinstance(t, Enum):
            out.append(("unknown-enum", u.choose((UNKNOWN, t.names_[0].upper() + "x",
                                                  t.names_[-1] + "-"))))
        elif isinstance(t, Flags):
            out.append(("unknown-flag", set(w) | {u.choose((UNKNOWN, t.labels[0] + "-"))}))
            out.append(("wrong-type", u.choose((frozenset(w), sorted(w), len(w)))))
        elif isinstance(t, _VariantLike) and is_tagged(t):
            out.append(("unknown-tag", WVariant(UNKNOWN, w.payload)))
            empty = [n for n, p in t.cases() if p is None]
            full = [(n, p) for n, p in t.cases() if p is not None]
            if empty:
                out.append(("payload-on-empty-case", WVariant(u.choose(empty), u.choose((0, "x")))))
            if full:
                out.append(("missing-payload", WVariant(u.choose(full)[0], None)))
            out.append(("wrong-type", u.choose(((w.tag, w.payload), w.payload))))
        return out


# -- the misuse test case ---------------------------------------------------------------------

WHERE = ("arg", "ret", "arity")


@dataclass(frozen=True)
class MisuseCase:
    """One misuse of the export `f`: an invalid argument (`where` "arg", `index`), an invalid
    host result ("ret"; for a function without result, any value but None), or a wrong number
    of arguments ("arity"). `call` holds valid values: the rest of the misuse call, and the valid
    call that must still work afterwards."""

    sig: Any  # case.Signature
    call: Any  # case.Call
    where: str
    index: int
    misuse: Misuse | None
    config: Any = None  # model.engine_config.EngineConfig | None: the engine it runs on
    # "c": the C-level twin (`c_misuse`, an engines.capi.invalid.CMisuse) runs instead
    lane: str = "py"
    c_misuse: Any = None
    res: ResourceMisuse | None = None  # a bad resource handle, made at run time

    def describe(self) -> str:
        if self.lane == "c":
            return self.c_misuse.describe()
        if self.res is not None:
            site = (f"argument {self.sig.params[self.index][0]}" if self.where == "arg"
                    else "host function result")
            return (f"{site}: {self.res.kind} at {self.res.at.path}: "
                    f"{self.res.describe()} for type {self.res.at.handle.wit(self.sig.names)}")
        names = self.sig.names
        if self.where == "arity":
            return f"f called with {len(self.sig.params) + 1} arguments instead of " \
                   f"{len(self.sig.params)}"
        m = self.misuse
        site = (f"argument {self.sig.params[self.index][0]}" if self.where == "arg"
                else "host function result")
        wit = m.node.wit(names) if m.node is not None else "nothing (f has no result)"
        return (f"{site}: {m.kind} at {m.path}: {show(m.bad)} for type {wit}\n"
                f"whole value: {show(m.value, 2000)}")


def misuse_head(u: Unstructured) -> tuple:
    """The structure of a misuse input (what its compiled component depends on): the signature
    (single component shape) and the engine configuration. After `MAGIC`, a resource misuse
    input: the signature may use two host resource types."""
    from itfuzz.generators.engine_configs import decode_config
    from itfuzz.generators.signatures import decode_signature
    if u.data[u.front:u.front + len(MAGIC)] != MAGIC:
        return decode_signature(u, shapes=("single",)), decode_config(u)
    u.take(len(MAGIC))
    start = u.front
    for _ in range(RESOURCE_SIG_TRIES):  # a signature whose types hold a handle, if one comes
        sig = decode_signature(u, shapes=("single",), resource_types=2)
        if sig.resources:
            break
    # The compiled-component cache looks components up by this key: never an old input's key.
    sig = replace(sig, key=MAGIC + sig.key[:1] + u.data[start:u.front])
    return sig, decode_config(u)


def decode_misuse(data: bytes) -> MisuseCase:
    """The misuse case these bytes stand for; total and deterministic. Layout: the structure
    (`misuse_head`), site, valid values, then the misuse."""
    from itfuzz.generators.valuegen import ValueGen
    from itfuzz.model.case import VALUE_FUEL, Call

    u = Unstructured(data)
    sig, config = misuse_head(u)
    if data.startswith(MAGIC):
        return _decode_resource_misuse(u, sig, config)
    sites = [("arg", i) for i in range(len(sig.params))] + [("ret", 0)]
    where, index = u.choose(sites) if not u.ratio(1, 16) else ("arity", 0)
    vg = ValueGen(u, fuel=VALUE_FUEL)
    args = tuple(vg.gen(t) for _, t in sig.params)
    ret = (args[0] if sig.echo else vg.gen(sig.result)) if sig.result is not None else None
    call = Call(args, ret)
    misuse = None
    if where == "arg":
        misuse = InvalidGen(u).make(sig.params[index][1], args[index], sig.params[index][0])
    elif where == "ret" and sig.result is not None:
        misuse = InvalidGen(u).make(sig.result, ret, "result")
    elif where == "ret":  # no result type: any value is ill-typed
        bad = u.choose(WRONG_SAMPLES[1:])
        misuse = Misuse(bad, "result", "unexpected-result", None, bad)
    if misuse is None and where != "arity":
        where, index = "arity", 0
    # One input in four: the C-level twin. Read last, so that inputs which ran out of bytes (and
    # the K4-K11 reproducers) stay on wasmtime-py.
    if u.int_in_range(0, 3) == 2:
        from itfuzz.engines.capi.invalid import decode_c_misuse
        c_misuse = decode_c_misuse(u, [t for _, t in sig.params], sig.result, args, ret)
        return MisuseCase(sig, call, where, index, misuse, config, "c", c_misuse)
    return MisuseCase(sig, call, where, index, misuse, config)


def _decode_resource_misuse(u: Unstructured, sig, config) -> MisuseCase:
    """After the structure: valid values, the site (an argument or the host result holding a
    handle; a wrong argument count when none does), the handle and the kind of bad handle."""
    from itfuzz.generators.valuegen import ValueGen
    from itfuzz.model.case import VALUE_FUEL, Call

    vg = ValueGen(u, fuel=VALUE_FUEL)
    args = tuple(vg.gen(t) for _, t in sig.params)
    ret = (args[0] if sig.echo else vg.gen(sig.result)) if sig.result is not None else None
    call = Call(args, ret)
    sites = [("arg", i, t, a, name) for i, ((name, t), a) in enumerate(zip(sig.params, args))]
    borrowed = any(not o.handle.own for s in sites for o in occurrences(*s[2:]))
    if sig.result is not None:
        sites.append(("ret", 0, sig.result, ret, "result"))
    sites = [s for s in sites if occurrences(*s[2:])]
    if not sites:  # no handle in any value (none in the types, or only empty lists)
        return MisuseCase(sig, call, "arity", 0, None, config)
    where, index, t, v, path = u.choose(sites)
    rm = decode_resource_misuse(u, sig, t, v, path, borrowed)
    assert rm is not None
    misuse = Misuse(None, rm.at.path, rm.kind, rm.at.handle, None)
    return MisuseCase(sig, call, where, index, misuse, config, res=rm)
