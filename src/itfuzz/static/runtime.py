"""Run-time support of the generated static cases (`itfuzz.static.cases`, see `itfuzz.static.gen`).

The generated code is typed and straight-line; what it shares lives here: the generic `Some`,
`Ok` and `Err` classes for option and result values, the base of flags classes, the draws of
primitive values (the same draws as `values.ValueGen`, so a static case and the dynamic model
agree byte for byte), the resource handles' draw and conversions (the dynamic oracle's), the
shape errors of the conversions from wasmtime-py, and `StaticCase`, one entry of the generated
case table.
"""
from __future__ import annotations

import importlib
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from itfuzz.engines.wasmtime_values import ShapeError, from_wasmtime, to_wasmtime
from itfuzz.generators.valuegen import ValueGen, char_value, f32_value, f64_value, int_value
from itfuzz.model.case import Signature
from itfuzz.model.resources import AnyHandle, Res

T = TypeVar("T")


@dataclass(frozen=True)
class Some(Generic[T]):
    """`some(value)` of an `option<T>` (`none` is `None`)."""

    value: T


@dataclass(frozen=True)
class Ok(Generic[T]):
    """`ok(value)` of a `result`; `value` is None when the case has no payload."""

    value: T = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Err(Generic[T]):
    """`err(value)` of a `result`; `value` is None when the case has no payload."""

    value: T = None  # type: ignore[assignment]


class FlagsBase:
    """Base of generated flags classes (frozen dataclasses of one `bool` per flag)."""

    def __repr__(self) -> str:
        on = [f.name for f in fields(self) if getattr(self, f.name)]  # type: ignore[arg-type]
        return f"{type(self).__name__}({', '.join(on)})"


# Primitive draws: same fuel and bytes as `ValueGen.gen` on a primitive type.
def arb_bool(g: ValueGen) -> bool:
    g.fuel -= 1
    return g.u.bool()


def _int_draw(lo: int, hi: int) -> Callable[[ValueGen], int]:
    def draw(g: ValueGen) -> int:
        g.fuel -= 1
        return int_value(g.u, lo, hi)
    return draw


arb_s8 = _int_draw(-(1 << 7), (1 << 7) - 1)
arb_u8 = _int_draw(0, (1 << 8) - 1)
arb_s16 = _int_draw(-(1 << 15), (1 << 15) - 1)
arb_u16 = _int_draw(0, (1 << 16) - 1)
arb_s32 = _int_draw(-(1 << 31), (1 << 31) - 1)
arb_u32 = _int_draw(0, (1 << 32) - 1)
arb_s64 = _int_draw(-(1 << 63), (1 << 63) - 1)
arb_u64 = _int_draw(0, (1 << 64) - 1)


def arb_f32(g: ValueGen) -> float:
    g.fuel -= 1
    return f32_value(g.u)


def arb_f64(g: ValueGen) -> float:
    g.fuel -= 1
    return f64_value(g.u)


def arb_char(g: ValueGen) -> str:
    g.fuel -= 1
    return char_value(g.u)


def arb_string(g: ValueGen) -> str:
    g.fuel -= 1
    return g.string()


def arb_handle(g: ValueGen) -> Res:
    g.fuel -= 1
    return g.resource()


def handle_to(t: AnyHandle) -> Callable[[Res], Any]:
    """Typed (= model) handle → wasmtime-py: the dynamic oracle's converter, which makes the
    `ResourceHost` / `ResourceAny` per call and records what was sent (`engines.resources`, for
    `gr` `engines.guest_handles`)."""
    return to_wasmtime(t)


@lru_cache(maxsize=4096)
def handle_from(t: AnyHandle, path: str) -> Callable[[Any], Res]:
    """wasmtime-py → typed handle at `path`: the dynamic oracle's converter (takes the handle
    out of the host's table or ends the borrow; `ShapeError` on a wrong object, ownership or
    resource type). Cached per (type, path): the generated paths are few."""
    return from_wasmtime(t, path)


def same(v: Any) -> Any:
    """The conversion of a primitive (both ways; leaves are kept as they are)."""
    return v


def same_from(x: Any, path: str) -> Any:
    return x


# Shape errors of the conversions from wasmtime-py (messages as in `wasmtime_values`).
def wrong_class(x: Any, cls: type, path: str) -> ShapeError:
    return ShapeError(f"{path}: expected a {cls.__name__}, got {type(x).__name__} {x!r}")


def wrong_fields(got, want, path: str) -> ShapeError:
    return ShapeError(f"{path}: record fields {sorted(got)} != {sorted(want)}")


def wrong_length(x: tuple, n: int, path: str) -> ShapeError:
    return ShapeError(f"{path}: tuple of {len(x)} elements, expected {n}")


def unknown_case(tag: Any, path: str) -> ShapeError:
    return ShapeError(f"{path}: unknown case {tag!r}")


def payload_on_empty_case(payload: Any, path: str) -> ShapeError:
    return ShapeError(f"{path}: payload {payload!r} on payload-less case")


def no_case(x: Any, path: str) -> ShapeError:
    return ShapeError(f"{path}: {x!r} fits no case")


def unknown_flags(x: set, labels: frozenset, path: str) -> ShapeError:
    return ShapeError(f"{path}: unknown flags {sorted(map(repr, x - labels))}")


@dataclass(frozen=True)
class Conv:
    """The generated functions of one parameter or result type."""

    arb: Callable[[ValueGen], Any]          # Unstructured (through ValueGen) → typed value
    to_wasmtime: Callable[[Any], Any]       # typed value → wasmtime-py value
    from_wasmtime: Callable[[Any, str], Any]  # wasmtime-py value, path → typed value
    to_model: Callable[[Any], Any]          # typed value → `values` model value


PRIM_CONV = {name: Conv(globals()[f"arb_{name}"], same, same_from, same)
             for name in ("bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32",
                          "f64", "char", "string")}


@dataclass(frozen=True)
class StaticCase:
    """One generated test case: signature (as the type model, for reports and checks),
    component text and the typed functions of its parameters and result (and, when its types
    hold the guest's `gr`, of the parameters as the host's `g` receives them: `Signature.g_type`,
    a `u32` rep per `gr` handle)."""

    index: int
    sig: Signature
    params: tuple[Conv, ...]
    result: Conv | None
    wat: str
    g_params: tuple[Conv, ...] | None = None  # None: `g` receives `f`'s types


class CaseTable(Sequence):
    """The cases of a generated package, loaded shard by shard on first use.

    Under atheris (the fuzz target), a shard loaded during fuzzing is instrumented like the
    rest of the package, so its straight-line code gives coverage feedback too.
    """

    def __init__(self, package: str, count: int, shard: int, plain: int | None = None,
                 resources: int | None = None) -> None:
        self.package = package
        self.count = count
        self.plain = count if plain is None else plain  # the first `plain` use no resources
        # then `resources` with host handles; the rest (`guest`) hold the guest's `gr`
        self.resources = count - self.plain if resources is None else resources
        self.guest = count - self.plain - self.resources
        self.shard = shard
        self._shards: dict[int, Any] = {}
        self._wat: list[str] | None = None

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.count))]
        if not 0 <= i < self.count:
            raise IndexError(f"static case {i} out of range 0..{self.count - 1}")
        n = i // self.shard
        mod = self._shards.get(n)
        if mod is None:
            mod = self._shards[n] = _import(f"{self.package}._s{n:03d}")
        return mod.CASES[i % self.shard]

    def wat(self, i: int) -> str:
        """The component text of case i (all texts are stored zlib-compressed together)."""
        if self._wat is None:
            blob = (Path(sys.modules[self.package].__file__).parent / "_wat.zlib").read_bytes()
            self._wat = zlib.decompress(blob).decode().split("\0")
        return self._wat[i]

    def load_all(self) -> None:
        for i in range(0, self.count, self.shard):
            self[i]


def _import(name: str):
    atheris = sys.modules.get("atheris")
    if atheris is not None and hasattr(atheris, "instrument_imports"):
        with atheris.instrument_imports(include=[name.rsplit(".", 1)[0]]):
            return importlib.import_module(name)
    return importlib.import_module(name)
