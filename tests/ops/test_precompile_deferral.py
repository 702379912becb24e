"""The fuzzing side of precompiling (`fuzzing.Deferral`, `fuzzing.precompiler`): structure edits
are held back until their compile is done (one structure-edit turn when it always is) and each
returned exactly once, in order, never longer than `max_size`; value edits are the mutator's
own; a dying helper never makes the mutator raise; and `itfuzz fuzz` precompiles by default
(its stat lines)."""
from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest

from itfuzz import cli, fuzzing, targets
from itfuzz.engines import component_cache
from itfuzz.engines.precompile import MAX_RESTARTS, PLANT_ABORT_ENV
from itfuzz.generators import mutator
from itfuzz.generators.signatures import HEADS, signature_end, values_start

TARGET = "component_roundtrip"
CORPUS = Path(__file__).resolve().parents[2] / "corpus" / TARGET
ONE_IN = 3
BIG = 4096


def mutate(data: bytes, size: int, seed: int, values_only: bool = False) -> bytes:
    return mutator.mutate(data, size, seed, values_start, ONE_IN, signature_end=signature_end,
                          values_only=values_only)


def turn(seed: int) -> bool:
    return mutator.structure_turn(seed, ONE_IN)


def deferral_problems(make, n: int = 300) -> list[str]:
    """What is wrong with the deferral `make(mutate, turn, submit)` over a libFuzzer-like stream
    (a small `max_size` now and then, which a held-back edit may no longer fit). Held-back
    edits are told by identity: two edits may have the same bytes."""
    submitted: list[bytes] = []
    defer = make(mutate, turn, submitted.append)
    rng = random.Random(4)
    pool = [p.read_bytes() for p in sorted(CORPUS.iterdir())]
    problems, returned = [], []
    sizes: list[int] = []  # max_size at each structure turn
    for _ in range(n):
        data, seed, size = rng.choice(pool), rng.getrandbits(32), rng.choice((BIG, BIG, 40))
        out = defer(data, size, seed)
        if len(out) > size:
            problems.append(f"{len(out)} bytes for max_size {size}")
        if not turn(seed):
            if out != mutate(data, size, seed):
                problems.append("a value-edit turn is not the mutator's own")
            continue
        sizes.append(size)
        held = [i for i, edit in enumerate(submitted) if edit is out]  # the very object
        if held and held[0] == len(submitted) - 1:
            problems.append("a structure edit ran at once")
        if held:
            returned.append(held[0])
        elif out != mutate(data, size, seed, values_only=True):
            problems.append("neither a held-back edit nor a value edit")
        elif HEADS.decode(out)[0] != HEADS.decode(data)[0] and size == BIG:
            problems.append("a value edit changed the structure")
        pool.append(out)
    if returned != sorted(set(returned)):
        problems.append(f"held-back edits out of order or repeated: {returned}")
    expected = [i for i in range(len(submitted) - 1) if len(submitted[i]) <= sizes[i + 1]]
    if returned != expected:
        problems.append(f"held-back edits lost: {sorted(set(expected) - set(returned))}")
    return problems


def test_deferral_returns_each_structure_edit_once_in_order():
    assert deferral_problems(fuzzing.Deferral) == []


class _AtOnce(fuzzing.Deferral):
    def __call__(self, data, max_size, seed):
        out = self.mutate(data, max_size, seed, False)
        if self.structure_turn(seed):
            self.submit(out)
        return out


class _Twice(fuzzing.Deferral):
    def __call__(self, data, max_size, seed):
        first = self.pending[0] if self.pending else None
        out = super().__call__(data, max_size, seed)
        if first is not None and self.pending and self.pending[0] is not first:
            self.pending.appendleft(first)  # keeps the first edit: returned again and again
        return out


class _NoSizeCheck(fuzzing.Deferral):
    def __call__(self, data, max_size, seed):
        return super().__call__(data, 1 << 20, seed) if self.structure_turn(seed) \
            else super().__call__(data, max_size, seed)


@pytest.mark.parametrize("plant", [_AtOnce, _Twice, _NoSizeCheck])
def test_a_broken_deferral_is_caught(plant):
    assert deferral_problems(plant)


@pytest.fixture
def exit_hooks(monkeypatch, tmp_path):
    """The disk cache on in `tmp_path`; the closers and stats the precompiler registers, run
    and dropped after the test."""
    closers: list = []
    monkeypatch.setattr(fuzzing, "_closers", closers)
    monkeypatch.setattr(fuzzing, "_other_stats", [])
    monkeypatch.delenv(fuzzing.PRECOMPILE_ENV, raising=False)
    monkeypatch.delenv(fuzzing.MUTATOR_ENV, raising=False)
    component_cache.enable(tmp_path / "components")
    yield closers
    for close in closers:
        close()
    component_cache.disable()


def test_on_with_the_disk_cache_unless_told(exit_hooks, monkeypatch):
    target = targets.get(TARGET)
    assert isinstance(fuzzing.mutator_hooks(target, precompile=True)["custom_mutator"],
                      fuzzing.Deferral)
    assert not isinstance(fuzzing.mutator_hooks(target)["custom_mutator"], fuzzing.Deferral)
    assert fuzzing.precompiler(targets.get("differential_spec")) is None  # names no components
    monkeypatch.setenv(fuzzing.PRECOMPILE_ENV, "0")
    assert fuzzing.precompiler(target) is None
    monkeypatch.delenv(fuzzing.PRECOMPILE_ENV)
    monkeypatch.setattr(fuzzing.sys, "frozen", True, raising=False)  # a PyInstaller binary
    assert fuzzing.precompiler(target) is None
    monkeypatch.delattr(fuzzing.sys, "frozen")
    component_cache.disable()
    assert fuzzing.precompiler(target) is None
    assert len(exit_hooks) == 1  # only the first made a client


def test_a_dying_helper_never_reaches_the_mutator(exit_hooks, monkeypatch, tmp_path):
    monkeypatch.setenv(PLANT_ABORT_ENV, "1")
    monkeypatch.chdir(tmp_path)  # (no -artifact_prefix: the helper's records land here)
    target = targets.get(TARGET)
    custom = fuzzing.mutator_hooks(target, precompile=True)["custom_mutator"]
    pre = exit_hooks[0].__self__
    pool = [p.read_bytes() for p in sorted(CORPUS.iterdir())]
    rng = random.Random(5)
    for _ in range(400):
        out = custom(rng.choice(pool), BIG, rng.getrandbits(32))
        assert len(out) <= BIG
        if pre.proc is not None and pre.waiting:
            pre.proc.wait()  # it aborted on its request: the next one restarts it
    assert not pre.on and pre.stats["restarts"] == MAX_RESTARTS
    assert pre.stats["requests"] == MAX_RESTARTS + 1 and pre.stats["done"] == 0
    assert list(tmp_path.glob("precompile-died-*.txt"))  # what they were compiling


def test_a_target_that_cannot_name_its_component_is_skipped(exit_hooks, monkeypatch):
    target = targets.get(TARGET)
    pre = fuzzing.precompiler(target)

    def broken(oracle, data):
        raise RuntimeError("planted")
    monkeypatch.setattr(target, "component_of", broken)
    fuzzing.submit_component(pre, target, next(iter(CORPUS.iterdir())).read_bytes())
    assert pre.stats["requests"] == 0 and pre.on


def test_fuzz_precompiles_structure_edits(capfd, monkeypatch, repo_root, tmp_path):
    monkeypatch.delenv(fuzzing.DISK_CACHE_ENV, raising=False)
    monkeypatch.setenv(fuzzing.PRECOMPILE_ENV, "1")  # (one core: itfuzz fuzz would leave it off)
    monkeypatch.setenv("ITFUZZ_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in sorted((repo_root / "corpus" / TARGET).iterdir())[:4]:
        shutil.copy(f, corpus)
    rc = cli.main(["fuzz", TARGET, "-runs=150", "-seed=1", f"-artifact_prefix={tmp_path}/",
                   str(corpus)])
    _, err = capfd.readouterr()
    assert rc == 0, err[-3000:]
    stats = dict(re.findall(r"stat::itfuzz_precompile_(\w+): (\d+)", err))
    assert int(stats["requests"]) > 0 and int(stats["done"]) > 0, err[-2000:]
    assert int(stats["restarts"]) == 0


@pytest.mark.parametrize("flags,cores,off", [
    ([], 2, False), (["-fork=2"], 2, True), (["-fork=2"], 8, False), (["-fork=1"], 2, False),
    (["-jobs=4"], 2, False),  # libFuzzer: min(jobs, cores / 2) = 1 worker
    (["-jobs=4", "-workers=2"], 2, True), (["-jobs=8"], 4, False), (["-jobs=8", "-workers=4"], 4, True),
    (["-fork=x"], 2, False), (["-fork=2x"], 2, True),  # libFuzzer reads the leading digits
    (["-jobs=4", "-workers=0"], 4, False)])  # -workers=0: libFuzzer's default, 2 of 4 cores
def test_precompile_off_when_the_workers_fill_the_cores(monkeypatch, flags, cores, off):
    """`itfuzz fuzz` turns the helpers off when libFuzzer runs a fuzzing process per core (they
    would only take CPU from them); an explicit ITFUZZ_PRECOMPILE wins."""
    from itfuzz.ops import libfuzzer
    monkeypatch.delenv(fuzzing.PRECOMPILE_ENV, raising=False)
    monkeypatch.setattr(libfuzzer.os, "cpu_count", lambda: cores)
    e = libfuzzer.env(disk_cache=True, flags=flags)
    assert (e.get(fuzzing.PRECOMPILE_ENV) == "0") is off
    monkeypatch.setenv(fuzzing.PRECOMPILE_ENV, "1")
    assert libfuzzer.env(disk_cache=True, flags=flags)[fuzzing.PRECOMPILE_ENV] == "1"


def test_a_deferral_whose_helper_is_off_holds_nothing_back():
    """Once the helper is off, the edit still held comes out at the next structure turn, then
    every structure turn is the mutator's own (nothing is submitted or held any more)."""
    submitted: list[bytes] = []
    on = [True]
    defer = fuzzing.Deferral(mutate, turn, submitted.append, lambda: on[0])
    data = next(iter(sorted(CORPUS.iterdir()))).read_bytes()
    seeds = [s for s in range(200) if turn(s)][:4]
    defer(data, BIG, seeds[0])  # held: submitted[0]
    on[0] = False
    assert defer(data, BIG, seeds[1]) is submitted[0]
    assert [defer(data, BIG, s) for s in seeds[2:]] == [mutate(data, BIG, s) for s in seeds[2:]]
    assert len(submitted) == 1 and not defer.pending


def waiting_problems(make, n: int = 400) -> list[str]:
    """What is wrong with a deferral `make(mutate, turn, submit, active, done)` whose compiles
    finish 0-3 structure turns after they are submitted: an edit runs before its compile is
    done, out of order, twice, or is lost; more than `DEPTH` are held; a turn with nothing to
    return is not a value edit."""
    submitted: list[bytes] = []
    ready_at: list[int] = []  # the structure turn at which each ticket is done
    rng = random.Random(9)
    now = [0]

    def submit(edit: bytes) -> int:
        submitted.append(edit)
        ready_at.append(now[0] + rng.choice((0, 1, 1, 2, 3)))
        return len(submitted) - 1

    defer = make(mutate, turn, submit, lambda: True, lambda t: ready_at[t] <= now[0])
    pool = [p.read_bytes() for p in sorted(CORPUS.iterdir())]
    problems, returned = [], []
    for _ in range(n):
        data, seed = rng.choice(pool), rng.getrandbits(32)
        if not turn(seed):
            defer(data, BIG, seed)
            continue
        now[0] += 1
        out = defer(data, BIG, seed)
        held = [i for i, edit in enumerate(submitted) if edit is out]
        if held:
            if ready_at[held[0]] > now[0]:
                problems.append("an edit ran before its compile was done")
            returned.append(held[0])
        elif out != mutate(data, BIG, seed, values_only=True):
            problems.append("a turn with nothing to return is not a value edit")
        if len(defer.pending) > fuzzing.Deferral.DEPTH:
            problems.append(f"{len(defer.pending)} edits held")
    if returned != list(range(len(returned))):
        problems.append(f"edits out of order, repeated or lost: {returned[:20]}")
    if len(submitted) - len(returned) > fuzzing.Deferral.DEPTH or defer.stats["waited"] == 0:
        problems.append(f"{len(submitted)} submitted, {len(returned)} returned, "
                        f"{defer.stats['waited']} waits")
    return problems


def test_deferral_waits_for_each_compile():
    assert waiting_problems(fuzzing.Deferral) == []


class _NoWait(fuzzing.Deferral):
    def __init__(self, mutate, turn, submit, active, done):
        super().__init__(mutate, turn, submit, active, lambda ticket: True)


class _Unbounded(fuzzing.Deferral):
    DEPTH = 1 << 20


@pytest.mark.parametrize("plant", [_NoWait, _Unbounded])
def test_a_deferral_that_does_not_wait_is_caught(plant):
    assert waiting_problems(plant)


def test_an_edit_whose_compile_never_ends_runs_after_max_waits():
    """A compile that hangs in the helper must not stop structure edits, nor hide the input
    that hangs: the oldest edit comes out after `MAX_WAITS` waiting turns (`unready`)."""
    submitted: list[bytes] = []

    def submit(edit: bytes) -> int:
        submitted.append(edit)
        return len(submitted) - 1

    defer = fuzzing.Deferral(mutate, turn, submit, lambda: True, lambda ticket: False)
    data = next(iter(sorted(CORPUS.iterdir()))).read_bytes()
    seeds = [s for s in range(5000) if turn(s)][:2 * (defer.MAX_WAITS + 1) + 1]
    outs = [defer(data, BIG, s) for s in seeds]
    came = [i for i, out in enumerate(outs) if any(out is e for e in submitted)]
    assert came == [defer.MAX_WAITS + 1, 2 * (defer.MAX_WAITS + 1)]
    assert outs[came[0]] is submitted[0] and outs[came[1]] is submitted[1]
    assert defer.stats["unready"] == 2 and defer.stats["waited"] == 2 * defer.MAX_WAITS
