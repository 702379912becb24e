"""Invalid C values for the host-API misuse target's C-level twin.

A case's valid values are encoded (`encoding`), then one value node is replaced by an invalid
one (or the argument count is wrong): strings and names that are not UTF-8, chars that are not
Unicode scalar values, unknown case, flag and field names, missing or extra fields, payloads on
the wrong cases, tuples of the wrong length, values of the wrong kind. Wasmtime's C API must
answer each with an error, never accept it, never abort.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from itfuzz.engines.capi.encoding import KIND, encode, name, spans
from itfuzz.generators.unstructured import Unstructured
from itfuzz.model.types import Type

BAD_UTF8 = (b"\xff", b"\xed\xa0\x80", b"\xc0\x80", b"ok\x80", b"\xf4\x90\x80\x80")
BAD_CHARS = (("char-surrogate", 0xD800), ("char-surrogate", 0xDFFF), ("char-range", 0x110000),
             ("char-range", 0xFFFFFFFF))
UNKNOWN = "zz-unknown"
_U32 = struct.Struct("<I")


@dataclass(frozen=True)
class CMisuse:
    """One invalid call through the C API: `where` "arg" (argument `index` is invalid), "ret"
    (the host's result is) or "arity" (a wrong number of arguments)."""

    kind: str
    where: str
    index: int
    args: bytes      # the encoded arguments of f
    nargs: int
    ret: bytes       # the host's encoded result
    nresults: int
    bad: bytes = b""  # the invalid node's encoding
    node: str = ""    # the type the invalid node replaced

    def describe(self) -> str:
        site = {"arg": f"argument {self.index}", "ret": "host function result",
                "arity": f"f called with {self.nargs} arguments"}[self.where]
        return f"C API {site}: {self.kind} ({self.node}): node encoding {self.bad.hex()}"


def _head(kind: str, n: int) -> bytes:
    return bytes((KIND[kind],)) + _U32.pack(n)


def candidates(t: Type | None, node: bytes) -> list[tuple[str, bytes]]:
    """(misuse kind, invalid encoding) that can replace this node of type `t`."""
    out = [("wrong-kind", b"\x02\x00" if t is not None and t.kind == "bool" else b"\x00\x00")]
    k = t.kind if t is not None else ""
    if k == "string":
        out += [("string-bad-utf", bytes((KIND["string"],)) + name(b)) for b in BAD_UTF8]
    elif k == "char":
        out += [(kind, struct.pack("<BI", KIND["char"], c)) for kind, c in BAD_CHARS]
    elif k == "enum":
        out += [("unknown-case", bytes((KIND["enum"],)) + name(UNKNOWN)),
                ("name-bad-utf", bytes((KIND["enum"],)) + name(b"\xff"))]
    elif k == "variant":
        (n,) = _U32.unpack_from(node, 1)
        case = node[5:5 + n]
        payload = dict(t.cases()).get(case.decode()) is not None  # type: ignore[union-attr]
        out += [("unknown-case", bytes((KIND["variant"],)) + name(UNKNOWN) + b"\0"),
                ("name-bad-utf", bytes((KIND["variant"],)) + name(b"\xff") + b"\0"),
                ("payload-missing" if payload else "payload-extra",
                 bytes((KIND["variant"],)) + name(case) + (b"\0" if payload else b"\1\0\0"))]
    elif k == "flags":
        out += [("unknown-flag", _head("flags", 1) + name(UNKNOWN)),
                ("name-bad-utf", _head("flags", 1) + name(b"\xff"))]
    elif k == "record":
        (count,) = _U32.unpack_from(node, 1)
        (n,) = _U32.unpack_from(node, 5)
        rest = node[9 + n:]  # after the first field's name
        out += [("unknown-field", node[:5] + name(UNKNOWN) + rest),
                ("name-bad-utf", node[:5] + name(b"\xff") + rest),
                ("missing-field", _head("record", 0)),
                ("extra-field", _head("record", count + 1) + node[5:] + name(UNKNOWN) + b"\0\0")]
    elif k == "tuple":
        (count,) = _U32.unpack_from(node, 1)
        out += [("tuple-arity", _head("tuple", count + 1) + node[5:] + b"\0\0")]
    return out


def corrupt(u: Unstructured, t: Type, value) -> tuple[bytes, str, bytes, str]:
    """The encoding of `value` with one node replaced: (encoding, kind, bad node, node type)."""
    data = encode(t, value)
    options = [(start, end, node_t, kind, bad)
               for start, end, node_t in spans(t, data)
               for kind, bad in candidates(node_t, data[start:end])]
    start, end, node_t, kind, bad = u.choose(options)
    return data[:start] + bad + data[end:], kind, bad, node_t.kind if node_t is not None else "?"


def decode_c_misuse(u: Unstructured, types: list[Type], result: Type | None, args: tuple,
                    ret) -> CMisuse:
    """A C-level misuse of a call with these valid values (read from `u`)."""
    enc_args = [encode(t, a) for t, a in zip(types, args)]
    enc_ret = encode(result, ret) if result is not None else b""
    nres = int(result is not None)
    sites = [("arg", i) for i in range(len(types))] + ([("ret", 0)] if result is not None else [])
    where, index = u.choose(sites) if sites and not u.ratio(1, 8) else ("arity", 0)
    if where == "arity":
        if types and u.bool():
            return CMisuse("arg-missing", "arity", 0, b"".join(enc_args[:-1]), len(types) - 1,
                           enc_ret, nres)
        return CMisuse("arg-extra", "arity", 0, b"".join(enc_args) + b"\0\0", len(types) + 1,
                       enc_ret, nres, b"\0\0", "bool")
    if where == "ret":
        assert result is not None
        bad_ret, kind, bad, node = corrupt(u, result, ret)
        return CMisuse(kind, "ret", 0, b"".join(enc_args), len(types), bad_ret, nres, bad, node)
    enc_args[index], kind, bad, node = corrupt(u, types[index], args[index])
    return CMisuse(kind, "arg", index, b"".join(enc_args), len(types), enc_ret, nres, bad, node)
