"""Core Wasm modules for the differential target, and what their imports and exports look like.

Two sources, both deterministic functions of input bytes:
- `smith(seed)`: ``wasm-tools smith`` configured to the spec interpreter's scope (Wasm 2.0
  without SIMD: no threads, GC, exceptions, tail calls, memory64, multi-memory, extended
  constants), with guaranteed termination, canonical NaNs, bounded memory (≤ 10 pages) and
  tables (≤ 100 elements, maximum required), no imports and every item exported; optionally
  without reference types (for Winch) or with traps disallowed. One process per module, so
  results are cached (LRU) by seed and options, and, once `smith.use_disk()` is called (the
  fuzzing process does, see `itfuzz.fuzzing`), on disk across runs and workers too (keyed also
  by the wasm-tools version, under ``$ITFUZZ_CACHE/smith``).
- `component_modules(wasm)`: the core modules nested in a component binary (the round-trip
  target's components); these do import (memory, realloc, lowered host functions).
  `bound_memories` gives their memories a maximum.

`module_info` reads the import and export types of a module binary (a small reader of the type,
import, function, table, memory, global and export sections; no Wasmtime).
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from itfuzz.diskcache import DiskCache, cache_dir
from itfuzz.lru import LRU
from itfuzz.spec.tools import wasm_tools

SMITH_FUEL = 100  # loop iterations + calls before the inserted fuel check traps (unreachable)
MAX_MEMORY_PAGES = 10
MAX_TABLE_ELEMENTS = 100
SMITH_FLAGS = (
    "--ensure-termination", "--fuel", str(SMITH_FUEL),
    "--canonicalize-nans", "true",
    "--export-everything", "true",
    "--max-imports", "0",
    "--min-types", "1",  # without a type, --min-funcs is not honoured
    "--min-funcs", "1",
    "--max-funcs", "12",
    "--max-globals", "12",
    "--max-types", "12",
    "--max-data-segments", "8",
    "--max-element-segments", "8",
    "--max-memories", "1",
    "--max-tables", "1",
    "--max-memory32-bytes", str(MAX_MEMORY_PAGES * 65536),
    "--memory-max-size-required", "true",
    "--max-table-elements", str(MAX_TABLE_ELEMENTS),
    "--table-max-size-required", "true",
    "--simd-enabled", "false",
    "--relaxed-simd-enabled", "false",
    "--threads-enabled", "false",
    "--shared-everything-threads-enabled", "false",
    "--gc-enabled", "false",
    "--exceptions-enabled", "false",
    "--tail-call-enabled", "false",
    "--memory64-enabled", "false",
    "--custom-page-sizes-enabled", "false",
    "--wide-arithmetic-enabled", "false",
    "--extended-const-enabled", "false",
    "--custom-descriptors-enabled", "false",
    "--compact-imports-enabled", "false",
)

NO_REFERENCE_TYPES = ("--reference-types-enabled", "false")
DISALLOW_TRAPS = ("--disallow-traps", "true")


class SmithFailed(Exception):
    """wasm-smith could not make a module from this seed (its exit code 2), or did not run."""


class SmithCache:
    """``wasm-tools smith`` output by seed bytes (bounded LRU; failures are cached too)."""

    def __init__(self, size: int = 16384) -> None:  # ~1 KB a module: every smith-id module fits
        self.entries: LRU = LRU(size)  # (seed, options) → module bytes, or smith's error text
        self.runs = self.disk_hits = 0  # smith processes; answers from the disk cache
        self.disk: DiskCache | None = None
        self.tool: str | None = None  # the wasm-tools version line (part of the disk key)

    def use_disk(self, directory: str | Path | None = None, max_bytes: int = 64 << 20) -> None:
        """Keep smith's output on disk too (``$ITFUZZ_CACHE/smith`` unless `directory`)."""
        self.disk = DiskCache(directory if directory is not None else cache_dir() / "smith",
                              max_bytes)

    def __call__(self, seed: bytes, reference_types: bool = True,
                 disallow_traps: bool = False) -> bytes:
        """The module of ``seed``; without reference types (no externref) for engines that lack
        them (Winch has no GC heap); with ``disallow_traps``, guarded against most traps."""
        flags = SMITH_FLAGS + (() if reference_types else NO_REFERENCE_TYPES)
        flags += DISALLOW_TRAPS if disallow_traps else ()
        out = self.entries.get_or_make((seed, reference_types, disallow_traps),
                                       lambda: self._run(seed, flags))
        if isinstance(out, str):
            raise SmithFailed(out)
        return out

    def _run(self, seed: bytes, flags: tuple[str, ...]) -> bytes | str:
        if self.disk is None:
            return self._smith(seed, flags)
        if self.tool is None:
            proc = subprocess.run([wasm_tools(), "--version"], capture_output=True)
            self.tool = proc.stdout.decode(errors="replace").strip()
        key = "\0".join(("smith", self.tool, *flags)).encode() + b"\0" + seed
        stored = self.disk.get(key)
        if stored is not None:  # b"M" + module, or b"F" + the failure
            self.disk_hits += 1
            return stored[1:] if stored[:1] == b"M" else stored[1:].decode()
        out = self._smith(seed, flags)
        self.disk.put(key, b"M" + out if isinstance(out, bytes) else b"F" + out.encode())
        return out

    def _smith(self, seed: bytes, flags: tuple[str, ...]) -> bytes | str:
        self.runs += 1
        proc = subprocess.run([wasm_tools(), "smith", *flags], input=seed, capture_output=True)
        if proc.returncode != 0:
            if proc.returncode == 2:
                return "wasm-smith: no module from this seed"
            raise RuntimeError(f"wasm-tools smith failed ({proc.returncode}): "
                               f"{proc.stderr.decode(errors='replace')[:500]}")
        return proc.stdout


smith = SmithCache()


def wasm_to_wat(wasm: bytes) -> str:
    """The text of a module (``wasm-tools print``)."""
    proc = subprocess.run([wasm_tools(), "print", "-"], input=wasm, capture_output=True)
    if proc.returncode != 0:
        return f";; wasm-tools print failed: {proc.stderr.decode(errors='replace')[:500]}"
    return proc.stdout.decode()


# -- binary reading ---------------------------------------------------------------------------
VALTYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x70: "funcref",
            0x6F: "externref"}
KINDS = ("func", "table", "memory", "global")


class Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise ValueError("unexpected end of module")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def uleb(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    def bytes(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("unexpected end of module")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def name(self) -> str:
        return self.bytes(self.uleb()).decode()

    def valtype(self) -> str:
        b = self.byte()
        if b in (0x63, 0x64):  # (ref null? ht) with an abstract heap type
            ht = self.byte()
            if b == 0x63 and ht in (0x70, 0x6F):
                return VALTYPES[ht]
            raise ValueError(f"unsupported reference type {b:#x} {ht:#x}")
        try:
            return VALTYPES[b]
        except KeyError:
            raise ValueError(f"unsupported value type {b:#x}") from None

    def limits(self) -> tuple[int, int | None]:
        flags = self.byte()
        if flags & ~1:
            raise ValueError(f"unsupported limits flags {flags:#x}")
        lo = self.uleb()
        return lo, self.uleb() if flags & 1 else None


def sections(data: bytes, pos: int = 8):
    """(id, header start, payload start, payload end) of each section after the preamble."""
    r = Reader(data, pos)
    while r.pos < len(data):
        head = r.pos
        sid = r.byte()
        size = r.uleb()
        start = r.pos
        r.pos += size
        if r.pos > len(data):
            raise ValueError("section runs past the end")
        yield sid, head, start, r.pos


@dataclass(frozen=True)
class Item:
    """An import or export: its kind and type, as ``Extern.type()`` of itfuzz.spec gives it:
    func (params, results), table (reftype, min, max), memory (min, max), global (valtype,
    mutable)."""

    module: str  # "" for exports
    name: str
    kind: str
    type: tuple


@dataclass(frozen=True)
class ModuleInfo:
    imports: tuple[Item, ...]
    exports: tuple[Item, ...]

    def funcs(self) -> list[Item]:
        return [e for e in self.exports if e.kind == "func"]


def module_info(wasm: bytes) -> ModuleInfo:
    """Import and export types of a core module binary."""
    if wasm[:8] != b"\0asm\x01\0\0\0":
        raise ValueError("not a core Wasm module")
    types: list[tuple] = []
    spaces: dict[str, list[tuple]] = {k: [] for k in KINDS}
    imports: list[Item] = []
    exports: list[tuple[str, int, int]] = []
    for sid, _, start, end in sections(wasm):
        r = Reader(wasm[:end], start)
        if sid == 1:
            for _ in range(r.uleb()):
                form = r.byte()
                if form != 0x60:
                    raise ValueError(f"unsupported type form {form:#x}")
                params = tuple(r.valtype() for _ in range(r.uleb()))
                types.append((params, tuple(r.valtype() for _ in range(r.uleb()))))
        elif sid == 2:
            for _ in range(r.uleb()):
                module, name = r.name(), r.name()
                kind = KINDS[r.byte()]
                t = _extern_type(r, kind, types)
                spaces[kind].append(t)
                imports.append(Item(module, name, kind, t))
        elif sid == 3:
            spaces["func"] += [types[r.uleb()] for _ in range(r.uleb())]
        elif sid in (4, 5, 6):
            kind = {4: "table", 5: "memory", 6: "global"}[sid]
            for _ in range(r.uleb()):
                spaces[kind].append(_extern_type(r, kind, types))
                if kind == "global":
                    skip_const(r)
        elif sid == 7:
            for _ in range(r.uleb()):
                name = r.name()
                exports.append((name, r.byte(), r.uleb()))
    out = tuple(Item("", name, KINDS[k], spaces[KINDS[k]][i]) for name, k, i in exports)
    return ModuleInfo(tuple(imports), out)


def _extern_type(r: Reader, kind: str, types: list[tuple]) -> tuple:
    if kind == "func":
        return types[r.uleb()]
    if kind == "table":
        ref = r.valtype()
        return (ref, *r.limits())
    if kind == "memory":
        return r.limits()
    t = r.valtype()
    return t, bool(r.byte())


def skip_const(r: Reader) -> None:
    """Skip a constant expression (MVP + reference-type constants) through its ``end``."""
    while True:
        op = r.byte()
        if op == 0x0B:
            return
        if op in (0x41, 0x42, 0x23, 0xD2):  # i32/i64.const, global.get, ref.func
            r.uleb()
        elif op == 0x43:
            r.bytes(4)
        elif op == 0x44:
            r.bytes(8)
        elif op == 0xD0:  # ref.null
            r.byte()
        else:
            raise ValueError(f"unsupported constant instruction {op:#x}")


def component_modules(component: bytes) -> list[bytes]:
    """The core modules nested (at any depth) in a component binary, in section order."""
    if component[:8] != b"\0asm\x0d\0\x01\0":
        raise ValueError("not a component binary")
    out = []
    for sid, _, start, end in sections(component):
        if sid == 1:  # core module
            out.append(component[start:end])
        elif sid == 4:  # nested component
            out += component_modules(component[start:end])
    return out


def bound_memories(wasm: bytes, max_pages: int) -> bytes:
    """The module with every defined memory that lacks a maximum given ``max(min, max_pages)``
    (so that growth stays bounded on engines without store limits)."""
    for sid, head, start, end in sections(wasm):
        if sid == 5:
            r = Reader(wasm[:end], start)
            limits = [r.limits() for _ in range(r.uleb())]
            body = uleb(len(limits)) + b"".join(
                b"\x01" + uleb(lo) + uleb(max(lo, max_pages) if hi is None else hi)
                for lo, hi in limits)
            return wasm[:head] + b"\x05" + uleb(len(body)) + body + wasm[end:]
    return wasm


def uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
