"""The hostile-guest generator (`itfuzz.generators.hostile`, `hostile_components`): decoding is
total and deterministic, the component text is a function of (direction, signature) only, every
direction and adapter encoding pair is reachable, valid cases judge to values, and what was made
hostile (mutations, realloc answers) is what the case hands over."""
from __future__ import annotations

import dataclasses
import random
import struct
from collections import Counter

import pytest

from itfuzz.generators.hostile import (
    BASE,
    DIRECTIONS,
    REALLOC_ANSWERS,
    HostileCase,
    decode_hostile_case,
)
from itfuzz.generators.hostile_components import hostile_component_text
from itfuzz.model.case import ENCODINGS
from itfuzz.oracles.hostile import describe_case

SIZES = (0, 1, 2, 5, 8, 32, 128, 512, 1024)


def random_inputs(n: int, seed: int, sizes=SIZES) -> list[bytes]:
    rng = random.Random(seed)
    return [bytes(rng.getrandbits(8) for _ in range(rng.choice(sizes))) for _ in range(n)]


def canon(x):
    """A form of a case in which `==` is exact: floats by their bits (NaN payloads, -0.0),
    frozensets sorted, dataclasses by their fields."""
    if isinstance(x, float):
        return ("f64", struct.pack("<d", x))
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (type(x).__name__, tuple(canon(getattr(x, f.name)) for f in dataclasses.fields(x)))
    if isinstance(x, (tuple, list)):
        return (type(x).__name__, tuple(canon(v) for v in x))
    if isinstance(x, frozenset):
        return ("frozenset", tuple(sorted(map(repr, x))))
    return x


def type_prefix(data: bytes) -> int:
    """How many front bytes the direction, encoding(s) and types took (`Signature.key` is a
    marker byte followed by exactly those bytes)."""
    return len(decode_hostile_case(data).sig.key) - 1


# -- totality and determinism -------------------------------------------------------------------

def test_empty_input_decodes():
    for hostile in (True, False):
        case = decode_hostile_case(b"", hostile=hostile)
        assert isinstance(case, HostileCase)
        assert case.direction in DIRECTIONS
        assert case.note == ""
        assert case.expected.trap is None and case.expected.values is not None


def test_decoding_is_total_and_deterministic():
    seen = Counter()
    for data in random_inputs(1500, seed=1) + [b"\xff" * n for n in (1, 7, 64, 600)]:
        for hostile in (True, False):
            a = decode_hostile_case(data, hostile=hostile)
            b = decode_hostile_case(bytes(data), hostile=hostile)
            assert a is not b
            assert canon(a) == canon(b), data.hex()
            assert a.direction in DIRECTIONS and a.sig.encoding in ENCODINGS
            assert a.expected.trap is None or a.expected.values is None
            seen[a.direction] += 1
    assert set(seen) == set(DIRECTIONS)


def test_hostile_false_keeps_types_and_values():
    """The layout-agreement case of an input has the types and values of its hostile case."""
    for data in random_inputs(600, seed=2):
        h, v = decode_hostile_case(data), decode_hostile_case(data, hostile=False)
        assert (h.direction, h.sig) == (v.direction, v.sig)
        assert canon(h.values) == canon(v.values), data.hex()


# -- the component text depends only on (direction, signature) -----------------------------------

def test_component_text_depends_only_on_direction_and_signature():
    rng = random.Random(3)
    compared = Counter()
    for data in random_inputs(400, seed=3, sizes=(64, 256, 1024)):
        k = type_prefix(data)
        if k >= len(data) - 1:
            continue  # no value bytes to change
        case = decode_hostile_case(data)
        text = hostile_component_text(case.sig, case.direction)
        changed_values = False
        for _ in range(3):
            other = data[:k] + bytes(rng.getrandbits(8) for _ in range(len(data) - k))
            o = decode_hostile_case(other)
            assert (o.direction, o.sig) == (case.direction, case.sig), other.hex()
            assert hostile_component_text(o.sig, o.direction) == text, other.hex()
            changed_values |= canon((o.values, o.flat, o.image, o.answers)) != canon(
                (case.values, case.flat, case.image, case.answers))
        compared[case.direction] += changed_values
    # the value bytes did change what the guest hands over, in every direction
    assert all(compared[d] >= 20 for d in DIRECTIONS), compared


def test_component_text_names_no_value():
    """The text is the same for every case of a signature, so it cannot hold an image byte: the
    image, flat values and answers reach the guest through `init` at run time."""
    case = next(c for c in map(decode_hostile_case, random_inputs(200, seed=4))
                if c.direction == "lift-result" and len(c.image) >= 16)
    text = hostile_component_text(case.sig, case.direction)
    assert case.image[:16].hex() not in text
    assert '(export "init"' in text


# -- reachability --------------------------------------------------------------------------------

def test_every_direction_and_adapter_pair_is_reachable():
    directions, pairs = Counter(), Counter()
    for case in map(decode_hostile_case, random_inputs(3000, seed=5)):
        directions[case.direction] += 1
        if case.direction == "adapter":
            assert case.sig.shape == "composed" and case.sig.callee_encoding in ENCODINGS
            pairs[case.sig.encoding_pair] += 1
            text = hostile_component_text(case.sig, case.direction)
            caller, callee = case.sig.encoding_pair
            assert f"string-encoding={caller}" in text and f"string-encoding={callee}" in text
        else:
            assert case.sig.shape == "single"
    assert set(directions) == set(DIRECTIONS)
    assert min(directions.values()) > 3000 // 8, directions  # none starved
    assert set(pairs) == {(a, b) for a in ENCODINGS for b in ENCODINGS}, pairs


# -- valid cases ---------------------------------------------------------------------------------

def test_valid_cases_judge_to_values():
    verdicts = Counter()
    for data in random_inputs(3000, seed=6):
        case = decode_hostile_case(data, hostile=False)
        if case.note:  # the valid lowering needs more than the guest's one page
            continue
        assert case.mutations == ()
        assert set(case.answer_kinds) <= {"fresh"}
        assert case.expected.trap is None, (data.hex(), case.expected)
        assert case.expected.values is not None
        verdicts[case.direction] += 1
    assert set(verdicts) == set(DIRECTIONS)


def test_lift_values_of_a_valid_case_are_its_values():
    """With nothing hostile, lifting the valid image gives back the generated values."""
    from itfuzz.model.values import equal
    n = 0
    for data in random_inputs(800, seed=7):
        case = decode_hostile_case(data, hostile=False)
        if case.note or case.direction not in ("lift-result", "lift-args"):
            continue
        for t, want, got in zip(case.types, case.values, case.expected.values):
            assert equal(t, want, got), data.hex()
        n += 1
    assert n > 200


# -- what was made hostile is in the case ---------------------------------------------------------

def test_mutations_are_applied_to_what_the_guest_hands_over():
    kinds = Counter()
    for data in random_inputs(2000, seed=8):
        case = decode_hostile_case(data)
        valid = decode_hostile_case(data, hostile=False)
        if case.note or case.direction == "lower-args":
            assert case.mutations == ()
            continue
        flat, image = list(valid.flat), bytearray(valid.image)
        image.extend(bytes(len(case.image) - len(image)))
        for m in case.mutations:
            kinds[m.where] += 1
            if m.where == "flat":
                flat[m.at] = m.value
            elif m.where == "byte":
                image[m.at - BASE] = m.value
            else:
                image[m.at - BASE:m.at - BASE + 4] = m.value.to_bytes(4, "little")
        assert tuple(flat) == case.flat, data.hex()
        assert bytes(image) == case.image, data.hex()
        text = describe_case(case)
        for m in case.mutations:
            assert str(m) in text
        if not case.mutations:
            assert "mutations: none" in text
    assert set(kinds) == {"flat", "byte", "word"}, kinds


def test_realloc_answers_are_the_reallocs_of_the_verdict():
    kinds = Counter()
    for data in random_inputs(2000, seed=9):
        case = decode_hostile_case(data)
        if case.direction not in ("lower-args", "adapter") or case.note:
            assert case.answers == () and case.answer_kinds == ()
            continue
        assert len(case.answers) == len(case.answer_kinds)
        kinds.update(case.answer_kinds)
        # every answer the guest gives is a realloc call of the verdict, in order (a trap
        # verdict may stop right after the call whose answer trapped)
        assert [c.result for c in case.expected.reallocs] == [a & 0xFFFFFFFF for a in case.answers]
        if case.answers:
            text = describe_case(case)
            assert "realloc answers: " in text
            for k, a in zip(case.answer_kinds, case.answers):
                assert f"{k}={a:#x}" in text
    assert set(kinds) == set(REALLOC_ANSWERS), kinds


@pytest.mark.parametrize("direction", ["lower-args", "adapter"])
def test_hostile_answers_make_realloc_traps(direction):
    reasons = Counter()
    for data in random_inputs(3000, seed=10):
        case = decode_hostile_case(data)
        if case.direction == direction and case.expected.trap:
            reasons[case.expected.trap] += 1
    assert {"realloc-misaligned", "realloc-oob"} <= set(reasons), reasons
