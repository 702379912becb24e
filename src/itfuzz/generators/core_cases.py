"""Bytes → a core-Wasm differential case (`CoreCase`): a module and the calls to make.

Input layout (the module first, so that mutations of the later bytes reuse it):
  byte 0   h, the source by ``h % 8``:
           0-3 "smith-id": wasm-smith on a 256-byte seed expanded (SHAKE-128) from the 13-bit
               id ``n + 256 * (h >> 3)``: three input bytes choose a whole module, so nearly all
               mutations reuse a cached one (wasm-smith is a process per module)
           4-6 "smith": wasm-smith on the seed bytes of the input, which mutations evolve
           7   "component": a core module of the round-trip component decoded from the seed
               bytes (``h >> 3`` picks which)
           smith modules disallow traps unless ``(h >> 3) % 4 == 0`` (id: ``id % 4 == 0``)
  byte 1   n: the seed is ``8 * (n % 16)`` bytes from byte 3 on ("smith", "component")
  byte 2   the Wasmtime engine (cranelift, winch, pulley)
  rest     the calls: every exported function once, then extra calls, each argument an edge
           value (MIN, -1, 0, 1, MAX, ±0, ±inf, NaNs, …) half of the time, else random bits.

The module part (bytes 0-2 and the seed) is the structure `generators.mutator` keeps: its length
is `module_end(data)`, so most mutations change only the calls and reuse the cached wasm-smith
module and the compiled Wasmtime module. The calls read from the front only; `read_end(data)`
says where the reading stopped, and the mutator drops the bytes after it (no case depends on
them), so its value edits land on bytes that change a call.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass

from itfuzz.generators.components import component_text
from itfuzz.generators.core_modules import (
    MAX_MEMORY_PAGES,
    ModuleInfo,
    SmithFailed,
    bound_memories,
    component_modules,
    module_info,
    smith,
    wasm_to_wat,
)
from itfuzz.generators.signatures import decode_roundtrip
from itfuzz.generators.unstructured import Unstructured
from itfuzz.lru import LRU
from itfuzz.spec.tools import wat2wasm
from itfuzz.spec.values import Value

ENGINES = ("cranelift", "winch", "pulley")
SOURCES = ("smith-id", "smith", "component")
SOURCE_OF = ("smith-id",) * 4 + ("smith",) * 3 + ("component",)  # by h % 8
ID_SEED_SIZE = 256
SEED_UNITS = 16  # module seeds are up to 8 * 15 bytes
MAX_EXTRA_CALLS = 12
MAX_CALLS = 40

EDGES = {
    "i32": (0x80000000, 0xFFFFFFFF, 0, 1, 0x7FFFFFFF, 0x80, 0xFF, 0xFFFF, 0x8000, 31, 32, 16),
    "i64": (1 << 63, (1 << 64) - 1, 0, 1, (1 << 63) - 1, 0x80000000, 0xFFFFFFFF, 1 << 32, 63, 64),
    # +0, -0, +inf, -inf, NaN, 1, -1, max, min normal, min subnormal, 2^31, -2^31 - 1 ulp, 0.5,
    # then non-canonical NaNs (signalling, negative, payload): raw bits reach both sides, and
    # what leaks of them (wasm-smith canonicalizes arithmetic results) is the same on x86
    "f32": (0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x3F800000, 0xBF800000,
            0x7F7FFFFF, 0x00800000, 1, 0x4F000000, 0xCF000001, 0x3F000000,
            0x7F800001, 0xFFC00000, 0xFFBFFFFF, 0x7FA00000),
    "f64": (0, 1 << 63, 0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000,
            0x3FF0000000000000, 0xBFF0000000000000, 0x7FEFFFFFFFFFFFFF, 0x0010000000000000, 1,
            0x41E0000000000000, 0xC1E0000000200000, 0x3FE0000000000000,
            0x7FF0000000000001, 0xFFF8000000000000, 0xFFF7FFFFFFFFFFFF, 0x7FF4000000000000),
}


@dataclass(frozen=True)
class CoreCall:
    name: str
    args: tuple[Value, ...]

    def __str__(self) -> str:
        return f"{json.dumps(self.name)}({', '.join(show_value(a) for a in self.args)})"


@dataclass(frozen=True)
class CoreCase:
    source: str                 # one of SOURCES
    seed: bytes                 # the bytes the module came from
    engine: str                 # Wasmtime engine: cranelift | winch | pulley
    wasm: bytes | None       # None: no module from this seed (discarded)
    info: ModuleInfo | None
    calls: tuple[CoreCall, ...]
    note: str = ""              # where the module came from (component module index)


def show_value(v: Value) -> str:
    if v.bits is None:
        return f"{v.type}:null"
    if v.type in ("i32", "i64"):
        return f"{v.type}:{v.signed}"
    if v.type in ("f32", "f64"):
        return f"{v.type}:{v.float!r}[{v.bits:#x}]"
    return f"{v.type}:ref"


_component_cache: LRU = LRU(256)  # round-trip input bytes → its core modules


def _component_core_modules(case_bytes: bytes) -> list[bytes]:
    """The core modules of the round-trip component that ``case_bytes`` decodes to (cached)."""
    def make() -> list[bytes]:
        # wasm-tools, not the release under test's parser: old releases reject our text
        binary = wat2wasm(component_text(decode_roundtrip(case_bytes).sig))
        return [bound_memories(m, MAX_MEMORY_PAGES) for m in component_modules(binary)]
    return _component_cache.get_or_make(case_bytes, make)


@functools.lru_cache(maxsize=16384)
def _module_info(wasm: bytes) -> ModuleInfo:
    return module_info(wasm)


def _arg(u: Unstructured, t: str) -> Value:
    if t not in EDGES:
        return Value(t, None)  # references: null
    if u.ratio(1, 2):
        return Value(t, u.choose(EDGES[t]))
    return Value(t, u.u32() if t in ("i32", "f32") else u.u64())


def module_end(data: bytes) -> int:
    """Where the calls start: 3 header bytes, then the seed (none for "smith-id")."""
    h, n = (data + bytes(2))[:2]
    return 3 + (0 if SOURCE_OF[h % 8] == "smith-id" else 8 * (n % SEED_UNITS))


def decode_core_case(data: bytes) -> CoreCase:
    """The case of an input (deterministic; wasm-smith output is cached by seed)."""
    return _decode(data)[0]


def read_end(data: bytes) -> int:
    """How many bytes of `data` decoding reads (the module part, then the calls')."""
    return _decode(data)[1]


def _decode(data: bytes) -> tuple[CoreCase, int]:
    h, n, e = (data + bytes(3))[:3]
    source = SOURCE_OF[h % 8]
    end = module_end(data)
    seed = data[3:end]
    u = Unstructured(data[end:])
    engine = ENGINES[e % len(ENGINES)]
    note, wasm, no_traps = "", None, (h >> 3) % 4 != 0
    if source == "smith-id":
        ident = n + 256 * (h >> 3)
        seed = hashlib.shake_128(b"itfuzz-smith-id %d" % ident).digest(ID_SEED_SIZE)
        note, no_traps = f"module id {ident}", ident % 4 != 0
    if source == "component":
        mods = _component_core_modules(seed)
        index = (h >> 3) % len(mods)
        wasm, note = mods[index], f"core module {index} of {len(mods)} in the round-trip component"
    else:
        try:
            wasm = smith(seed, reference_types=engine != "winch", disallow_traps=no_traps)
        except SmithFailed as e:
            note = str(e)
    if wasm is None:
        return CoreCase(source, seed, engine, None, None, (), note), end
    info = _module_info(wasm)
    funcs = info.funcs()
    order = list(range(len(funcs)))
    if funcs:
        order += [u.choose_index(len(funcs)) for _ in range(u.int_in_range(0, MAX_EXTRA_CALLS))]
    calls = tuple(CoreCall(funcs[i].name, tuple(_arg(u, t) for t in funcs[i].type[0]))
                  for i in order[:MAX_CALLS])
    return CoreCase(source, seed, engine, wasm, info, calls, note), end + u.front


def show_core_case(case: CoreCase) -> str:
    """The module as WAT and the call sequence."""
    head = [f"-- source: {case.source} ({len(case.seed)} seed bytes)"
            + (f"; {case.note}" if case.note else ""), f"-- engine: wasmtime/{case.engine}"]
    if case.wasm is None:
        return "\n".join(head + ["-- no module (input discarded)"])
    lines = head + ["-- calls --"] + [f"#{i}: {c}" for i, c in enumerate(case.calls)]
    return "\n".join(lines + ["-- module (WAT) --", wasm_to_wat(case.wasm)])


