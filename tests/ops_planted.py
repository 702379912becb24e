"""Planted findings for the fuzzing-operation tests (`test_ops_*.py`).

Two faults go in through the round-trip oracle's `transform` hook: every top-level `string`
argument reaches the host with "!" appended, and every top-level `bool` argument negated. Inputs
are picked deterministically (fixed-seed bytes) so that each shows exactly one of the two.
"""
from __future__ import annotations

import random

from itfuzz import targets
from itfuzz.oracles.roundtrip import RoundTripOracle

NAME = "planted_roundtrip"
SIG_STRING = "host-arg-mismatch|string:value:str->str"
SIG_BOOL = "host-arg-mismatch|bool:value:bool->bool"


def _fault(entry) -> None:
    for i, (_, t) in enumerate(entry.sig.params):
        if t.kind == "string":
            entry.params_in[i] = lambda v: v + "!"
        elif t.kind == "bool":
            entry.params_in[i] = lambda v: not v


def make_target():
    t = targets.get("component_roundtrip")
    t.name = NAME
    t.make_oracle = lambda: RoundTripOracle(cache_size=16, transform=_fault)
    return t


def install(monkeypatch) -> None:
    monkeypatch.setitem(targets.FACTORIES, NAME, make_target)


def _kinds(target, data: bytes) -> set:
    return {t.kind for _, t in target.decode(data).sig.params}


def inputs(kind: str, n: int, min_len: int = 0, seed: int = 7, both: bool = False) -> list[bytes]:
    """`n` inputs with a top-level param of `kind` ("string" or "bool") and none of the other
    kind (with `both`: one of each kind), at least `min_len` bytes long (decoding only; the
    tests check the outcome)."""
    other = {"string": "bool", "bool": "string"}[kind]
    target = make_target()
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        data = bytes(rng.getrandbits(8) for _ in range(rng.choice((24, 64, 200, 400))))
        kinds = _kinds(target, data)
        if len(data) >= min_len and kind in kinds and (other in kinds) == both:
            out.append(data)
    return out


def clean_input(seed: int = 11) -> bytes:
    """An input with no top-level string or bool param (no planted fault applies)."""
    target = make_target()
    rng = random.Random(seed)
    while True:
        data = bytes(rng.getrandbits(8) for _ in range(rng.choice((24, 64, 200))))
        if not _kinds(target, data) & {"string", "bool"}:
            return data
