"""The structure-keeping mutator (`generators.mutator`) on differential_spec inputs: the module
part (header bytes and seed, `core_cases.module_end`) survives value mutations, so the cached
wasm-smith module and the compiled Wasmtime module are reused; structure mutations change the
module at the set rate. The bytes after those the decoder reads (`core_cases.read_end`) change
nothing and are dropped before editing."""
from __future__ import annotations

import random
from pathlib import Path

from itfuzz import fuzzing, targets
from itfuzz.generators.core_cases import decode_core_case, module_end, read_end
from itfuzz.generators.mutator import STRUCTURE_ONE_IN, crossover, mutate

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "differential_spec"
MAX_SIZE = 4096
NEVER = 1 << 62  # a structure_one_in at which no mutation of these streams edits the structure


def module_key(data: bytes) -> tuple:
    """What the oracle compiles and caches by: the engine and the module bytes."""
    case = decode_core_case(data)
    return case.engine, case.wasm


def seeds() -> list[bytes]:
    return [p.read_bytes() for p in sorted(CORPUS.iterdir())]


def stream(n: int, seed: int, end=module_end, one_in: int = STRUCTURE_ONE_IN, used=read_end):
    """A libFuzzer-like stream: start from the seeds, mutate a random earlier input each time."""
    rng = random.Random(seed)
    pool = seeds()
    for _ in range(n):
        data = rng.choice(pool)
        out = mutate(data, MAX_SIZE, rng.getrandbits(32), end, one_in, used)
        pool.append(out)
        yield data, out


def changed_modules(end, n: int = 200, seed: int = 1, one_in: int = NEVER,
                    used=read_end) -> tuple[int, int]:
    """(mutations that changed the module, mutations that changed the calls) over a stream."""
    modules = calls = 0
    for data, out in stream(n, seed, end, one_in, used):
        modules += module_key(out) != module_key(data)
        calls += decode_core_case(out).calls != decode_core_case(data).calls
    return modules, calls


def test_value_mutations_keep_the_module_and_change_the_calls():
    modules, calls = changed_modules(module_end)
    assert modules == 0
    assert calls >= 140, f"only {calls} of 200 value mutations changed a call"
    # without dropping the unread bytes, most edits land where the decoder never reads
    assert changed_modules(module_end, used=None)[1] < calls * 0.75


def test_read_end_is_where_decoding_stops():
    """Cutting an input after `read_end` keeps its case; a planted `read_end` one byte short
    (what would make the mutator drop bytes that count) is caught by the same check."""
    def cut_keeps_case(end) -> int:
        inputs = [out for _, out in stream(150, seed=4)]
        return sum(decode_core_case(d[:end(d)]) == decode_core_case(d) for d in inputs)
    assert cut_keeps_case(read_end) == 150
    assert cut_keeps_case(lambda d: read_end(d) - 1) < 150


def test_a_split_that_leaves_out_the_seed_is_caught():
    """Planted: a split that counts the seed bytes as values (everything after the header);
    value mutations then change the module, which the check above reports."""
    modules, _ = changed_modules(lambda data: 3)
    assert modules >= 10, f"only {modules} of 200 mutations changed the module"


def test_structure_mutations_change_the_module_at_the_set_rate():
    """About 1 mutation in `one_in` edits the structure; most such edits give another module
    or engine (the rest decode to the same one, e.g. an engine byte 0 -> 3)."""
    n = 400
    rates = {}
    for one_in in (2, STRUCTURE_ONE_IN, 12):
        modules, _ = changed_modules(module_end, n, seed=2, one_in=one_in)
        rates[one_in] = modules / n
        assert 0.4 / one_in <= rates[one_in] <= 1.1 / one_in, rates
    assert rates[2] > rates[STRUCTURE_ONE_IN] > rates[12], rates


def test_mutator_and_crossover_are_deterministic_and_keep_the_first_module():
    rng = random.Random(3)
    pool = seeds()
    for _ in range(150):
        a, b = rng.choice(pool), rng.choice(pool)
        seed, size = rng.getrandbits(32), rng.choice((8, 64, MAX_SIZE))
        out = mutate(a, size, seed, module_end, STRUCTURE_ONE_IN, read_end)
        assert out == mutate(a, size, seed, module_end, STRUCTURE_ONE_IN, read_end)
        assert len(out) <= size
        mixed = crossover(a, b, MAX_SIZE, seed, module_end, read_end)
        assert mixed == crossover(a, b, MAX_SIZE, seed, module_end, read_end)
        if len(a) > module_end(a):  # not padded: the same header and seed bytes
            assert module_key(mixed) == module_key(a)
        pool.append(out)


def test_the_fuzz_target_uses_the_module_split(monkeypatch):
    monkeypatch.delenv(fuzzing.MUTATOR_ENV, raising=False)
    target = targets.get("differential_spec")
    assert target.structure_end is module_end and target.read_end is read_end
    hooks = fuzzing.mutator_hooks(target)
    data = seeds()[0]
    outs = [hooks["custom_mutator"](data, MAX_SIZE, seed) for seed in range(40)]
    assert sum(o[:module_end(o)] == data[:module_end(data)] for o in outs) >= 20


def test_value_edits_reach_numbers_next_to_an_edge():
    """One mutation of zero bytes often gives a word a little below zero (-2..-255: no edge value
    of the decoder, two byte edits apart from one): a word changed by a small delta, or negated,
    is one edit (i32-small-negative in bench/planted.py needs such a value). Measured: 83 of 2000
    with that edit, 11 without it."""
    data = bytes(16)

    def near(out: bytes) -> bool:
        return any(0xFFFFFF01 <= int.from_bytes(out[i:i + 4], "little") <= 0xFFFFFFFE
                   for i in range(len(out) - 3))
    hits = sum(near(mutate(data, 64, seed, lambda d: 0, NEVER)) for seed in range(2000))
    assert hits >= 50, f"{hits} of 2000 mutations"
