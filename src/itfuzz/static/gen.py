"""`itfuzz gen-static`: interface types fixed at build time, written out as typed Python.

Draws `count` distinct signatures (types + canonical options) with the ordinary signature
generator (`itfuzz.generators.signatures.decode_signature`) from a seeded PRNG and writes a
package (by default `itfuzz/static/cases/`, git-ignored) of generated code. For every distinct
type, once, in the module of the first case that uses it:

- a typed class where the kind needs one (frozen dataclass per record, `enum.Enum` per enum, a
  dataclass of `bool`s per flags, a tagged-union dataclass per variant) or a type alias (lists
  are `list[...]` or `bytes`, tuples `tuple[...]`, options `Some[T] | None`, results
  `Ok[T] | Err[E]`);
- `arb_N(g)`: straight-line draws of a typed value spending exactly the bytes and fuel
  `generators.valuegen.ValueGen.gen` would (leaf draws are the shared helpers of `valuegen`);
- `tw_N` / `fw_N(x, path)`: to and from wasmtime-py's values, tagged or untagged as
  `engines.wasmtime_values` decides at generation time (`fw_N` raises `ShapeError`);
- `tm_N`: to the value model (`model.values`; structure only), for the strict comparison;
- `M_N`: the type as the type model (`model.types`; reports and checks) and `CONV_N`, the four
  functions.

Resource cases: after the `count` plain cases come `resources` more (default `RESOURCES`),
drawn from their own seed (`seed + 1`) with two host resource types, each using at least one
`own<rN>` / `borrow<rN>`. They are appended, not mixed in, so a plain case keeps its index and
its generated code (old inputs keep their meaning; `static.decode` says how an input picks one).
A handle's typed value is the model's `Res` (its rep); `tw_N` / `fw_N` are the dynamic
oracle's handle converters (`engines.resources` through `engines.wasmtime_values`), which make
the `ResourceHost` / `ResourceAny` of each call and keep the books the resource checks read.

Guest-resource cases: after those come `guest` more (default `GUEST`, seed `seed + 2`), single
shape, each holding `own<gr>` / `borrow<gr>` of the component's own resource (with r0/r1 at
times). Their `gr` handles convert with the dynamic oracle's `engines.guest_handles` (made by
`gr-new`, read by `gr-rep`); `g` sees `Signature.g_type` (a `u32` rep per `gr` handle), whose
generated conversions are the case's `g_params` (what `g` receives). What `g` returns is `f`'s
typed result taken to the model and through the dynamic oracle's `g_result_in` (the reps).

Modules `_sNNN.py` hold ten cases each (`CASES`, `StaticCase`s) and the types they introduce,
importing older types from earlier modules, so a case loads only what it needs. `_wat.zlib`
holds every case's component text; `__init__.py` the seed, the count, a hash of the generator's
sources (`GENERATOR`) and the lazy table `CASES`.

The output depends only on (seed, count, generator sources): regenerating is byte-identical.
`ensure()` regenerates the default package when it is missing or stale (first use of the
static target, editable installs); `setup.py` runs it at build time.
"""
from __future__ import annotations

import hashlib
import keyword
import os
import random
import re
import shutil
import textwrap
import zlib
from dataclasses import fields, replace
from pathlib import Path

from itfuzz.engines.wasmtime_values import (
    ResourceAny,
    ResourceHost,
    WRecord,
    WVariant,
    is_tagged,
    py_classes,
)
from itfuzz.generators.components import component_text
from itfuzz.generators.signatures import decode_signature
from itfuzz.generators.unstructured import Unstructured
from itfuzz.model.case import Signature
from itfuzz.model.resources import AnyHandle, Handle
from itfuzz.model.types import Enum, Flags, List, Option, Prim, Record, Result, Tuple, Type, Variant

SEED = 20261121  # the committed seed: one source tree always yields the same cases
COUNT = 1000
RESOURCES = 128  # resource cases after the plain ones (about as dense per case as those)
RESOURCE_TYPES = 2  # host resource types r0, r1 a resource case may use
GUEST = 64  # cases with the guest's `gr` after the resource ones (as dense per case, see decode)
SIG_LENGTHS = (16, 48, 128, 256)  # input bytes per drawn signature
FAULTS = ("drop-field", "enum-shift", "handle-swap")  # injectable converter bugs, for the oracle's tests
HERE = Path(__file__).resolve().parent
PKG_ROOT = HERE.parent  # src/itfuzz
PACKAGE_DIR = HERE / "cases"
PACKAGE = "itfuzz.static.cases"
# The sources whose change can change the generated text (or its meaning), relative to itfuzz/.
HASHED = ("static/gen.py", "generators/unstructured.py", "model/types.py", "generators/typegen.py",
          "model/case.py", "generators/signatures.py", "generators/valuegen.py",
          "generators/components.py", "engines/wasmtime_values.py", "model/resources.py",
          "generators/resource_code.py")
PRIM_ANN = {"bool": "bool", "f32": "float", "f64": "float", "char": "str", "string": "str"}
CLASS_NAMES = {bool: "bool", int: "int", float: "float", str: "str", bytes: "bytes",
               list: "list", tuple: "tuple", set: "set", object: "object",
               WRecord: "WRecord", WVariant: "WVariant", ResourceAny: "ResourceAny",
               ResourceHost: "ResourceHost"}


def generator_hash() -> str:
    h = hashlib.sha256()
    for name in HASHED:
        h.update(name.encode() + b"\0" + (PKG_ROOT / name).read_bytes() + b"\0")
    return h.hexdigest()[:32]


def draw_signatures(seed: int, count: int, resource_types: int = 0,
                    guest: bool = False) -> list[Signature]:
    """`count` distinct signatures decoded from seeded random bytes, in drawing order; with
    `resource_types`, only signatures that use at least one of that many host resources; with
    `guest`, only single-shape ones that hold the guest's `gr` (and may use the host's)."""
    rng = random.Random(seed)
    seen: set[Signature] = set()
    out: list[Signature] = []
    for _ in range(count * 100):
        if len(out) == count:
            break
        data = rng.randbytes(rng.choice(SIG_LENGTHS))
        if guest:
            sig = decode_signature(Unstructured(data), ("single",),
                                   resource_types=resource_types, guest=True)
        else:
            sig = decode_signature(Unstructured(data), resource_types=resource_types)
        sig = replace(sig, key=b"")
        if (not sig.guest) if guest else (resource_types and not sig.resources):
            continue
        if sig not in seen:
            seen.add(sig)
            out.append(sig)
    else:
        raise RuntimeError(f"only {len(out)} distinct signatures in {count * 100} draws")
    return out


def pyname(label: str, taken: set[str]) -> str:
    """A Python identifier for a label (`a-1` → `a_1`), unique among `taken`."""
    name = label.replace("-", "_")
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        name = "l_" + name
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def tup(items: list[str]) -> str:
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def classes(t: Type) -> str:
    """The classes wasmtime-py's untagged dispatch tests a payload of type `t` against."""
    return tup(sorted(CLASS_NAMES[c] for c in py_classes(t)))


class Emitter:
    """Emits the shared code of every type, inner types first, each type once."""

    def __init__(self, fault: str = "") -> None:
        if fault and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; faults: {', '.join(FAULTS)}")
        self.fault = fault
        self.ids: dict[Type, int] = {}
        self.home: dict[int, int] = {}  # type id → the shard that defines it
        self.shard = 0  # the shard being written
        self.chunks: dict[int, list[str]] = {}
        self.imports: dict[int, dict[int, set[str]]] = {}  # shard → {earlier shard → names}

    # -- expressions -------------------------------------------------------------------------
    def ref(self, t: Type) -> int:
        """The id of a compound type, emitting it (into the current shard) the first time."""
        if t not in self.ids:
            for c in t.children():
                if not isinstance(c, Prim):
                    self.ref(c)
            k = self.ids[t] = len(self.ids)
            self.home[k] = self.shard
            self.chunks.setdefault(self.shard, []).append(self.emit(t, k))
        return self.ids[t]

    def name(self, prefix: str, t: Type) -> str:
        """`prefix_N` of compound type N, imported from the shard that defines it if need be."""
        k = self.ref(t)
        if self.home[k] != self.shard:
            self.imports.setdefault(self.shard, {}).setdefault(self.home[k], set()).add(
                f"{prefix}_{k}")
        return f"{prefix}_{k}"

    def ann(self, t: Type | None) -> str:
        if t is None:
            return "None"
        if isinstance(t, Prim):
            return PRIM_ANN.get(t.name, "int")
        if isinstance(t, List) and t.elem.kind == "u8":
            return "bytes"
        return self.name(type(t).__name__, t)  # a class, or an alias of list/tuple/option/result

    def arb(self, t: Type) -> str:
        return f"arb_{t.name}(g)" if isinstance(t, Prim) else f"{self.name('arb', t)}(g)"

    def tw(self, t: Type | None, e: str) -> str:
        return e if t is None or tw_same(t) else f"{self.name('tw', t)}({e})"

    def fw(self, t: Type | None, e: str, p: str) -> str:
        return e if t is None or isinstance(t, Prim) else f"{self.name('fw', t)}({e}, {p})"

    def tm(self, t: Type | None, e: str) -> str:
        return e if t is None or tm_same(t) else f"{self.name('tm', t)}({e})"

    def model(self, t: Type | None) -> str:
        if t is None:
            return "None"
        return f"P[{t.name!r}]" if isinstance(t, Prim) else self.name("M", t)

    def conv(self, t: Type) -> str:
        return f"PC[{t.name!r}]" if isinstance(t, Prim) else self.name("CONV", t)

    # -- one type ----------------------------------------------------------------------------
    def emit(self, t: Type, k: int) -> str:
        if isinstance(t, AnyHandle):
            return self.handle_code(t, k)
        a = self.ann(t)
        alias = ""
        if isinstance(t, List) and a != "bytes":
            alias = f"list[{self.ann(t.elem)}]"
        elif isinstance(t, Tuple):
            alias = f"tuple[{', '.join(self.ann(e) for e in t.elems)}]"
        elif isinstance(t, Option):
            alias = f"Some[{self.ann(t.elem)}] | None"
        elif isinstance(t, Result):
            alias = f"Ok[{self.ann(t.ok)}] | Err[{self.ann(t.err)}]"
        alias = f"{a}: TypeAlias = {alias}\n\n\n" if alias else ""
        if isinstance(t, List):
            body = self.list_code(t, k, a)
            model = f"m.List({self.model(t.elem)})"
        elif isinstance(t, Tuple):
            body = self.tuple_code(t, k, a)
            model = f"m.Tuple({tup([self.model(e) for e in t.elems])})"
        elif isinstance(t, Record):
            body = self.record_code(t, k, a)
            model = "m.Record(" + tup([f"({n!r}, {self.model(ft)})" for n, ft in t.fields]) + ")"
        elif isinstance(t, Enum):
            body = self.enum_code(t, k, a)
            model = f"m.Enum({tup([repr(n) for n in t.names_])})"
        elif isinstance(t, Flags):
            body = self.flags_code(t, k, a)
            model = f"m.Flags({tup([repr(n) for n in t.labels])})"
        elif isinstance(t, Variant):
            body = self.variant_code(t, k, a)
            model = "m.Variant(" + tup([f"({n!r}, {self.model(p)})" for n, p in t.cases()]) + ")"
        elif isinstance(t, Option):
            body = self.option_result_code(t, k, a)
            model = f"m.Option({self.model(t.elem)})"
        else:
            body = self.option_result_code(t, k, a)
            model = f"m.Result({self.model(t.ok)}, {self.model(t.err)})"
        tw = "same" if tw_same(t) else f"tw_{k}"
        tm = "same" if tm_same(t) else f"tm_{k}"
        comment = "" if t.named else f"# {t.wit(_ClassNames(self))}\n"
        return (comment + alias + body +
                f"\n\nM_{k} = {model}\nCONV_{k} = Conv(arb_{k}, {tw}, fw_{k}, {tm})\n")

    def handle_code(self, t: AnyHandle, k: int) -> str:
        """`own<rN>` / `borrow<rN>` / `own<gr>` / `borrow<gr>`: the typed value is the rep (`Res`,
        also the model value); the conversions are the dynamic oracle's
        (`static.runtime.handle_to` / `handle_from`).
        Fault "handle-swap": `tw_N` sends the handle of another rep (`rep ^ 1`)."""
        model = f"H({t.resource}, {t.own})" if isinstance(t, Handle) else f"GH({t.own})"
        tw = f"tw_{k} = handle_to(M_{k})\n"
        if self.fault == "handle-swap":
            tw = (f"_tw_{k} = handle_to(M_{k})\n\n\ndef tw_{k}(v: Res) -> Any:\n"
                  f"    return _tw_{k}(Res(v.rep ^ 1))\n")
        return (f"# {t.wit(_ClassNames(self))}\n{type(t).__name__}_{k}: TypeAlias = Res\n"
                f"M_{k} = {model}\narb_{k} = arb_handle\n"
                f"{tw}\n\ndef fw_{k}(x: Any, p: str) -> Res:\n"
                f"    return handle_from(M_{k}, p)(x)\n\n\n"
                f"CONV_{k} = Conv(arb_handle, tw_{k}, fw_{k}, same)\n")

    def list_code(self, t: List, k: int, a: str) -> str:
        e = t.elem
        u8 = e.kind == "u8"
        draw = f"[{self.arb(e)} for _ in range(n)]"
        out = [f"def arb_{k}(g: ValueGen) -> {a}:",
               "    g.fuel -= 1",
               f"    n = g.list_len({e.size})",
               f"    return {f'bytes({draw})' if u8 else draw}"]
        if not tw_same(t):
            out += ["", "", f"def tw_{k}(v: {a}) -> list:",
                    f"    return [{self.tw(e, 'e')} for e in v]"]
        out += ["", "", f"def fw_{k}(x: Any, p: str) -> {a}:",
                f"    if type(x) is not {'bytes' if u8 else 'list'}:",
                f"        raise wrong_class(x, {'bytes' if u8 else 'list'}, p)"]
        if u8 or isinstance(e, Prim):
            out.append("    return x")
        else:
            out += ['    q = p + "[]"', f"    return [{self.fw(e, 'e', 'q')} for e in x]"]
        if u8:
            out += ["", "", f"def tm_{k}(v: {a}) -> list:", "    return list(v)"]
        elif not tm_same(t):
            out += ["", "", f"def tm_{k}(v: {a}) -> list:",
                    f"    return [{self.tm(e, 'e')} for e in v]"]
        return "\n".join(out)

    def tuple_code(self, t: Tuple, k: int, a: str) -> str:
        es = t.elems
        out = [f"def arb_{k}(g: ValueGen) -> {a}:", "    g.fuel -= 1",
               f"    return {tup([self.arb(e) for e in es])}"]
        if not tw_same(t):
            out += ["", "", f"def tw_{k}(v: {a}) -> tuple:",
                    f"    return {tup([self.tw(e, f'v[{i}]') for i, e in enumerate(es)])}"]
        out += ["", "", f"def fw_{k}(x: Any, p: str) -> {a}:",
                "    if type(x) is not tuple:", "        raise wrong_class(x, tuple, p)",
                f"    if len(x) != {len(es)}:", f"        raise wrong_length(x, {len(es)}, p)",
                "    return " + tup([self.fw(e, f"x[{i}]", f'p + ".{i}"')
                                     for i, e in enumerate(es)])]
        if not tm_same(t):
            out += ["", "", f"def tm_{k}(v: {a}) -> tuple:",
                    f"    return {tup([self.tm(e, f'v[{i}]') for i, e in enumerate(es)])}"]
        return "\n".join(out)

    def record_code(self, t: Record, k: int, a: str) -> str:
        taken: set[str] = set()
        fs = [(n, pyname(n, taken), ft) for n, ft in t.fields]
        out = ["@dataclass(frozen=True)", f"class {a}:", f'    """A record of {len(fs)} fields."""']
        out += [f"    {py}: {self.ann(ft)}" for _, py, ft in fs]
        out += ["", "", f"def arb_{k}(g: ValueGen) -> {a}:", "    g.fuel -= 1",
                f"    return {a}({', '.join(self.arb(ft) for _, _, ft in fs)})"]
        out += ["", "", f"def tw_{k}(v: {a}) -> WRecord:", "    r = WRecord()"]
        kept = fs[:-1] if self.fault == "drop-field" else fs
        for n, py, ft in kept:
            value = self.tw(ft, f"v.{py}")
            out.append(f"    r.{n} = {value}" if n.isidentifier() and not keyword.iskeyword(n)
                       else f"    setattr(r, {n!r}, {value})")
        out += ["    return r", "", "",
                f"_FIELDS_{k} = frozenset({tup([repr(n) for n, _, _ in fs])})", "", "",
                f"def fw_{k}(x: Any, p: str) -> {a}:",
                "    if type(x) is not WRecord:", "        raise wrong_class(x, WRecord, p)",
                "    d = vars(x)", f"    if d.keys() != _FIELDS_{k}:",
                f"        raise wrong_fields(d, _FIELDS_{k}, p)",
                f"    return {a}(" + ", ".join(self.fw(ft, f"d[{n!r}]", f"p + {'.' + n!r}")
                                           for n, _, ft in fs) + ")",
                "", "", f"def tm_{k}(v: {a}) -> tuple:",
                f"    return {tup([self.tm(ft, f'v.{py}') for _, py, ft in fs])}"]
        return "\n".join(out)

    def enum_code(self, t: Enum, k: int, a: str) -> str:
        taken: set[str] = set()
        out = [f"class {a}(enum.Enum):"]
        out += [f"    {pyname(n, taken)} = {n!r}" for n in t.names_]
        n = len(t.names_)
        wire = "v.value"
        if self.fault == "enum-shift" and n > 1:
            wire = f"_MEMBERS_{k}[(_MEMBERS_{k}.index(v) + 1) % {n}].value"
        out += ["", "", f"_MEMBERS_{k} = tuple({a})", "", "",
                f"def arb_{k}(g: ValueGen) -> {a}:", "    g.fuel -= 1",
                f"    return _MEMBERS_{k}[g.case_index({n})]", "", "",
                f"def tw_{k}(v: {a}) -> str:", f"    return {wire}", "", "",
                f"def fw_{k}(x: Any, p: str) -> {a}:",
                "    if type(x) is not str:", "        raise wrong_class(x, str, p)",
                "    try:", f"        return {a}(x)", "    except ValueError:",
                "        raise unknown_case(x, p) from None", "", "",
                f"def tm_{k}(v: {a}) -> str:", "    return v.value"]
        return "\n".join(out)

    def flags_code(self, t: Flags, k: int, a: str) -> str:
        taken: set[str] = set()
        fs = [(n, pyname(n, taken)) for n in t.labels]
        out = ["@dataclass(frozen=True, repr=False)", f"class {a}(FlagsBase):",
               f'    """Flags: {len(fs)} labels, one bool each."""']
        out += [f"    {py}: bool = False" for _, py in fs]
        out += ["", "", f"_LABELS_{k} = {tup([repr(n) for n, _ in fs])}",
                f"_LABEL_SET_{k} = frozenset(_LABELS_{k})", "", "",
                f"def arb_{k}(g: ValueGen) -> {a}:", "    g.fuel -= 1",
                f"    m = flag_mask(g.u, {len(fs)})",
                f"    return {a}(" + ", ".join(f"(m & {1 << i:#x}) != 0" for i in range(len(fs)))
                + ")", "", "", f"def tw_{k}(v: {a}) -> set:", "    s = set()"]
        for n, py in fs:
            out += [f"    if v.{py}:", f"        s.add({n!r})"]
        out += ["    return s", "", "", f"def fw_{k}(x: Any, p: str) -> {a}:",
                "    if type(x) is not set:", "        raise wrong_class(x, set, p)",
                f"    if not x <= _LABEL_SET_{k}:",
                f"        raise unknown_flags(x, _LABEL_SET_{k}, p)",
                f"    return {a}(" + ", ".join(f"{n!r} in x" for n, _ in fs) + ")", "", "",
                f"def tm_{k}(v: {a}) -> frozenset:",
                f"    on = ({', '.join(f'v.{py}' for _, py in fs)},)",
                f"    return frozenset(n for n, b in zip(_LABELS_{k}, on) if b)"]
        return "\n".join(out)

    def variant_code(self, t: Variant, k: int, a: str) -> str:
        """A tagged-union dataclass; cases with the same payload type share one branch."""
        cases = t.cases()
        n_cases = len(cases)
        tagged = is_tagged(t)
        groups: dict[Type, list[int]] = {}
        for i, (_, p) in enumerate(cases):
            if p is not None:
                groups.setdefault(p, []).append(i)
        empty = [i for i, (_, p) in enumerate(cases) if p is None]
        consts: list[str] = []

        def tag_set(idx: list[int], j) -> str:
            if len(idx) == 1:
                return f"t == {cases[idx[0]][0]!r}"
            consts.append(f"_CASES_{k}_{j} = frozenset({tup([repr(cases[i][0]) for i in idx])})")
            return f"t in _CASES_{k}_{j}"

        def index_set(idx: list[int], j) -> str:
            if len(idx) == 1:
                return f"i == {idx[0]}"
            if idx == list(range(idx[0], idx[-1] + 1)):
                return f"{idx[0]} <= i <= {idx[-1]}"
            consts.append(f"_INDICES_{k}_{j} = frozenset({tup([str(i) for i in idx])})")
            return f"i in _INDICES_{k}_{j}"

        def tag(idx: list[int], var: str) -> str:  # the tag expression inside a branch
            return repr(cases[idx[0]][0]) if len(idx) == 1 else var

        payload_anns = list(dict.fromkeys(self.ann(p) for p in groups)) + ["None"]
        tag_ann = (f"Literal[{', '.join(repr(n) for n, _ in cases)}]" if n_cases <= 16
                   else f"str  # one of _TAGS_{k}")
        head = ["@dataclass(frozen=True)", f"class {a}:",
                f'    """A variant of {n_cases} cases: the case\'s tag and its payload."""',
                f"    tag: {tag_ann}",
                f"    payload: {' | '.join(payload_anns)} = None", "", "",
                f"_TAGS_{k} = {tup([repr(n) for n, _ in cases])}"]

        # arbitrary: the same draws as ValueGen.gen
        body = ["", "", f"def arb_{k}(g: ValueGen) -> {a}:", "    g.fuel -= 1",
                f"    i = g.case_index({n_cases})"]
        items = list(groups.items())
        for j, (p, idx) in enumerate(items):
            ret = f"return {a}({tag(idx, f'_TAGS_{k}[i]')}, {self.arb(p)})"
            if j == len(items) - 1 and not empty:
                body.append(f"    {ret}")
            else:
                body += [f"    if {index_set(idx, j)}:", f"        {ret}"]
        if empty:
            body.append(f"    return {a}(_TAGS_{k}[i])")

        # to wasmtime-py: Variant(tag, payload) when tagged, else the bare payload
        body += ["", "", f"def tw_{k}(v: {a}) -> Any:", "    t = v.tag"]
        for j, (p, idx) in enumerate(items):
            if not tw_same(p):
                pe = self.tw(p, "v.payload")
                body += [f"    if {tag_set(idx, j)}:",
                         f"        return {f'WVariant(t, {pe})' if tagged else pe}"]
        body.append(f"    return {'WVariant(t, v.payload)' if tagged else 'v.payload'}")

        # from wasmtime-py
        body += ["", "", f"def fw_{k}(x: Any, p: str) -> {a}:"]
        if tagged:
            body += ["    if type(x) is not WVariant:", "        raise wrong_class(x, WVariant, p)",
                     "    t = x.tag"]
            for j, (p, idx) in enumerate(items):
                path = ("p + " + repr(f"<{cases[idx[0]][0]}>") if len(idx) == 1
                        else 'f"{p}<{t}>"')
                body += [f"    if {tag_set(idx, j)}:",
                         f"        return {a}(t, {self.fw(p, 'x.payload', path)})"]
            if empty:
                body += [f"    if {tag_set(empty, 'empty')}:",
                         "        if x.payload is not None:",
                         "            raise payload_on_empty_case(x.payload, p)",
                         f"        return {a}(t)"]
            body.append("    raise unknown_case(t, p)")
        else:  # untagged: the first case whose classes fit, in case order
            for n, p in cases:
                if p is None:
                    body += ["    if x is None:", f"        return {a}({n!r})"]
                else:
                    path = "p + " + repr(f"<{n}>")
                    body += [f"    if isinstance(x, {classes(p)}):",
                             f"        return {a}({n!r}, {self.fw(p, 'x', path)})"]
            body.append("    raise no_case(x, p)")

        # to the model: (case name, payload)
        body += ["", "", f"def tm_{k}(v: {a}) -> tuple:", "    t = v.tag"]
        for j, (p, idx) in enumerate(items):
            if not tm_same(p):
                body += [f"    if {tag_set(idx, j)}:",
                         f"        return (t, {self.tm(p, 'v.payload')})"]
        body.append("    return (t, v.payload)")
        consts = list(dict.fromkeys(consts))
        return "\n".join(head + ([""] if consts else []) + consts + body)

    def option_result_code(self, t, k: int, a: str) -> str:
        """option → `Some(x) | None`, result → `Ok(x) | Err(e)` (value None without payload)."""
        (n0, p0), (n1, p1) = t.cases()
        tagged = is_tagged(t)
        ctor = {"none": None, "some": "Some", "ok": "Ok", "err": "Err"}

        def make(name: str, pe: str | None) -> str:
            if ctor[name] is None:
                return "None"
            return f"{ctor[name]}({pe})" if pe is not None else f"{ctor[name]}()"

        first = "v is None" if isinstance(t, Option) else "type(v) is Ok"

        def wire(name: str, p: Type | None) -> str:
            pe = self.tw(p, "v.value") if p is not None else "None"
            return f"WVariant({name!r}, {pe})" if tagged else pe

        def model(p: Type | None) -> str:
            return self.tm(p, "v.value") if p is not None else "None"

        def sub(n: str) -> str:
            return "p + " + repr(f"<{n}>")

        out = [f"def arb_{k}(g: ValueGen) -> {a}:", "    g.fuel -= 1",
               "    if g.case_index(2) == 0:",
               f"        return {make(n0, self.arb(p0) if p0 else None)}",
               f"    return {make(n1, self.arb(p1) if p1 else None)}", "", "",
               f"def tw_{k}(v: {a}) -> Any:", f"    if {first}:", f"        return {wire(n0, p0)}",
               f"    return {wire(n1, p1)}", "", "", f"def fw_{k}(x: Any, p: str) -> {a}:"]
        if tagged:
            out += ["    if type(x) is not WVariant:", "        raise wrong_class(x, WVariant, p)",
                    "    t = x.tag"]
            for n, p in ((n0, p0), (n1, p1)):
                out.append(f"    if t == {n!r}:")
                if p is None:
                    out += ["        if x.payload is not None:",
                            "            raise payload_on_empty_case(x.payload, p)",
                            f"        return {make(n, None)}"]
                else:
                    out.append(f"        return {make(n, self.fw(p, 'x.payload', sub(n)))}")
            out.append("    raise unknown_case(t, p)")
        else:  # untagged: the first case whose classes fit, in case order
            for n, p in ((n0, p0), (n1, p1)):
                if p is None:
                    out += ["    if x is None:", f"        return {make(n, None)}"]
                else:
                    out += [f"    if isinstance(x, {classes(p)}):",
                            f"        return {make(n, self.fw(p, 'x', sub(n)))}"]
            out.append("    raise no_case(x, p)")
        out += ["", "", f"def tm_{k}(v: {a}) -> tuple:", f"    if {first}:",
                f"        return ({n0!r}, {model(p0)})", f"    return ({n1!r}, {model(p1)})"]
        return "\n".join(out)


class _ClassNames:
    """`types.Names` stand-in for WIT comments: named types by their generated class."""

    def __init__(self, em: Emitter) -> None:
        self.em = em

    def ref(self, t: Type) -> str:
        return f"{type(t).__name__}_{self.em.ids[t]}"


def tw_same(t: Type) -> bool:
    """The typed value already is wasmtime-py's value."""
    if isinstance(t, Prim):
        return True
    if isinstance(t, List):
        return t.elem.kind == "u8" or tw_same(t.elem)
    if isinstance(t, Tuple):
        return all(tw_same(e) for e in t.elems)
    return False


def tm_same(t: Type) -> bool:
    """The typed value already is the model value."""
    if isinstance(t, (Prim, AnyHandle)):
        return True
    if isinstance(t, List):
        return t.elem.kind != "u8" and tm_same(t.elem)
    if isinstance(t, Tuple):
        return all(tm_same(e) for e in t.elems)
    return False


HEADER = '"""Generated by `itfuzz gen-static` (itfuzz/static/gen.py): {what}. Do not edit."""\n'
SHARD = 10  # cases per module: a case loads only its shard and the shards it imports from
SHARD_IMPORTS = """# ruff: noqa
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from wasmtime.component import Record as WRecord
from wasmtime.component import ResourceAny, ResourceHost
from wasmtime.component import Variant as WVariant

from itfuzz.model import types as m
from itfuzz.model.case import Signature as S
from itfuzz.model.resources import GuestHandle as GH
from itfuzz.model.resources import Handle as H
from itfuzz.model.resources import Res
from itfuzz.static.runtime import PRIM_CONV as PC
from itfuzz.static.runtime import StaticCase as C
from itfuzz.static.runtime import (
    Conv, Err, FlagsBase, Ok, Some, no_case, payload_on_empty_case, same, same_from,
    unknown_case, unknown_flags, wrong_class, wrong_fields, wrong_length, arb_bool, arb_s8,
    arb_u8, arb_s16, arb_u16, arb_s32, arb_u32, arb_s64, arb_u64, arb_f32, arb_f64, arb_char,
    arb_string, arb_handle, handle_from, handle_to)
from itfuzz.generators.valuegen import ValueGen, flag_mask

from . import CASES as _TABLE

P = m.PRIMS
"""


def render(sigs: list[Signature], seed: int, fault: str = "",
           plain: int | None = None, guest: int = 0) -> dict[str, bytes]:
    """The generated package's files (name → content) for these signatures, of which the first
    `plain` (default: all) are plain cases, the last `guest` guest-resource cases and the rest
    resource cases."""
    plain = len(sigs) if plain is None else plain
    em = Emitter(fault)
    table: dict[int, list[str]] = {}
    for i, sig in enumerate(sigs):
        em.shard = i // SHARD
        params = tup([f"({n!r}, {em.model(t)})" for n, t in sig.params])
        result = em.model(sig.result)
        convs = tup([em.conv(t) for _, t in sig.params])
        rconv = em.conv(sig.result) if sig.result is not None else "None"
        received = ""  # what `g` receives when it differs: `gr` handles as u32 reps
        if sig.guest:
            received = f",\n      g_params={tup([em.conv(sig.g_type(t)) for _, t in sig.params])}"
        extra = "".join(f", {f.name}={getattr(sig, f.name)!r}" for f in fields(Signature)
                        if f.name not in ("params", "result", "encoding", "key")
                        and getattr(sig, f.name) != f.default)
        table.setdefault(em.shard, []).append(
            f"    C({i}, S({params}, {result}, {sig.encoding!r}{extra}),\n"
            f"      {convs}, {rconv}, _TABLE.wat({i}){received}),")
    files: dict[str, bytes] = {}
    for shard, entries in table.items():
        imports = "".join(
            f"from ._s{home:03d} import (\n" +
            textwrap.fill(", ".join(sorted(names)), 96, initial_indent="    ",
                          subsequent_indent="    ") + ")\n"
            for home, names in sorted(em.imports.get(shard, {}).items()))
        lo, hi = shard * SHARD, shard * SHARD + len(entries) - 1
        text = (HEADER.format(what=f"cases {lo}-{hi} and the types they introduce") +
                SHARD_IMPORTS + imports + "\n\n" + "\n\n".join(em.chunks.get(shard, [])) +
                "\n\nCASES: tuple[C, ...] = (\n" + "\n".join(entries) + "\n)\n")
        files[f"_s{shard:03d}.py"] = text.encode()
    files["_wat.zlib"] = zlib.compress("\0".join(component_text(s) for s in sigs).encode(), 9)
    files["__init__.py"] = (
        HEADER.format(what=f"{len(sigs)} interface-type test cases fixed at build time") +
        "from itfuzz.static.runtime import CaseTable\n\n"
        f"SEED = {seed}\nCOUNT = {plain}\nRESOURCES = {len(sigs) - plain - guest}\n"
        f"GUEST = {guest}\n"
        f"GENERATOR = {generator_hash()!r}\nFAULT = {fault!r}\nSHARD = {SHARD}\n"
        "# CASES[i]: a StaticCase, loaded on use; COUNT plain cases, then RESOURCES with host\n"
        "# handles, then GUEST with the guest's gr\n"
        "CASES = CaseTable(__name__, COUNT + RESOURCES + GUEST, SHARD, plain=COUNT,\n"
        "                  resources=RESOURCES)\n"
    ).encode()
    return dict(sorted(files.items()))


def write(out: Path, seed: int = SEED, count: int = COUNT, fault: str = "",
          resources: int = RESOURCES, guest: int = GUEST) -> dict[str, int]:
    """Generate the package into directory `out` (replaced atomically): `count` plain cases,
    then `resources` resource cases, then `guest` guest-resource cases; returns file sizes."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or (recorded(out) is None and any(out.iterdir()))):
        raise FileExistsError(f"{out} exists and is not a generated package; not replacing it")
    sigs = draw_signatures(seed, count)
    if resources:
        sigs += draw_signatures(seed + 1, resources, RESOURCE_TYPES)
    if guest:
        sigs += draw_signatures(seed + 2, guest, RESOURCE_TYPES, guest=True)
    files = render(sigs, seed, fault, count, guest)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for name, content in files.items():
        (tmp / name).write_bytes(content)
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except OSError:  # another process put it there first: theirs is identical
        shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    return {name: len(content) for name, content in files.items()}


def recorded(out: Path) -> tuple[int, int, str, str, int, int] | None:
    """(seed, count, generator hash, fault, resources, guest) recorded in a generated package,
    or None (a package from before resource / guest cases records no `RESOURCES` / `GUEST`: 0)."""
    try:
        text = (Path(out) / "__init__.py").read_text(encoding="utf-8")
    except OSError:
        return None
    fields = dict(re.findall(r"^(SEED|COUNT|GENERATOR|FAULT|RESOURCES|GUEST) = (.+)$", text,
                             re.M))
    try:
        return (int(fields["SEED"]), int(fields["COUNT"]), fields["GENERATOR"].strip("'"),
                fields["FAULT"].strip("'"), int(fields.get("RESOURCES", "0")),
                int(fields.get("GUEST", "0")))
    except (KeyError, ValueError):
        return None


def is_fresh(out: Path = PACKAGE_DIR) -> bool:
    """True when the package in `out` is the committed-seed one of this source tree."""
    return (recorded(out) == (SEED, COUNT, generator_hash(), "", RESOURCES, GUEST)
            and (Path(out) / "_wat.zlib").exists())


class StaleCases(SystemExit):
    """The generated static cases are missing or were made by another source tree."""


def require_fresh() -> None:
    """Raise `StaleCases` with what to run unless the generated package is current (an oracle
    never writes source files; generation is `setup.py`'s or `itfuzz gen-static`'s)."""
    if not is_fresh():
        state = "missing" if recorded(PACKAGE_DIR) is None else "stale (the generator changed)"
        raise StaleCases(f"itfuzz: the component_static cases in {PACKAGE_DIR} are {state}; "
                         f"run `itfuzz gen-static` (or reinstall: `pip install -e .`)")


def ensure(out: Path = PACKAGE_DIR) -> bool:
    """Regenerate the committed-seed package when missing or stale; True if it was written."""
    if is_fresh(out):
        return False
    try:
        write(out)
    except OSError as e:
        raise SystemExit(f"itfuzz: cannot generate the static cases in {out}: {e}; run "
                         f"`itfuzz gen-static --out DIR` where you can write") from None
    import importlib
    importlib.invalidate_caches()
    return True
