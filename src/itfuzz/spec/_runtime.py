"""Entry into the OCaml runtime: the process-wide lock, start-up, the byte codec of
spec_interp/host/PROTOCOL.md, host-function dispatch and deferred handle drops."""
from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Iterable

from itfuzz.spec._spec_interp import ffi, lib
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

LOCK = threading.RLock()
TAGS = {"i32": 0, "i64": 1, "f32": 2, "f64": 3, "funcref": 4, "externref": 5}
TYPE_OF_TAG = {tag: name for name, tag in TAGS.items()}
KINDS = ("func", "table", "memory", "global")
NULL = 0xFFFFFFFFFFFFFFFF
_VALUE = struct.Struct("<BQ")
_ERRORS = {1: DecodeError, 2: ValidationError, 3: LinkError, 5: Exhaustion, 6: InternalError}

_started = False
ocaml_segv_handler = False  # whether OCaml's stack-overflow SIGSEGV handler is installed
_depth = 0  # OCaml entries on the stack of the thread holding LOCK (host callbacks nest)
_pending_drops: list[bytes] = []  # itf_drop requests from finalizers, sent at the next entry
_host_error: BaseException | None = None  # what the last failing host function raised
HOST_FUNCS: dict[int, Callable[[list[Value]], bytes]] = {}  # host_id -> encoded-reply function


def start() -> None:
    """Start the OCaml runtime (once, in the calling thread)."""
    global _started, ocaml_segv_handler
    with LOCK:
        if not _started:
            ocaml_segv_handler = bool(lib.itf_init())
            lib.itf_set_host(lib.itf_py_host)
            _started = True


def u32(n: int) -> bytes:
    return struct.pack("<I", n)


def string(s: str) -> bytes:
    data = s.encode()
    return u32(len(data)) + data


def value(v: Value) -> bytes:
    return _VALUE.pack(TAGS[v.type], NULL if v.bits is None else v.bits)


def values(vs: Iterable[Value]) -> bytes:
    vs = list(vs)
    return u32(len(vs)) + b"".join(map(value, vs))


def read_value(body: bytes, pos: int) -> Value:
    tag, bits = _VALUE.unpack_from(body, pos)
    type = TYPE_OF_TAG[tag]
    if type in ("i32", "f32"):
        bits &= 0xFFFFFFFF
    elif type in ("funcref", "externref") and bits == NULL:
        bits = None
    return Value(type, bits)


def read_values(body: bytes, pos: int = 0) -> list[Value]:
    (n,) = struct.unpack_from("<I", body, pos)
    return [read_value(body, pos + 4 + 9 * i) for i in range(n)]


def drop_later(what: int, handle: int) -> None:
    """Queue a handle drop (safe from ``__del__`` in any thread, even during a call)."""
    _pending_drops.append(bytes([what]) + u32(handle))


def call(name: bytes, req: bytes) -> bytes:
    """Send one request; return the ok body or raise the matching SpecError."""
    global _depth, _host_error
    with LOCK:
        if not _started:
            start()
        if _depth == 0:
            while _pending_drops:
                _raw(b"itf_drop", _pending_drops.pop())
        _depth += 1
        try:
            resp = _raw(name, req)
        finally:
            _depth -= 1
        host_error, _host_error = _host_error, None
    status, body = resp[0], resp[1:]
    if status == 0:
        return body
    message = body.decode("utf-8", "replace")
    if status == 4:
        if host_error is None:
            raise Trap.from_message(message)
        if isinstance(host_error, SpecError):
            raise Trap("host", message) from host_error
        raise host_error
    raise _ERRORS.get(status, InternalError)(message)


def _raw(name: bytes, req: bytes) -> bytes:
    out = ffi.new("uint8_t **")
    out_len = ffi.new("size_t *")
    if lib.itf_call(name, req, len(req), out, out_len) != 0:
        raise MemoryError("spec interpreter response")
    try:
        return ffi.buffer(out[0], out_len[0])[:]
    finally:
        lib.itf_free(out[0])


@ffi.def_extern()
def itf_py_host(host_id, args, length, reply):
    """Called from OCaml (with LOCK held) for an imported host function."""
    global _host_error
    try:
        fn = HOST_FUNCS[host_id]
        resp = fn(read_values(ffi.buffer(args, length)[:]))
    except BaseException as exc:  # reported as a trap, re-raised by call()
        _host_error = exc
        resp = b"\x04host function raised: " + repr(exc).encode()
    lib.itf_reply_set(reply, resp, len(resp))
