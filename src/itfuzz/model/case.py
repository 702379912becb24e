"""A round-trip test case: a signature with its canonical options, and the values of each call
(decoded from bytes by `itfuzz.generators.signatures`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from itfuzz.model.engine_config import EngineConfig
from itfuzz.model.resources import guest_as_u32, has_guest, resource_ids, resource_wit
from itfuzz.model.types import (
    MAX_FLAT_PARAMS,
    MAX_FLAT_RESULTS,
    PRIMS,
    Names,
    Option,
    Tuple,
    Type,
    walk,
    without_maps,
)

ENCODINGS = ("utf8", "utf16", "latin1+utf16")
COMPONENT_SHAPES = ("single", "composed")  # one component, or Wasmtime's caller + callee
SHAPES = ("echo", "echo", "multi", "boundary")
MAX_CALLS = 256  # per input, on one compiled component (`generators.calls`)
TYPE_FUEL = 200
VALUE_FUEL = 1500  # value nodes per call
VALUE_BUDGET = 12000  # value nodes (+ a few per call) per input
ONE_FLAT = tuple(PRIMS[n] for n in ("u32", "s64", "f32", "f64", "bool", "char", "u8"))
TWO_FLAT = (PRIMS["string"], Option(PRIMS["u8"]), Tuple((PRIMS["f32"], PRIMS["u64"])))


@dataclass(frozen=True)
class Signature:
    """A function type plus the string encoding of its canonical options.

    `shape` "single": one component forwards the export `f` to the host import `g`. "composed":
    an outer component links a callee (imports `g`, string-encoding=`callee_encoding`) and a
    caller (imports the callee's `f`, string-encoding=`encoding`) and exports the caller's `f`.
    `count_post_return`: the post-return function also counts its runs, exported as
    `post-return-count` (and `callee-post-return-count` when composed).
    """

    params: tuple[tuple[str, Type], ...]
    result: Type | None
    encoding: str = "utf8"
    echo: bool = False  # the host returns its (single) argument
    # The input bytes that decoded to this signature: a cheap, exact cache key.
    key: bytes = field(default=b"", compare=False, hash=False, repr=False)
    shape: str = "single"
    callee_encoding: str | None = None  # composed only
    count_post_return: bool = False

    def __post_init__(self) -> None:
        if self.shape not in COMPONENT_SHAPES:
            raise ValueError(f"unknown component shape {self.shape!r}")
        if (self.shape == "composed") != (self.callee_encoding is not None):
            raise ValueError("callee_encoding is set exactly for the composed shape")
        for enc in (self.encoding, self.callee_encoding):
            if enc is not None and enc not in ENCODINGS:
                raise ValueError(f"unknown string encoding {enc!r}")
        if self.shape == "composed" and self.guest:
            raise ValueError("the guest resource gr is in the single shape only")

    @property
    def encoding_pair(self) -> tuple[str, str]:
        """(caller, callee) string encodings; both are `encoding` in the single shape."""
        return (self.encoding, self.callee_encoding or self.encoding)

    @cached_property
    def flat_params(self) -> tuple[str, ...]:
        return tuple(f for _, t in self.params for f in t.flat)

    @cached_property
    def flat_results(self) -> tuple[str, ...]:
        return self.result.flat if self.result is not None else ()

    @property
    def spills_params(self) -> bool:
        return len(self.flat_params) > MAX_FLAT_PARAMS

    @property
    def uses_retptr(self) -> bool:
        return len(self.flat_results) > MAX_FLAT_RESULTS

    @cached_property
    def param_tuple(self) -> Tuple:
        return Tuple(tuple(t for _, t in self.params))

    @cached_property
    def names(self) -> Names:
        """Names of the named types, those of the host-facing forms (`host_type`) included."""
        roots = [t for _, t in self.params] + ([self.result] if self.result is not None else [])
        return Names(roots + [self.host_type(t) for t in roots] + [self.g_type(t) for t in roots])

    @cached_property
    def resources(self) -> tuple[int, ...]:
        """The host resource types (indices) its types use (checked on every call: cached)."""
        return resource_ids(self.types())

    @cached_property
    def guest(self) -> bool:
        """Whether its types hold handles of the guest-defined resource `gr` (single shape)."""
        return any(has_guest(t) for t in self.types())

    @cached_property
    def has_maps(self) -> bool:
        return any(n.kind == "map" for t in self.types() for n in walk(t))

    def host_type(self, t: Type) -> Type:
        """The type the host sees for `t`: in the composed shape maps cross only between caller
        and callee, the host-facing `f` and `g` take `list<tuple<K, V>>` instead."""
        return without_maps(t) if self.shape == "composed" else t

    def g_type(self, t: Type) -> Type:
        """The type of the host import `g` for `t` (the host-facing form, with every `gr` handle
        a `u32`: an import cannot name the resource its component defines)."""
        return guest_as_u32(self.host_type(t))

    def types(self) -> list[Type]:
        return [t for _, t in self.params] + ([self.result] if self.result is not None else [])

    def wit(self) -> str:
        params = ", ".join(f"{n}: {t.wit(self.names)}" for n, t in self.params)
        res = f" -> {self.result.wit(self.names)}" if self.result is not None else ""
        decls = self.names.wit_decls()
        head = f"// string-encoding={self.encoding}\n"
        if self.shape == "composed":
            head = (f"// composed: caller string-encoding={self.encoding}, "
                    f"callee string-encoding={self.callee_encoding}\n")
            if self.has_maps:
                head += "// maps cross the caller-callee adapter; the host sees list<tuple<K, V>>\n"
        if self.guest:
            head += "// g (the host import) has u32 reps where f has gr handles\n"
        head += resource_wit(self.types())
        return head + (decls + "\n" if decls else "") + f"f: func({params}){res};"


@dataclass(frozen=True)
class Call:
    args: tuple
    ret: Any  # what the host returns (the argument itself for an echo)
    nodes: int = field(default=0, compare=False)  # value fuel its decoding spent (a cost bound)


@dataclass(frozen=True)
class TestCase:
    sig: Signature
    calls: tuple[Call, ...]
    config: EngineConfig | None = None  # the engine it runs on (None: Wasmtime's default)
    lane: str = "py"  # "c": through Wasmtime's C API (itfuzz.engines.capi), "py": wasmtime-py
