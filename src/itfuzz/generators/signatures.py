"""Bytes → round-trip test case (`itfuzz.model.case`).

Input layout (structure first, values last, so byte mutations mostly change values and keep
hitting the compiled-component cache): component shape (single or composed), call shape, string
encoding (and the callee's, when composed), types, call count, then values.
"""
from __future__ import annotations

from dataclasses import replace

from itfuzz.generators.engine_configs import decode_config
from itfuzz.generators.typegen import TypeGen, label
from itfuzz.generators.unstructured import Unstructured
from itfuzz.generators.valuegen import ValueGen
from itfuzz.model.case import (
    COMPONENT_SHAPES,
    ENCODINGS,
    MAX_CALLS,
    ONE_FLAT,
    SHAPES,
    TWO_FLAT,
    TYPE_FUEL,
    VALUE_FUEL,
    Call,
    Signature,
    TestCase,
)

# By the first byte's top 3 bits (its low bit picks the shape): how many host resource types
# (`itfuzz.model.resources`) the types may use; only first bytes 0x80-0x9f, which keeps what the
# shipped seeds decode to.
RESOURCE_COUNTS = (0, 0, 0, 0, 2, 0, 0, 0)


def decode_signature(u: Unstructured, shapes: tuple[str, ...] = COMPONENT_SHAPES,
                     maps: bool = False, resources: bool = False) -> Signature:
    """The signature at the front of `u`; `shapes` limits the component shapes (one shape costs
    no input byte). `maps`: types may hold `map<K, V>` — always in the composed shape (the host
    sees `list<tuple<K, V>>`), in one single-shape input of 8 (the host sees the map).
    `resources`: types may hold handles of host resources (1 input of 8)."""
    start = u.front
    first = u.int_in_range(0, 255) if len(shapes) > 1 else 0
    component_shape = shapes[first % len(shapes)]
    composed = component_shape == "composed"
    sig = _signature(u, composed, maps and (composed or not u.ratio(7, 8)),
                     RESOURCE_COUNTS[first >> 5] if resources else 0)
    exhausted = b"\1" if u.is_empty() else b"\0"
    return replace(sig, key=exhausted + u.data[start:u.front], count_post_return=True)


def _signature(u: Unstructured, composed: bool, maps: bool, resources: int = 0) -> Signature:
    shape = u.choose(SHAPES)
    encoding = u.choose(ENCODINGS)
    form = "composed" if composed else "single"
    callee_encoding = u.choose(ENCODINGS) if composed else None
    tg = TypeGen(u, fuel=TYPE_FUEL, maps=maps, resources=resources)
    if shape == "echo":
        tg.borrows = False  # the parameter's type is also the result's
        t = tg.gen()
        return Signature((("x", t),), t, encoding, echo=True, shape=form,
                         callee_encoding=callee_encoding)
    style = u.int_in_range(0, 5)
    if shape == "multi":
        params = [tg.gen() for _ in range(u.int_in_range(0, 5))]
        tg.borrows = False  # results hold no borrows
        result = tg.gen() if u.bool() else None
    else:  # flat-count boundaries: 15/16/17 flat params, 0/1/2 flat results
        target = u.choose((15, 16, 17))
        params = [tg.gen() for _ in range(u.int_in_range(0, 2))]
        while sum(len(t.flat) for t in params) < target:
            params.append(u.choose(ONE_FLAT))
        result = u.choose((None, u.choose(ONE_FLAT), u.choose(TWO_FLAT)))
    named = tuple((label(i, style), t) for i, t in enumerate(params))
    return Signature(named, result, encoding, shape=form, callee_encoding=callee_encoding)


# The lane of a case: the C API for most inputs, wasmtime-py for a steady share.
LANES = ("c", "c", "c", "py")


def decode_roundtrip(data: bytes) -> TestCase:
    """The test case these bytes stand for; total and deterministic."""
    u = Unstructured(data)
    sig = decode_signature(u, maps=True, resources=True)
    config = decode_config(u)
    lane = u.choose(LANES)
    n_calls = u.int_in_range(1, MAX_CALLS)
    vg = ValueGen(u, fuel=VALUE_FUEL)
    calls = []
    for _ in range(n_calls):
        args = tuple(vg.gen(t) for _, t in sig.params)
        if sig.echo:
            ret = args[0]
        else:
            ret = vg.gen(sig.result) if sig.result is not None else None
        calls.append(Call(args, ret))
    return TestCase(sig, tuple(calls), config, lane=lane)
