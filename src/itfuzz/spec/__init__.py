"""Python API of the project's OCaml WebAssembly 2.0 spec interpreter (no SIMD).

    inst = instantiate(wasm_bytes, imports={("env", "f"): HostFunc(["i32"], ["i32"], fn)})
    inst.interpret("run", [Value.i32(7)])   # -> [Value(i32, ...)]; raises Trap / Exhaustion

Every instance has its own store; exports of one instance can be imported by another. Values
are raw bit patterns (`Value`), so NaN payloads survive both ways.

One process-wide re-entrant lock serialises every entry into OCaml (its 4.x runtime is not
thread-safe); host callbacks run on the calling thread and may re-enter.

Signals: starting the OCaml runtime installs its own SIGSEGV handler (stack-overflow
detection), which does not chain to other handlers. Wasmtime traps through SIGSEGV and chains
to the handler it found when its first engine was created, so start this runtime *before*
creating any Wasmtime engine: call `init()` early (the runtime otherwise starts lazily, in the
first thread that needs it). If a SIGSEGV handler is already installed at start-up (Wasmtime's,
or Python's faulthandler under pytest), the binding puts it back and OCaml's is not used; the
interpreter's own call-depth limit then guards the native stack, as it must anyway on every
thread but the one that started the runtime.
"""
from __future__ import annotations

import itertools
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence

from itfuzz.spec import _runtime as rt
from itfuzz.spec.errors import (
    DecodeError,
    Exhaustion,
    InternalError,
    LinkError,
    SpecError,
    Trap,
    ValidationError,
)
from itfuzz.spec.values import Value

__all__ = [
    "init", "instantiate", "set_limits", "set_fault", "opcode_counts", "spectest",
    "Instance", "Extern", "HostFunc", "HostGlobal", "HostMemory", "HostTable", "Value",
    "SpecError", "DecodeError", "ValidationError", "LinkError", "Trap", "Exhaustion",
    "InternalError",
]


def init() -> bool:
    """Start the OCaml runtime now (do this before creating any Wasmtime engine). Returns
    whether OCaml's own SIGSEGV handler is active (see the module docstring)."""
    rt.start()
    return rt.ocaml_segv_handler


def set_limits(fuel: int = 0, max_call_depth: int = 300) -> None:
    """Instructions per top-level call (0 = unlimited) and the maximum Wasm call depth."""
    rt.call(b"itf_set_limits", struct.pack("<QI", fuel, max_call_depth))


def set_fault(name: str = "") -> None:
    """Test-only: make instruction ``name`` (e.g. ``"i32.rem_s"``) compute a wrong result;
    ``""`` clears."""
    rt.call(b"itf_set_fault", rt.string(name))


def opcode_counts() -> dict[int, int]:
    """Executed instructions per opcode (0xFCxx as 0xFC00+xx) since the last call."""
    body = rt.call(b"itf_opcode_counts", b"")
    (n,) = struct.unpack_from("<I", body)
    return dict(struct.unpack_from("<HQ", body, 4 + 10 * i) for i in range(n))


def _limits(lo: int, hi: int | None) -> bytes:
    return struct.pack("<IBI", lo, hi is not None, hi or 0)


class Extern:
    """A function, table, memory or global living in the interpreter."""

    kind: str
    _handle: int | None = None

    def handle(self) -> int:
        return self._handle

    def type(self) -> tuple:
        """("func", params, results) | ("table", reftype, min, max) |
        ("memory", min, max) | ("global", valtype, mutable); max is None when absent."""
        body = rt.call(b"itf_extern_type", rt.u32(self.handle()))
        kind = rt.KINDS[body[0]]
        if kind == "func":
            (np,) = struct.unpack_from("<I", body, 1)
            params = tuple(rt.TYPE_OF_TAG[t] for t in body[5:5 + np])
            results = tuple(rt.TYPE_OF_TAG[t] for t in body[9 + np:])
            return kind, params, results
        if kind == "table":
            lo, has_max, hi = struct.unpack_from("<IBI", body, 2)
            return kind, rt.TYPE_OF_TAG[body[1]], lo, hi if has_max else None
        if kind == "memory":
            lo, has_max, hi = struct.unpack_from("<IBI", body, 1)
            return kind, lo, hi if has_max else None
        return kind, rt.TYPE_OF_TAG[body[1]], bool(body[2])

    def read(self) -> Value | bytes | list[Value] | Extern:
        """A global's value, a memory's bytes, a table's elements; a function is returned as is."""
        if self.kind == "global":
            return rt.read_value(rt.call(b"itf_global_get", rt.u32(self.handle())), 0)
        if self.kind == "memory":
            return rt.call(b"itf_memory_read", rt.u32(self.handle()))
        if self.kind == "table":
            return rt.read_values(rt.call(b"itf_table_read", rt.u32(self.handle())))
        return self

    def call(self, args: Sequence[Value | int | float | None] = ()) -> list[Value]:
        """Invoke a function extern; plain Python numbers are converted by the parameter types."""
        if not all(isinstance(a, Value) for a in args):
            params = self._params()
            if len(params) != len(args):
                raise TypeError(f"expected {len(params)} arguments, got {len(args)}")
            args = [Value.of(t, a) for t, a in zip(params, args)]
        return rt.read_values(rt.call(b"itf_invoke", rt.u32(self.handle()) + rt.values(args)))

    def _params(self) -> tuple[str, ...]:
        kind, params, _ = self.type()
        return params


class _Exported(Extern):
    """An export of an instance; keeps the instance (and so the handle) alive."""

    def __init__(self, kind: str, handle: int, owner: Instance):
        self.kind, self._handle, self._owner = kind, handle, owner

    def handle(self) -> int:
        self._owner._live()
        return self._handle

    def _params(self) -> tuple[str, ...]:
        params = self._owner._params.get(self._handle)
        if params is None:
            params = self._owner._params[self._handle] = super()._params()
        return params

    def __repr__(self) -> str:
        return f"<exported {self.kind} {self._handle}>"


class _Host(Extern):
    """An extern created from Python; registered lazily and dropped with the object."""

    def _request(self) -> tuple[bytes, bytes]:
        raise NotImplementedError

    def handle(self) -> int:
        if self._handle is None:
            name, req = self._request()
            (self._handle,) = struct.unpack("<I", rt.call(name, req))
        return self._handle

    def __del__(self) -> None:
        if self._handle is not None:
            rt.drop_later(1, self._handle)


class HostFunc(_Host):
    """A Python function importable by Wasm: ``fn(list[Value]) -> results``. Results may be a
    sequence of Values or Python numbers, a single value, or None; raise Trap to trap."""

    kind = "func"
    _ids = itertools.count(1)

    def __init__(self, params: Iterable[str], results: Iterable[str], fn: Callable):
        self.params, self.results, self.fn = tuple(params), tuple(results), fn
        self._host_id = next(HostFunc._ids)
        rt.HOST_FUNCS[self._host_id] = _host_adapter(self.results, fn)

    def _request(self) -> tuple[bytes, bytes]:
        types = lambda ts: rt.u32(len(ts)) + bytes(rt.TAGS[t] for t in ts)
        return b"itf_host_func", rt.u32(self._host_id) + types(self.params) + types(self.results)

    def _params(self) -> tuple[str, ...]:
        return self.params

    def __del__(self) -> None:
        rt.HOST_FUNCS.pop(self._host_id, None)
        super().__del__()


def _host_adapter(results: tuple[str, ...], fn: Callable) -> Callable[[list[Value]], bytes]:
    def run(args: list[Value]) -> bytes:
        out = fn(args)
        if out is None:
            out = []
        elif isinstance(out, (Value, int, float)):
            out = [out]
        out = list(out)
        if len(out) != len(results):
            raise TypeError(f"host function returned {len(out)} results, expected {len(results)}")
        return b"\x00" + rt.values(Value.of(t, v) for t, v in zip(results, out))
    return run


class HostGlobal(_Host):
    kind = "global"

    def __init__(self, type: str, mutable: bool, value: Value | int | float | None):
        self.value = Value.of(type, value)
        self.mutable = mutable

    def _request(self) -> tuple[bytes, bytes]:
        req = bytes([rt.TAGS[self.value.type], self.mutable]) + rt.value(self.value)
        return b"itf_host_global", req


class HostMemory(_Host):
    kind = "memory"

    def __init__(self, min: int, max: int | None = None):
        self.min, self.max = min, max

    def _request(self) -> tuple[bytes, bytes]:
        return b"itf_host_memory", _limits(self.min, self.max)


class HostTable(_Host):
    kind = "table"

    def __init__(self, reftype: str, min: int, max: int | None = None):
        self.reftype, self.min, self.max = reftype, min, max

    def _request(self) -> tuple[bytes, bytes]:
        return b"itf_host_table", bytes([rt.TAGS[self.reftype]]) + _limits(self.min, self.max)


Imports = Mapping[tuple[str, str], Extern] | Mapping[str, Mapping[str, Extern]]


def _flatten(imports: Imports | None) -> list[tuple[str, str, Extern]]:
    out = []
    for key, val in (imports or {}).items():
        if isinstance(key, tuple):
            out.append((key[0], key[1], val))
        else:
            out.extend((key, name, ext) for name, ext in val.items())
    return out


class Instance:
    """A module instance in its own store. ``close()`` (or dropping it) frees its handles."""

    def __init__(self, handle: int, imports: list[Extern]):
        self._handle: int | None = handle
        self._imports = imports  # keeps imported externs (and their owners) alive
        # name -> (kind, handle); wrappers are made on demand so that no cycle delays __del__
        self._table: dict[str, tuple[str, int]] | None = None
        self._params: dict[int, tuple[str, ...]] = {}  # function handle -> parameter types

    def exports(self) -> dict[str, Extern]:
        return {name: _Exported(kind, handle, self) for name, (kind, handle) in self._exports().items()}

    def _exports(self) -> dict[str, tuple[str, int]]:
        handle = self._live()
        if self._table is None:
            body = rt.call(b"itf_exports", rt.u32(handle))
            (n,) = struct.unpack_from("<I", body)
            pos, table = 4, {}
            for _ in range(n):
                (size,) = struct.unpack_from("<I", body, pos)
                name = body[pos + 4:pos + 4 + size].decode()
                kind, handle = struct.unpack_from("<BI", body, pos + 4 + size)
                table[name] = rt.KINDS[kind], handle
                pos += 9 + size
            self._table = table
        return self._table

    def export(self, name: str) -> Value | bytes | list[Value] | Extern:
        """A global's Value, a memory's bytes, a table's values, or a function's Extern."""
        return self._extern(name).read()

    def interpret(self, name: str, args: Sequence[Value | int | float | None] = ()) -> list[Value]:
        """Call exported function ``name``."""
        return self._extern(name).call(args)

    def _extern(self, name: str) -> Extern:
        try:
            kind, handle = self._exports()[name]
        except KeyError:
            raise KeyError(f"no export named {name!r}") from None
        return _Exported(kind, handle, self)

    def _live(self) -> int:
        if self._handle is None:
            raise ValueError("instance is closed")
        return self._handle

    def close(self) -> None:
        if self._handle is not None:
            rt.drop_later(0, self._handle)
            self._handle = None

    __del__ = close

    def __enter__(self) -> Instance:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def instantiate(wasm_bytes: bytes, imports: Imports | None = None) -> Instance:
    """Decode, validate, link and instantiate a module (running its start function)."""
    flat = _flatten(imports)
    req = [rt.u32(len(flat))]
    for module, name, ext in flat:
        req += [rt.string(module), rt.string(name), rt.u32(ext.handle())]
    body = rt.call(b"itf_instantiate", b"".join(req) + bytes(wasm_bytes))
    return Instance(struct.unpack("<I", body)[0], [ext for _, _, ext in flat])


_SPECTEST_FUNCS = {
    "print": (), "print_i32": ("i32",), "print_i64": ("i64",), "print_f32": ("f32",),
    "print_f64": ("f64",), "print_i32_f32": ("i32", "f32"), "print_f64_f64": ("f64", "f64"),
}


def spectest() -> dict[tuple[str, str], Extern]:
    """Fresh imports of the testsuite's ``spectest`` module (the print functions do nothing)."""
    out: dict[tuple[str, str], Extern] = {
        ("spectest", name): HostFunc(params, (), lambda args: None)
        for name, params in _SPECTEST_FUNCS.items()
    }
    out["spectest", "global_i32"] = HostGlobal("i32", False, 666)
    out["spectest", "global_i64"] = HostGlobal("i64", False, 666)
    out["spectest", "global_f32"] = HostGlobal("f32", False, 666.6)
    out["spectest", "global_f64"] = HostGlobal("f64", False, 666.6)
    out["spectest", "table"] = HostTable("funcref", 10, 20)
    out["spectest", "memory"] = HostMemory(1, 2)
    return out
