"""Type reflection: the function type Wasmtime reports at run time against the generated one.

`wasmtime.component.Func.type(store)` gives a `FuncType` (`.params` as [(name, ValType)],
`.result`); records, variants, enums, flags, lists, tuples, options and results expose their
parts (`fields`, `cases`, `names`, `element`, `elements`, `payload`, `ok`/`err`), primitives are
known by class. `mismatch` walks both trees in step and names the first difference exactly
(parameter names and order, field and case names, element types, case payloads, flag and enum
labels), value-free, so it can be a finding signature.
"""
from __future__ import annotations

from typing import Any

from wasmtime.component import ResourceType

from itfuzz.engines.resources import TYPE_BASE
from itfuzz.model.resources import GuestHandle, Handle
from itfuzz.model.types import (
    Enum,
    Flags,
    List,
    Map,
    Option,
    Prim,
    Record,
    Result,
    Tuple,
    Type,
    Variant,
)

HOST_TYPES = 2  # host resource types a signature may use (`generators.signatures`)
# wasmtime-py's class name of each kind (primitives are bare dataclasses, e.g. `U64()`).
CLASS_KIND = {"Bool": "bool", "S8": "s8", "S16": "s16", "S32": "s32", "S64": "s64", "U8": "u8",
              "U16": "u16", "U32": "u32", "U64": "u64", "F32": "f32", "F64": "f64",
              "Char": "char", "String": "string", "ListType": "list", "RecordType": "record",
              "TupleType": "tuple", "VariantType": "variant", "EnumType": "enum",
              "OptionType": "option", "ResultType": "result", "FlagsType": "flags",
              "MapType": "map",  # no release has MapType yet (K22); expected `.key`, `.value`
              "OwnType": "own", "BorrowType": "borrow"}


class Mismatch:
    """Where the reflected type first differs (`path`), and a value-free `detail`."""

    def __init__(self, path: str, detail: str, message: str) -> None:
        self.path = path
        self.detail = detail
        self.message = message

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def reflected_kind(vt: Any) -> str:
    return CLASS_KIND.get(type(vt).__name__, type(vt).__name__)


def mismatch(sig, fty: Any) -> Mismatch | None:
    """The first difference between `fty` (a reflected `FuncType`) and `sig`, or None."""
    got = list(fty.params)
    want = [(n, sig.host_type(t)) for n, t in sig.params]  # what the host-facing `f` takes
    if [n for n, _ in got] != [n for n, _ in want]:
        return Mismatch("params", "func:param-names",
                        f"parameters {[n for n, _ in got]} != {[n for n, _ in want]}")
    for (name, t), (_, vt) in zip(want, got):
        m = type_mismatch(t, vt, f"param {name}")
        if m:
            return m
    res = fty.result
    if (res is None) != (sig.result is None):
        return Mismatch("result", "func:result-presence",
                        f"result {'absent' if res is None else reflected_kind(res)}, "
                        f"expected {'none' if sig.result is None else sig.result.kind}")
    return type_mismatch(sig.host_type(sig.result), res, "result") if res is not None else None


def type_mismatch(t: Type, vt: Any, path: str) -> Mismatch | None:
    """The first difference between the model type `t` and the reflected `vt`, or None."""
    k = reflected_kind(vt)
    if k != t.kind:
        return Mismatch(path, f"kind:{t.kind}->{k}", f"kind {k}, expected {t.kind}")
    if isinstance(t, Prim):
        return None
    if isinstance(t, Handle):  # the resource type: the host's `rN`
        if vt.ty != ResourceType.host(TYPE_BASE + t.resource):
            return Mismatch(path, f"{t.kind}:resource-type", f"another resource than {t.name}")
        return None
    if isinstance(t, GuestHandle):  # the component's own `gr`: none of the host's types
        if any(vt.ty == ResourceType.host(TYPE_BASE + i) for i in range(HOST_TYPES)):
            return Mismatch(path, f"{t.kind}:resource-type", "a host resource, expected gr")
        return None
    if isinstance(t, List):
        return type_mismatch(t.elem, vt.element, path + "[]")
    if isinstance(t, Map):
        return (type_mismatch(t.key, vt.key, path + "<key>")
                or type_mismatch(t.value, vt.value, path + "<value>"))
    if isinstance(t, Record):
        return _named_parts("record:field", t.fields, vt.fields, path)
    if isinstance(t, Tuple):
        elems = vt.elements
        if len(elems) != len(t.elems):
            return Mismatch(path, "tuple:arity", f"{len(elems)} elements, expected {len(t.elems)}")
        for i, (c, v) in enumerate(zip(t.elems, elems)):
            m = type_mismatch(c, v, f"{path}.{i}")
            if m:
                return m
        return None
    if isinstance(t, Variant):
        return _named_parts("variant:case", t.variant_cases, vt.cases, path)
    if isinstance(t, (Enum, Flags)):
        names = list(vt.names)
        want = list(t.names_ if isinstance(t, Enum) else t.labels)
        if names != want:
            return Mismatch(path, f"{t.kind}:names", f"names {names}, expected {want}")
        return None
    if isinstance(t, Option):
        return type_mismatch(t.elem, vt.payload, path + "<some>")
    if isinstance(t, Result):
        return (_optional(t.ok, vt.ok, path + "<ok>", "result:ok")
                or _optional(t.err, vt.err, path + "<err>", "result:err"))
    raise TypeError(f"unknown type {t!r}")


def _optional(t: Type | None, vt: Any, path: str, what: str) -> Mismatch | None:
    if (t is None) != (vt is None):
        return Mismatch(path, f"{what}-presence",
                        f"{'no payload' if vt is None else reflected_kind(vt)}, expected "
                        f"{'no payload' if t is None else t.kind}")
    return type_mismatch(t, vt, path) if t is not None else None


def _named_parts(what: str, want, got, path: str) -> Mismatch | None:
    """Fields of a record or cases of a variant: same names in the same order, same types
    (a case payload present exactly when expected)."""
    got = list(got)
    if [n for n, _ in got] != [n for n, _ in want]:
        return Mismatch(path, f"{what}-names",
                        f"names {[n for n, _ in got]}, expected {[n for n, _ in want]}")
    for (name, t), (_, vt) in zip(want, got):
        m = _optional(t, vt, f"{path}.{name}", what)
        if m:
            return m
    return None
