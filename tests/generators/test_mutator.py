"""The structure-keeping mutator (`generators.mutator`), measured over seeded streams."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from itfuzz import targets
from itfuzz.generators.engine_configs import decode_config
from itfuzz.generators.mutator import (
    REST_ONE_IN,
    STRUCTURE_ONE_IN,
    crossover,
    mutate,
    structure_turn,
)
from itfuzz.generators.signatures import (
    HEADS,
    decode_roundtrip,
    decode_signature,
    signature_end,
    values_start,
)
from itfuzz.generators.unstructured import Unstructured

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "component_roundtrip"
MAX_SIZE = 4096


def structure(data: bytes):
    """What the compiled component depends on: the decoded head (signature, …)."""
    return HEADS.decode(data)[0]


CACHE_FIRST = 12  # ITFUZZ_MUTATOR=12: the rate at which >= 90 % of mutations keep the structure


def stream(n: int, seed: int = 1, one_in: int = STRUCTURE_ONE_IN):
    """A libFuzzer-like stream: start from the seeds, mutate a random earlier input each time."""
    rng = random.Random(seed)
    pool = [p.read_bytes() for p in sorted(CORPUS.iterdir())]
    for _ in range(n):
        data = rng.choice(pool)
        out = mutate(data, MAX_SIZE, rng.getrandbits(32), values_start, one_in)
        pool.append(out)
        yield data, out


def test_mutations_keep_the_structure_at_least_90_percent():
    kept = total = 0
    for data, out in stream(1500, one_in=CACHE_FIRST):
        total += 1
        kept += structure(out) == structure(data)
    assert kept / total >= 0.90, f"structure kept in {kept} of {total} mutations"


def test_structure_mutations_happen():
    changed = sum(structure(out) != structure(data) for data, out in stream(600, seed=2))
    assert changed >= 600 // STRUCTURE_ONE_IN // 2


def test_mutator_is_deterministic_and_bounded():
    rng = random.Random(9)
    for data, _ in stream(300, seed=3):
        seed, size = rng.getrandbits(32), rng.choice((8, 64, MAX_SIZE))
        a = mutate(data, size, seed, values_start)
        assert a == mutate(data, size, seed, values_start)
        assert len(a) <= size


def test_values_grow_into_more_calls():
    """Repeated value edits reach inputs with many calls (range copies add calls)."""
    most = max(len(decode_roundtrip(out).calls) for _, out in stream(800, seed=4))
    assert most > 20


def test_crossover_keeps_the_first_structure():
    rng = random.Random(5)
    pool = [p.read_bytes() for p in sorted(CORPUS.iterdir())]
    same = total = 0
    for _ in range(300):
        a, b = rng.choice(pool), rng.choice(pool)
        seed = rng.getrandbits(32)
        out = crossover(a, b, MAX_SIZE, seed, values_start)
        assert out == crossover(a, b, MAX_SIZE, seed, values_start)
        assert len(out) <= MAX_SIZE
        total += 1
        same += structure(out) == structure(a)
    assert same / total >= 0.90


def _heads():
    from itfuzz.engines.invalid_values import misuse_head
    from itfuzz.generators.hostile import hostile_head
    from itfuzz.static.decode import static_head
    return {"host_api_misuse": misuse_head, "component_hostile": hostile_head,
            "component_static": static_head}


@pytest.mark.parametrize("name", ["component_static", "host_api_misuse", "component_hostile"])
def test_other_targets_keep_their_structure(name):
    """The same mutator on the other targets with a structure split: their seeds' structure
    (static case, signature, direction, engine configuration) survives >= 90 % of mutations at
    the cache-first rate."""
    head_of, end = _heads()[name], targets.get(name).structure_end
    assert end is not None

    def head(data):
        out = head_of(Unstructured(data))
        return repr(out)
    rng = random.Random(6)
    pool = [p.read_bytes() for p in sorted((CORPUS.parent / name).iterdir())]
    kept = total = 0
    for _ in range(400):
        data = rng.choice(pool)
        out = mutate(data, MAX_SIZE, rng.getrandbits(32), end, CACHE_FIRST)
        pool.append(out)
        total += 1
        kept += head(out) == head(data)
    assert kept / total >= 0.90, f"{name}: structure kept in {kept} of {total}"


def test_structure_rate_is_a_setting():
    """`structure_one_in` (ITFUZZ_MUTATOR=N) sets how often the structure changes."""
    rng = random.Random(3)
    pool = [p.read_bytes() for p in sorted(CORPUS.iterdir())]
    changed = {}
    for one_in in (2, 50):
        n = 0
        for _ in range(600):
            data = rng.choice(pool)
            out = mutate(data, MAX_SIZE, rng.getrandbits(32), values_start, one_in)
            n += structure(out) != structure(data)
        changed[one_in] = n
    assert changed[2] > 4 * changed[50], changed


def test_mutator_setting_from_the_environment(monkeypatch):
    from itfuzz import fuzzing
    target = targets.get("component_roundtrip")
    monkeypatch.setenv(fuzzing.MUTATOR_ENV, "0")
    assert fuzzing.mutator_hooks(target) == {}
    monkeypatch.setenv(fuzzing.MUTATOR_ENV, "3")
    hooks = fuzzing.mutator_hooks(target)
    data = next(iter(sorted(CORPUS.iterdir()))).read_bytes()
    outs = [hooks["custom_mutator"](data, MAX_SIZE, seed) for seed in range(300)]
    changed = sum(structure(o) != structure(data) for o in outs)
    assert 40 < changed < 200, changed  # about 1 in 3 (some edits decode to the same head)
    monkeypatch.setenv(fuzzing.MUTATOR_ENV, "2.5")  # rates need not be whole numbers
    hooks = fuzzing.mutator_hooks(target)
    changed = sum(structure(hooks["custom_mutator"](data, MAX_SIZE, seed)) != structure(data)
                  for seed in range(300))
    assert 60 < changed < 240, changed  # about 2 in 5
    for bad in ("1", "x", "nan", "inf", "1.9"):
        monkeypatch.setenv(fuzzing.MUTATOR_ENV, bad)
        with pytest.raises(SystemExit, match="ITFUZZ_MUTATOR"):
            fuzzing.mutator_hooks(target)


def parts(data: bytes):
    """(signature, engine configuration, lane) an input decodes to."""
    head = structure(data)
    return head.sig, head.config, head.lane


def structure_edits(n: int, seed: int, sig_end):
    """`n` (input, mutation) pairs where every mutation edits the structure."""
    rng = random.Random(seed)
    pool = [p.read_bytes() for p in sorted(CORPUS.iterdir())]
    for _ in range(n):
        data = rng.choice(pool)
        out = mutate(data, MAX_SIZE, rng.getrandbits(32), values_start, 1,
                     signature_end=sig_end)
        pool.append(out)
        yield data, out


def test_a_signature_edit_keeps_the_configuration_and_lane():
    """With `signature_end`, a structure edit changes the signature; only about 1 in
    `REST_ONE_IN` also changes the rest (engine configuration, lane)."""
    sig = rest = 0
    for data, out in structure_edits(600, 7, signature_end):
        (s0, c0, l0), (s1, c1, l1) = parts(data), parts(out)
        sig += s0 != s1
        rest += (c0, l0) != (c1, l1)
    assert sig >= 450 and 30 <= rest <= 600 // REST_ONE_IN, (sig, rest)


def test_without_signature_end_signature_edits_move_the_configuration():
    """Why the split exists: editing the structure as one often changes both."""
    both = sum(parts(d)[0] != parts(o)[0] and parts(d)[1:] != parts(o)[1:]
               for d, o in structure_edits(600, 7, None))
    assert both >= 100, both


def test_signature_end_is_where_the_configuration_starts():
    for p in sorted(CORPUS.iterdir())[:40]:
        data = p.read_bytes() + bytes(64)
        end = signature_end(data)
        sig = decode_signature(Unstructured(data), maps=True, resources=True)
        assert data[:end] == sig.key[1:]
        u = Unstructured(data[end:])
        assert decode_config(u) == structure(data).config


def test_section_edits_are_deterministic_and_bounded():
    rng = random.Random(8)
    for data, _ in structure_edits(200, 9, signature_end):
        seed, size = rng.getrandbits(32), rng.choice((8, 64, MAX_SIZE))
        a = mutate(data, size, seed, values_start, 1, signature_end=signature_end)
        assert a == mutate(data, size, seed, values_start, 1, signature_end=signature_end)
        assert len(a) <= size


def test_round_trip_inputs_edit_the_structure_at_their_own_rate(monkeypatch):
    """component_roundtrip's hooks use its own rate (1 in 5, not the default 1 in 4)."""
    from itfuzz import fuzzing
    from itfuzz.generators.signatures import STRUCTURE_ONE_IN as ROUNDTRIP_ONE_IN
    monkeypatch.delenv(fuzzing.MUTATOR_ENV, raising=False)
    target = targets.get("component_roundtrip")
    assert target.structure_one_in == ROUNDTRIP_ONE_IN == 5 != STRUCTURE_ONE_IN
    assert targets.get("host_api_misuse").structure_one_in is None
    hooks = fuzzing.mutator_hooks(target)
    data = next(iter(sorted(CORPUS.iterdir()))).read_bytes()
    changed = sum(structure(hooks["custom_mutator"](data, MAX_SIZE, seed)) != structure(data)
                  for seed in range(600))
    assert 80 < changed < 135, changed  # about 1 in 5: ~117 (1 in 4 would be ~146)


def test_structure_turn_says_which_seeds_edit_the_structure():
    """`structure_turn(seed)` is `mutate`'s own choice; `values_only` keeps the structure at a
    structure turn and changes nothing else (the precompile deferral relies on both)."""
    data = next(iter(sorted(CORPUS.iterdir()))).read_bytes()
    turns = 0
    for seed in range(400):
        out = mutate(data, MAX_SIZE, seed, values_start, STRUCTURE_ONE_IN,
                     signature_end=signature_end)
        kept = mutate(data, MAX_SIZE, seed, values_start, STRUCTURE_ONE_IN,
                      signature_end=signature_end, values_only=True)
        assert structure(kept) == structure(data)
        if structure_turn(seed, STRUCTURE_ONE_IN):
            turns += 1
        else:
            assert out == kept
    assert 400 // STRUCTURE_ONE_IN // 2 < turns < 400 * 2 // STRUCTURE_ONE_IN
    assert [structure_turn(s, 1) for s in range(5)] == [True] * 5
