"""Bytes → round-trip test case (`itfuzz.model.case`).

Input layout (structure first, values last, so byte mutations mostly change values and keep
hitting the compiled-component cache): component shape (single or composed), call shape, string
encoding (and the callee's, when composed), types, engine configuration, lane (together: the
structure, `decode_head`), then the values of as many calls as the bytes pay for
(`generators.calls`).
"""
from __future__ import annotations

from dataclasses import replace

from itfuzz.generators.calls import decode_calls, model_call
from itfuzz.generators.engine_configs import decode_config
from itfuzz.generators.heads import HeadCache
from itfuzz.generators.typegen import TypeGen, label
from itfuzz.generators.unstructured import Unstructured
from itfuzz.model.case import (
    COMPONENT_SHAPES,
    ENCODINGS,
    ONE_FLAT,
    SHAPES,
    TWO_FLAT,
    TYPE_FUEL,
    Signature,
    TestCase,
)

# By the first byte's top 3 bits (its low bit picks the shape): how many host resource types
# (`itfuzz.model.resources`) the types may use; only first bytes 0x80-0x9f, which keeps what the
# shipped seeds decode to.
RESOURCE_COUNTS = (0, 0, 0, 0, 2, 0, 0, 0)
# First bytes 0xa0-0xbf of the single shape (even; no shipped seed had one) also put the guest
# resource `gr` in the types, with r0 and r1; composed ones keep decoding without resources.
GUEST_BYTES = 5


def decode_signature(u: Unstructured, shapes: tuple[str, ...] = COMPONENT_SHAPES,
                     maps: bool = False, resources: bool = False,
                     resource_types: int = 0, guest: bool = False) -> Signature:
    """The signature at the front of `u`; `shapes` limits the component shapes (one shape costs
    no input byte). `maps`: types may hold `map<K, V>` — always in the composed shape (the host
    sees `list<tuple<K, V>>`), in one single-shape input of 8 (the host sees the map).
    `resources`: types may hold handles of host resources (1 input of 8), and of the guest's
    `gr` (1 single-shape input of 16, `GUEST_BYTES`); `resource_types`: always that many host
    resource types (whatever the first byte); `guest`: always `gr` too (pass `shapes`
    ("single",): `gr` is in the single shape only)."""
    start = u.front
    first = u.int_in_range(0, 255) if len(shapes) > 1 else 0
    component_shape = shapes[first % len(shapes)]
    composed = component_shape == "composed"
    guest = guest or (resources and not composed and first >> 5 == GUEST_BYTES)
    sig = _signature(u, composed, maps and (composed or not u.ratio(7, 8)),
                     resource_types or (RESOURCE_COUNTS[first >> 5] if resources else 0)
                     or (2 if guest else 0), guest)
    exhausted = b"\1" if u.is_empty() else b"\0"
    return replace(sig, key=exhausted + u.data[start:u.front], count_post_return=True)


def _signature(u: Unstructured, composed: bool, maps: bool, resources: int = 0,
               guest: bool = False) -> Signature:
    shape = u.choose(SHAPES)
    encoding = u.choose(ENCODINGS)
    form = "composed" if composed else "single"
    callee_encoding = u.choose(ENCODINGS) if composed else None
    tg = TypeGen(u, fuel=TYPE_FUEL, maps=maps, resources=resources, guest=guest)
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


# The custom mutator's structure-edit rate for round-trip inputs (`generators.mutator`): compiled-
# component cache hits >= 90 % in 120 s libFuzzer runs (bench_throughput, with 5a0af85: 1 in 4
# 87 %, 1 in 5 90.7 %, 1 in 6 91.9-92.4 % in 3 runs, 1 in 8 93.7 %); fewer structure edits give
# fewer new signatures per input (see README, Benchmarks). 1 in 5 since the precompile helper
# (`engines.precompile`) made most misses a disk load: 90.4-91.2 % hits in 5 runs, 1,200-1,450
# new components a minute vs 990-1,155 at 1 in 6.
STRUCTURE_ONE_IN = 5

# The lane of a case: the C API for most inputs, wasmtime-py for a steady share.
LANES = ("c", "c", "c", "py")


def decode_head(u: Unstructured) -> TestCase:
    """The structure at the front of `u`, a case without calls: signature, engine configuration,
    lane (add a step here, in that order). Every step reads from the front only (no
    `arbitrary_len`), so the structure is a prefix of the input (`values_start`), which the
    custom mutator keeps and the compiled-component cache relies on."""
    sig = decode_signature(u, maps=True, resources=True)
    config = decode_config(u)
    return TestCase(sig, (), config, lane=u.choose(LANES))


HEADS: HeadCache[TestCase] = HeadCache(decode_head)


def values_start(data: bytes) -> int:
    """Where the values of a round-trip input start: the length of its structure prefix."""
    return HEADS.end(data)


def signature_end(data: bytes) -> int:
    """Where the engine configuration starts: the length of the signature's bytes."""
    return len(HEADS.decode(data)[0].sig.key) - 1  # the key: an exhausted flag, then the bytes


def decode_roundtrip(data: bytes) -> TestCase:
    """The test case these bytes stand for; total and deterministic."""
    head, u = HEADS.decode(data)
    sig = head.sig
    calls = decode_calls(u, model_call([t for _, t in sig.params], sig.result, sig.echo))
    return replace(head, calls=calls)
