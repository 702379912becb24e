"""Pieces of the standalone reproducer scripts (`ops/reproducer.py`, `ops/hostile_script.py`):
wasmtime-py values as Python source, the strict equality and helpers every script defines, and
the component embedded as binary (so a script runs on every release from 39.0.0)."""
from __future__ import annotations

import math
import struct
from typing import Any

MAX_INLINE_DEPTH = 40  # deeper values are split into named parts (Python's parser nests ≤ 200)


class Unsupported(Exception):
    """This target has no standalone reproducer writer."""


def _float(x: float) -> str:
    if math.isnan(x):
        return f"nan(0x{struct.unpack('<Q', struct.pack('<d', x))[0]:016x})"
    if math.isinf(x):
        return "math.inf" if x > 0 else "-math.inf"
    return repr(x)


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
        if x is None or isinstance(x, (bool, int, str, bytes)):
            return repr(x)
        if isinstance(x, float):
            return _float(x)
        if isinstance(x, list):
            return "[" + ", ".join(self(e, d) for e in x) + "]"
        if isinstance(x, tuple):
            return "(" + ", ".join(self(e, d) for e in x) + ("," if len(x) == 1 else "") + ")"
        if isinstance(x, (set, frozenset)):
            return "{" + ", ".join(repr(e) for e in sorted(x)) + "}" if x else "set()"
        if isinstance(x, Record):
            return "record(" + ", ".join(f"({k!r}, {self(v, d)})" for k, v in vars(x).items()) + ")"
        if isinstance(x, Variant):
            return f"Variant({x.tag!r}, {self(x.payload, d)})"
        raise TypeError(f"no literal for {type(x).__name__}")


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


def _b64(wat: str) -> str:
    """The component's binary (via wasm-tools), base64."""
    import base64

    from itfuzz.spec.tools import wat2wasm
    return base64.b64encode(wat2wasm(wat)).decode()


def _quote_block(text: str) -> str:
    return 'r"""' + text + '"""' if '"""' not in text and not text.endswith("\\") else repr(text)


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())
