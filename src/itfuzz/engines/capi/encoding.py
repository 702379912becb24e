"""Model values ↔ the C lane's compact value encoding (the format is described in `lane.c`).

`encoder(t)` compiles, once per type, a function appending a model value's encoding to a
`bytearray`; the C side builds `wasmtime_component_val_t` trees from it and compares received
trees with it. `decode(t, data)` reads the C side's dumps back into model values for reports:
anything that does not fit `t` (another kind, other field names, a handle of another host
type or ownership) becomes an `Odd`, which no model value equals. A host resource handle
(`Handle`) is encoded as its ownership, resource index and rep; C makes the host handle. A
handle of the guest's `gr` (`GuestHandle`) is its ownership with the `GUEST` flag and its rep; C
makes it with the component's `gr-new` and reads it back with `gr-rep`.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from itfuzz.engines.resources import TYPE_BASE
from itfuzz.model.resources import GuestHandle, Handle, Res
from itfuzz.model.types import (
    Enum,
    Flags,
    List,
    Map,
    Option,
    Record,
    Result,
    Tuple,
    Type,
    Variant,
)

# wasmtime_component_valkind_t (wasmtime/component/val.h)
KINDS = ("bool s8 u8 s16 u16 s32 u32 s64 u64 f32 f64 char string list record tuple variant enum "
         "option result flags resource map").split()
KIND = {k: i for i, k in enumerate(KINDS)}
SCALAR = {"bool": "B", "s8": "b", "u8": "B", "s16": "h", "u16": "H", "s32": "i", "u32": "I",
          "s64": "q", "u64": "Q", "f32": "f", "f64": "d", "char": "I"}
_U32 = struct.Struct("<I")
GUEST = 2  # the flag of a `gr` handle in a handle's ownership byte
GR_TYPE = 0xFFFFFFFE  # the type a dump gives a `gr` handle
_HEAD = struct.Struct("<BI")

Encoder = Callable[[bytearray, Any], None]


def name(text: str | bytes) -> bytes:
    """A length-prefixed name (bytes are taken as they are: the misuse twin passes bad UTF-8)."""
    raw = text.encode() if isinstance(text, str) else text
    return _U32.pack(len(raw)) + raw


def encode(t: Type, value: Any) -> bytes:
    out = bytearray()
    encoder(t)(out, value)
    return bytes(out)


def encoder(t: Type) -> Encoder:
    """The encoding function of type `t` (cached on the type object)."""
    cached = t.__dict__.get("_capi_encoder")
    if cached is None:
        cached = _make(t)
        object.__setattr__(t, "_capi_encoder", cached)
    return cached


def _make(t: Type) -> Encoder:
    k = t.kind
    if k == "bool":
        true, false = bytes((0, 1)), bytes((0, 0))

        def enc_bool(out, v):
            out += true if v else false
        return enc_bool
    if k == "char":
        pack_char = struct.Struct("<BI").pack

        def enc_char(out, v):
            out += pack_char(KIND["char"], ord(v))
        return enc_char
    if k in SCALAR:
        pack = struct.Struct("<B" + SCALAR[k]).pack
        kind = KIND[k]

        def enc_scalar(out, v):
            out += pack(kind, v)
        return enc_scalar
    if isinstance(t, (Handle, GuestHandle)):
        pack_handle = struct.Struct("<BBII").pack
        kind = KIND["resource"]
        own, resource = (t.own, t.resource) if isinstance(t, Handle) else (GUEST | t.own, 0)

        def enc_handle(out, v):
            out += pack_handle(kind, own, resource, v.rep)
        return enc_handle
    if k == "string":
        def enc_string(out, v):
            raw = v.encode()
            out += _HEAD.pack(KIND["string"], len(raw))
            out += raw
        return enc_string
    if isinstance(t, (List, Tuple, Record)):
        return _make_sequence(t)
    if isinstance(t, Map):
        key, value = encoder(t.key), encoder(t.value)

        def enc_map(out, v):
            out += _HEAD.pack(KIND["map"], len(v))
            for k, x in v:
                key(out, k)
                value(out, x)
        return enc_map
    if isinstance(t, Enum):
        cases = {n: bytes((KIND["enum"],)) + name(n) for n in t.names_}

        def enc_enum(out, v):
            out += cases[v]
        return enc_enum
    if isinstance(t, Flags):
        labels = [(lab, name(lab)) for lab in t.labels]

        def enc_flags(out, v):
            out += _HEAD.pack(KIND["flags"], len(v))
            for lab, raw in labels:
                if lab in v:
                    out += raw
        return enc_flags
    return _make_variant(t)


def _make_sequence(t: List | Tuple | Record) -> Encoder:
    if isinstance(t, List):
        elem = encoder(t.elem)

        def enc_list(out, v):
            out += _HEAD.pack(KIND["list"], len(v))
            for x in v:
                elem(out, x)
        return enc_list
    if isinstance(t, Tuple):
        parts = [(b"", encoder(c)) for c in t.elems]
    else:
        parts = [(name(n), encoder(c)) for n, c in t.fields]
    head = _HEAD.pack(KIND[t.kind], len(parts))

    def enc_fields(out, v):
        out += head
        for (prefix, enc), x in zip(parts, v):
            out += prefix
            enc(out, x)
    return enc_fields


def _make_variant(t: Type) -> Encoder:
    """variant, option and result: a (case name, payload) pair."""
    cases: dict[str, tuple[bytes, Encoder | None]] = {}
    for i, (n, payload) in enumerate(t.cases()):  # type: ignore[attr-defined]
        has = bytes((payload is not None,))
        if isinstance(t, Variant):
            pre = bytes((KIND["variant"],)) + name(n) + has
        elif isinstance(t, Option):
            pre = bytes((KIND["option"],)) + has
        elif isinstance(t, Result):
            pre = bytes((KIND["result"], i == 0)) + has
        else:
            raise TypeError(f"no C encoding for {t!r}")
        cases[n] = (pre, encoder(payload) if payload is not None else None)

    def enc_case(out, v):
        pre, enc = cases[v[0]]
        out += pre
        if enc is not None:
            enc(out, v[1])
    return enc_case


# -- reading dumps back -----------------------------------------------------------------------
@dataclass(frozen=True)
class Odd:
    """A dumped value that does not fit the expected type (equal to no model value)."""

    why: str
    value: Any

    def __repr__(self) -> str:
        return f"Odd({self.why}: {self.value!r})"


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0
        self.spans: list[tuple[int, int, Type | None]] | None = None  # see `spans`

    def take(self, fmt: str) -> Any:
        s = struct.Struct("<" + fmt)
        (v,) = s.unpack_from(self.data, self.pos)
        self.pos += s.size
        return v

    def name(self) -> str:
        n = self.take("I")
        raw = self.data[self.pos:self.pos + n]
        if len(raw) != n:
            raise struct.error("name past the end")
        self.pos += n
        return raw.decode("utf-8", "surrogateescape")


def decode(types: list[Type], data: bytes) -> list[Any]:
    """The model values of a dump of one value per type (a dump too short raises ValueError)."""
    r = _Reader(data)
    try:
        return [_read(t, r) for t in types]
    except struct.error as e:
        raise ValueError(f"truncated value dump: {e}") from None


def spans(t: Type, data: bytes) -> list[tuple[int, int, Type | None]]:
    """(start, end, type) of every value node in the encoding of one value of `t`, children
    before their parents."""
    r = _Reader(data)
    r.spans = []
    _read(t, r)
    return r.spans


def _read(t: Type | None, r: _Reader) -> Any:
    start = r.pos
    v = _read_node(t, r)
    if r.spans is not None:
        r.spans.append((start, r.pos, t))
    return v


def _read_node(t: Type | None, r: _Reader) -> Any:
    k = r.take("B")
    if k >= len(KINDS):
        raise ValueError(f"unknown value kind {k} in a dump")
    kind = KINDS[k]
    if kind == "resource":
        own, ty, rep = r.take("B"), r.take("I"), r.take("I")
        if isinstance(t, Handle) and own == t.own and ty == TYPE_BASE + t.resource:
            return Res(rep)
        if isinstance(t, GuestHandle) and own == t.own and ty == GR_TYPE:
            return Res(rep)
        return Odd(f"{'own' if own else 'borrow'} of host type {ty:#x} for "
                   f"{t.wit({}) if t is not None else '?'}", Res(rep))
    if t is not None and kind != t.kind:
        return Odd(f"{kind} for {t.kind}", _read(None, r))
    if kind in SCALAR:
        v = r.take(SCALAR[kind])
        return bool(v) if kind == "bool" else chr(v) if kind == "char" and v < 0x110000 else v
    if kind in ("string", "enum"):
        return r.name()
    if kind in ("list", "tuple", "record"):
        n = r.take("I")
        kids: list[Type | None] = [None] * n
        if isinstance(t, List):
            kids = [t.elem] * n
        elif isinstance(t, (Tuple, Record)) and n == len(t.children()):
            kids = list(t.children())
        names, vals = [], []
        for c in kids:
            names.append(r.name() if kind == "record" else None)
            vals.append(_read(c, r))
        if isinstance(t, Record) and names != [f for f, _ in t.fields]:
            return Odd(f"record fields {names}", tuple(vals))
        return vals if kind == "list" else tuple(vals)
    if kind == "map":
        kt, vt = (t.key, t.value) if isinstance(t, Map) else (None, None)
        return [(_read(kt, r), _read(vt, r)) for _ in range(r.take("I"))]
    if kind == "flags":
        return frozenset(r.name() for _ in range(r.take("I")))
    if kind == "variant":
        case = r.name()
        payload_t = dict(t.cases()).get(case) if t is not None else None  # type: ignore[attr-defined]
        return (case, _read(payload_t, r) if r.take("B") else None)
    if kind == "option":
        return ("some", _read(t.elem if t is not None else None, r)) if r.take("B") else ("none", None)  # type: ignore[attr-defined]
    ok = r.take("B")
    case = "ok" if ok else "err"
    payload_t = dict(t.cases()).get(case) if t is not None else None  # type: ignore[attr-defined]
    return (case, _read(payload_t, r) if r.take("B") else None)
