"""The hostile-guest oracle (`itfuzz.oracles.hostile`) on Wasmtime: valid cases agree with the
model's layout, random hostile cases agree with its verdicts, the seed corpus replays clean, and
every kind of disagreement planted (in the model, the guest or the verdict) is reported with its
check."""
from __future__ import annotations

import itertools
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
import wasmtime
from faults import plant_abi_model, plant_hostile_component_text, plant_verdict

from itfuzz.abi import Context, lower_flat_values
from itfuzz.findings import Discard, Finding
from itfuzz.generators.engine_configs import decode_config
from itfuzz.generators.hostile import (
    DIRECTIONS,
    MEMORY_SIZE,
    HostileCase,
    HostileRealloc,
    Verdict,
    decode_hostile_case,
)
from itfuzz.generators.hostile_components import MAX_LOG
from itfuzz.generators.typegen import COMPOUND_KINDS, PRIM_NAMES
from itfuzz.generators.unstructured import Unstructured
from itfuzz.generators.valuegen import ValueGen
from itfuzz.model.case import Signature
from itfuzz.model.types import MAX_FLAT_PARAMS, PRIMS, List, walk
from itfuzz.model.values import equal
from itfuzz.oracles.hostile import HostileOracle

SIZES = (8, 32, 128, 512, 1024)


def iter_inputs(seed: int, sizes=SIZES) -> Iterator[bytes]:
    rng = random.Random(seed)
    while True:
        yield rng.randbytes(rng.choice(sizes))


def random_inputs(n: int, seed: int, sizes=SIZES) -> list[bytes]:
    return list(itertools.islice(iter_inputs(seed, sizes), n))


def run_all(oracle: HostileOracle, cases: list[tuple[bytes, HostileCase]]) -> tuple[Counter, list]:
    """Outcome counts ("ok", "discard:REASON", "known:SCRATCH") and the findings as (input hex,
    report); the known disagreement `SCRATCH` (see `is_transcoder_scratch`) is counted, not
    returned."""
    outcomes, findings = Counter(), []
    for data, case in cases:
        try:
            oracle.run(case)
            outcomes["ok"] += 1
        except Discard as d:
            outcomes[f"discard:{d}"] += 1
        except Finding as f:
            if is_transcoder_scratch(oracle, case, f):
                outcomes[f"known:{SCRATCH}"] += 1
                continue
            findings.append((data.hex(), f.report(with_wat=False)[:3000]))
    return outcomes, findings


# -- a known disagreement: the fused adapter's utf8 -> latin1 transcoder -------------------------
# Wasmtime's utf8-to-latin1 transcoder (used by the fused adapter for a utf8 caller and a
# latin1+utf16 callee) leaves bytes of the UTF-8 source in the destination buffer past the
# Latin-1 text; the spec's `store_string_to_latin1_or_utf16` writes only the Latin-1 bytes.
# Observed on 50.0.1: whole 16-byte chunks of the source land at the same offsets before they
# are converted (a 14-byte source leaves nothing, a 16-byte one 8 bytes), which looks like
# encoding_rs's SIMD ASCII copy storing a chunk before checking it. The callee sees them only in
# the part of its buffer the next realloc releases (the tail a shrink gives back, or the whole
# old block when realloc moves it). Host lowering (lower-args) writes only the Latin-1 bytes.
SCRATCH = "utf8-to-latin1-scratch"
# 25 bytes: adapter, caller utf8, callee latin1+utf16, f(f0: string), f0 = "é" * 16 (32 UTF-8
# bytes, 16 Latin-1); Wasmtime leaves c3a9c3a9c3a9c3a9 at 0x410..0x418 of the callee's memory.
SCRATCH_INPUT = bytes.fromhex("0300020000000c" "00" "02" + "e9" * 16 + "10")  # 00: default engine


def callee_memory(oracle: HostileOracle, case: HostileCase) -> bytes:
    """The callee's memory after Wasmtime ran an adapter case (the oracle's own steps)."""
    entry = oracle.compiled(case, oracle.signature_work(case)[0])
    store = wasmtime.Store(oracle.engine)
    instance = entry.linker.instantiate(store, entry.component)
    flat = b"".join(x.to_bytes(8, "little") for x in case.flat).hex()
    answers = b"".join((a & 0xFFFFFFFF).to_bytes(4, "little") for a in case.answers).hex()
    instance.get_func(store, "caller-init")(store, case.image.hex(), flat, "")
    instance.get_func(store, "callee-init")(store, "", "", answers)
    instance.get_func(store, "run")(store)
    return bytes.fromhex(instance.get_func(store, "callee-report")(store))[-MEMORY_SIZE:]


def released(case: HostileCase) -> list[range]:
    """Bytes of the callee's memory that a realloc call gave back: the old block when it moved,
    the tail past the new size when it shrank in place."""
    out = []
    for c in case.expected.reallocs:
        if c.old_ptr and c.result != c.old_ptr:
            out.append(range(c.old_ptr, c.old_ptr + c.old_size))
        elif c.old_ptr and c.new_size < c.old_size:
            out.append(range(c.old_ptr + c.new_size, c.old_ptr + c.old_size))
    return out


def scratch_offsets(oracle: HostileOracle, case: HostileCase) -> list[int]:
    memory, want = callee_memory(oracle, case), case.expected.memory
    return [i for i in range(MEMORY_SIZE) if memory[i] != want[i]]


def is_transcoder_scratch(oracle: HostileOracle, case: HostileCase, f: Finding) -> bool:
    """Is `f` the known utf8-to-latin1 disagreement (K18): guest memory differing only in bytes
    a realloc released (checked here independently of the oracle's own classification), in an
    adapter case from a utf8 caller to a latin1+utf16 callee?"""
    if (f.signature != "abi-memory|adapter:released:utf8->latin1+utf16"
            or case.direction != "adapter"
            or case.sig.encoding_pair != ("utf8", "latin1+utf16")):
        return False
    ranges = released(case)
    return all(any(i in r for r in ranges) for i in scratch_offsets(oracle, case))


def runnable(case: HostileCase) -> bool:
    """Would the oracle run this case (not discard it before calling Wasmtime)?"""
    from itfuzz.engines.wasmtime_values import ambiguities, wasmtime_py_work
    from itfuzz.oracles.hostile import SLOW_WORK
    return (not case.note and not ambiguities(case.types)
            and max(wasmtime_py_work(t) for t in case.types) <= SLOW_WORK)


def pick(pred: Callable[[HostileCase], bool], n: int = 1, seed: int = 100,
         hostile: bool = True, limit: int = 40000) -> list[bytes]:
    """The first `n` fixed-seed random inputs whose decoded case satisfies `pred` (and that the
    oracle would run)."""
    out = []
    for data in itertools.islice(iter_inputs(seed), limit):
        case = decode_hostile_case(data, hostile=hostile)
        if runnable(case) and pred(case):
            out.append(data)
            if len(out) == n:
                return out
    raise AssertionError(f"only {len(out)} of {n} inputs found in {limit}")


def finding_of(case: HostileCase, oracle: HostileOracle | None = None) -> Finding:
    with pytest.raises(Finding) as e:
        (oracle or HostileOracle(cache_size=4)).run(case)
    return e.value


def value_verdict(direction: str, extra: Callable[[HostileCase], bool] = lambda c: True):
    return lambda c: (c.direction == direction and c.expected.trap is None
                      and c.expected.values is not None and extra(c))


# -- layout agreement: valid cases ---------------------------------------------------------------

LAYOUT_TYPES = 2000   # distinct type prefixes (signatures)
LAYOUT_VALUES = 3     # value tails per prefix: the compiled component is reused


def layout_inputs() -> list[bytes]:
    """Inputs in groups sharing their type and engine bytes, so each compiled component
    serves LAYOUT_VALUES cases, while the signatures stay as varied as random inputs give."""
    rng = random.Random(20261201)
    out = []
    for data in random_inputs(LAYOUT_TYPES, seed=20261200, sizes=(32, 128, 512, 1024)):
        u = Unstructured(data)  # the type bytes (`Signature.key`), then the engine configuration
        u.front = len(decode_hostile_case(data, hostile=False).sig.key) - 1
        decode_config(u)
        k = u.front
        if k >= len(data) - 1:
            out.append(data)
            continue
        out += [data[:k] + bytes(rng.getrandbits(8) for _ in range(len(data) - k))
                for _ in range(LAYOUT_VALUES)]
    return out


def test_valid_cases_agree_with_the_model_layout():
    """Nothing hostile: every lift gives the model's values, every lowering (lower-args, and the
    adapter's caller-to-callee copy) the model's realloc calls, flat values and memory bytes."""
    oracle = HostileOracle(cache_size=16)
    cases = [(d, decode_hostile_case(d, hostile=False)) for d in layout_inputs()]
    outcomes, findings = run_all(oracle, cases)
    assert not findings, "\n\n".join(f"input {h}\n{r}" for h, r in findings[:5])
    assert outcomes["ok"] >= 5000, outcomes
    assert all(oracle.stats[f"direction:{d}"] >= 1000 for d in DIRECTIONS), oracle.stats
    assert oracle.stats["verdict:value"] == outcomes["ok"] + outcomes[f"known:{SCRATCH}"]
    # type variety: many signatures, every kind in every direction
    sigs = {(c.direction, c.sig) for _, c in cases}
    assert len(sigs) >= LAYOUT_TYPES * 9 // 10, len(sigs)
    assert oracle.stats["compiles"] <= LAYOUT_TYPES  # one compile per group of value tails
    for d in DIRECTIONS:
        kinds = {n.kind for _, c in cases if c.direction == d for t in c.types for n in walk(t)}
        assert kinds >= set(PRIM_NAMES) | set(COMPOUND_KINDS), (d, kinds)
    pairs = {c.sig.encoding_pair for _, c in cases if c.direction == "adapter"}
    assert len(pairs) == 9, pairs


# -- hostile cases: random inputs ----------------------------------------------------------------

def test_random_hostile_cases_run_clean():
    oracle = HostileOracle(cache_size=64)
    inputs = random_inputs(3000, seed=20261202)
    outcomes, findings = run_all(oracle, [(d, decode_hostile_case(d)) for d in inputs])
    assert not findings, "\n\n".join(f"input {h}\n{r}" for h, r in findings[:5])
    assert outcomes["ok"] >= 2800, outcomes
    assert outcomes[f"known:{SCRATCH}"] <= 3, outcomes  # rare: a long Latin-1 string, that pair
    agreed = {k.split(":", 1)[1] for k in oracle.stats if k.startswith("trap-agrees:")}
    # not vacuous: Wasmtime trapped with the model for many reasons, and returned for the rest
    assert len(agreed) >= 8, oracle.stats
    assert oracle.stats["verdict:value"] >= outcomes["ok"] // 2, oracle.stats


# -- K18: the known utf8-to-latin1 disagreement (the seeds replay in tests/ops/test_corpus.py) ---

@pytest.mark.xfail(strict=True, raises=Finding,
                   reason="Wasmtime's utf8-to-latin1 transcoder leaves UTF-8 bytes past the "
                          "Latin-1 text in the callee's buffer (the spec writes none)")
def test_known_utf8_to_latin1_scratch_bytes():
    HostileOracle().run(decode_hostile_case(SCRATCH_INPUT))


def test_utf8_to_latin1_scratch_bytes_are_only_in_released_memory():
    """What the known disagreement is, exactly: the callee's memory differs only in bytes the
    shrinking realloc gave back, and holds there the UTF-8 source bytes past the Latin-1 text."""
    oracle = HostileOracle()
    case = decode_hostile_case(SCRATCH_INPUT)
    assert case.sig.encoding_pair == ("utf8", "latin1+utf16") and case.values == ("\xe9" * 16,)
    shrink = case.expected.reallocs[-1]
    assert (shrink.old_ptr, shrink.old_size, shrink.new_size) == (0x400, 32, 16)
    offsets = scratch_offsets(oracle, case)
    assert offsets and all(0x410 <= i < 0x420 for i in offsets), [hex(i) for i in offsets]
    memory = callee_memory(oracle, case)
    assert memory[0x410:0x418] == "\xe9\xe9\xe9\xe9".encode()  # UTF-8 of the source's tail
    f = finding_of(case, oracle)
    assert is_transcoder_scratch(oracle, case, f)
    # host lowering of the same string into a latin1+utf16 guest (lower-args, the same two
    # realloc calls) writes only the Latin-1 bytes
    host = decode_hostile_case(bytes.fromhex("02020000000c" "00" "02" + "e9" * 16 + "10"))
    assert host.direction == "lower-args" and host.values == case.values
    assert host.expected.reallocs == case.expected.reallocs
    oracle.run(host)


# -- more realloc calls than the guest logs --------------------------------------------------------

def test_more_realloc_calls_than_the_guest_logs():
    """The guest logs the first MAX_LOG realloc calls and counts the others: the rest compare by
    count only (a harness limit, not a finding). `f(x: list<string>)` with MAX_LOG + 100 empty
    strings: one call for the list, one per string."""
    sig = Signature((("x", List(PRIMS["string"])),), None, "utf8")
    values = ([""] * (MAX_LOG + 100),)
    realloc = HostileRealloc(Unstructured(b""), bytearray(MEMORY_SIZE))  # every answer fresh
    cx = Context(realloc.memory, "utf8", realloc)
    flat = lower_flat_values(cx, MAX_FLAT_PARAMS, list(values), sig.types())
    verdict = Verdict(tuple(flat), None, "", tuple(cx.realloc_log), bytes(realloc.memory))
    case = HostileCase("lower-args", sig, values, (), b"", (), tuple(realloc.answers),
                       tuple(realloc.kinds), verdict)
    assert len(verdict.reallocs) == MAX_LOG + 101
    HostileOracle().run(case)
    f = finding_of(plant_verdict(case, reallocs=verdict.reallocs[:-1]))
    assert f.signature == "abi-realloc-log|lower-args:count", f.report(with_wat=False)


# -- fault injection: (a) the model loses a trap rule ---------------------------------------------

@pytest.mark.parametrize("direction", ["lift-result", "lift-args", "adapter"])
def test_model_without_discriminant_check_is_an_extra_trap(monkeypatch, direction):
    candidates = pick(lambda c: c.direction == direction
                      and c.expected.trap == "bad-discriminant", n=6, seed=101)
    HostileOracle().run(decode_hostile_case(candidates[0]))  # clean before the fault
    plant_abi_model(monkeypatch, "accept-bad-discriminant")
    # without the rule, the model lifts a value (unless another rule traps later)
    data = next(d for d in candidates if decode_hostile_case(d).expected.trap is None)
    case = decode_hostile_case(data)
    assert case.expected.values is not None
    f = finding_of(case)
    assert f.check == "abi-extra-trap", f.report(with_wat=False)
    assert "Wasmtime trapped where the spec gives a value" in f.message
    assert "spec verdict: value" in f.values


# -- (b) the guest's realloc log lies ------------------------------------------------------------

def _log_new_size_plus_one(wat: str, sig, direction: str) -> str:
    return wat.replace("(i32.store $scratch offset=12 (local.get $e) (local.get $nsz))",
                       "(i32.store $scratch offset=12 (local.get $e) "
                       "(i32.add (local.get $nsz) (i32.const 1)))")


@pytest.mark.parametrize("direction", ["lower-args", "adapter"])
def test_lying_realloc_log_is_reported(monkeypatch, direction):
    data, = pick(value_verdict(direction, lambda c: len(c.expected.reallocs) >= 1), seed=102)
    case = decode_hostile_case(data)
    HostileOracle().run(case)
    plant_hostile_component_text(monkeypatch, _log_new_size_plus_one)
    f = finding_of(case)
    assert f.signature == f"abi-realloc-log|{direction}:args", f.report(with_wat=False)
    c = case.expected.reallocs[0]
    assert f"spec [({c.old_ptr}, {c.old_size}, {c.align}, {c.new_size}, {c.result})]" in f.message
    assert f"Wasmtime [({c.old_ptr}, {c.old_size}, {c.align}, {c.new_size + 1}, " in f.message


@pytest.mark.parametrize("direction", ["lower-args", "adapter"])
def test_verdict_with_a_missing_realloc_call_is_reported(direction):
    data, = pick(value_verdict(direction, lambda c: len(c.expected.reallocs) >= 2), seed=103)
    case = decode_hostile_case(data)
    HostileOracle().run(case)
    f = finding_of(plant_verdict(case, reallocs=case.expected.reallocs[:-1]))
    assert f.signature == f"abi-realloc-log|{direction}:count", f.report(with_wat=False)
    n = len(case.expected.reallocs)
    assert f"({n - 1} vs {n} calls)" in f.message


# -- (c) a planted wrong expected value -----------------------------------------------------------

def other_value(t, v, seed: int = 0):
    """A value of type `t` that differs from `v` (None when none is found: a one-value type)."""
    rng = random.Random(seed)
    for _ in range(200):
        w = ValueGen(Unstructured(bytes(rng.getrandbits(8) for _ in range(64))), fuel=50).gen(t)
        if not equal(t, v, w):
            return w
    return None


@pytest.mark.parametrize("direction", ["lift-result", "lift-args"])
def test_wrong_expected_lift_value_is_reported(direction):
    for data in pick(value_verdict(direction), n=20, seed=104):
        case = decode_hostile_case(data)
        t, last = case.types[-1], case.expected.values[-1]
        wrong = other_value(t, last)
        if wrong is not None:
            break
    else:
        pytest.fail("no case with a type of more than one value")
    HostileOracle().run(case)
    f = finding_of(plant_verdict(case, values=case.expected.values[:-1] + (wrong,)))
    assert f.check == "abi-value", f.report(with_wat=False)
    assert "got a different value" in f.message


@pytest.mark.parametrize("direction", ["lower-args", "adapter"])
def test_wrong_expected_flat_value_is_reported(direction):
    data, = pick(value_verdict(direction, lambda c: not c.expected.nan), seed=105)
    case = decode_hostile_case(data)
    HostileOracle().run(case)
    flat = list(case.expected.values)
    flat[-1] ^= 1
    f = finding_of(plant_verdict(case, values=tuple(flat)))
    assert f.check == "abi-flat", f.report(with_wat=False)
    assert f"flat param {len(flat) - 1}: " in f.message


@pytest.mark.parametrize("direction", ["lower-args", "adapter"])
def test_wrong_expected_memory_is_reported(direction):
    data, = pick(value_verdict(direction, lambda c: not c.expected.nan
                               and len(c.expected.reallocs) >= 1), seed=106)
    case = decode_hostile_case(data)
    HostileOracle().run(case)
    # the first block the lowering wrote (an empty one may start at the end of memory)
    at = min(case.expected.reallocs[0].result, MEMORY_SIZE - 1)
    memory = bytearray(case.expected.memory)
    memory[at] ^= 0x5A
    f = finding_of(plant_verdict(case, memory=bytes(memory)))
    assert f.signature == f"abi-memory|{direction}:byte", f.report(with_wat=False)
    assert f"first at {at:#x}" in f.message


# -- (d) the model says trap where Wasmtime returns ------------------------------------------------

@pytest.mark.parametrize("direction", DIRECTIONS)
def test_trap_verdict_where_wasmtime_returns_is_a_missing_trap(direction):
    data, = pick(value_verdict(direction), seed=107)
    case = decode_hostile_case(data)
    HostileOracle().run(case)
    f = finding_of(plant_verdict(case, values=None, trap="list-oob", trap_detail="planted"))
    assert f.signature == f"abi-missing-trap|{direction}:list-oob", f.report(with_wat=False)
    said = {"lift-args": "but the host ran with", "adapter": "but the callee was entered"}
    assert said.get(direction, "but Wasmtime returned") in f.message


def ends_at_memory_end(c: HostileCase) -> bool:
    return any(r.result + r.new_size == MEMORY_SIZE for r in c.expected.reallocs)


@pytest.mark.parametrize("direction", ["lower-args", "adapter"])
def test_model_off_by_one_realloc_bound_is_a_missing_trap(monkeypatch, direction):
    """A realloc answer whose block ends exactly at the end of memory is valid; a model with
    ``>=`` for ``>`` says realloc-oob, and Wasmtime (rightly) returns."""
    data, = pick(value_verdict(direction, ends_at_memory_end), seed=108)
    HostileOracle().run(decode_hostile_case(data))
    plant_abi_model(monkeypatch, "realloc-oob-off-by-one")
    case = decode_hostile_case(data)
    assert case.expected.trap == "realloc-oob", case.expected
    f = finding_of(case)
    assert f.signature.startswith(f"abi-missing-trap|{direction}:realloc-oob:"), f.report(
        with_wat=False)
    assert f.signature.rsplit(":", 1)[1] in ("alloc", "grow", "shrink")


# -- (e) the callee (or host) ran although the verdict says trap ---------------------------------

def _trap_after_entering(wat: str, sig, direction: str) -> str:
    """The callee traps right after telling the host it was entered (lift-args: the guest traps
    right after the host call returned)."""
    wat = wat.replace("(call $entered)", "(call $entered) unreachable")
    return re.sub(r"\(call \$g\)\)\)", "(call $g) unreachable))", wat)


def test_adapter_callee_entered_under_a_trap_verdict_is_a_missing_trap(monkeypatch):
    data, = pick(value_verdict("adapter"), seed=109)
    case = decode_hostile_case(data)
    HostileOracle().run(case)
    plant_hostile_component_text(monkeypatch, _trap_after_entering)
    # Wasmtime traps as well (in the callee): only `entered` tells the adapter's trap apart
    f = finding_of(plant_verdict(case, values=None, trap="string-oob", trap_detail="planted"))
    assert f.signature == "abi-missing-trap|adapter:string-oob", f.report(with_wat=False)
    assert "but the callee was entered" in f.message
    # and the planted callee alone, under the true verdict, is an extra trap
    f = finding_of(case)
    assert f.check == "abi-extra-trap", f.report(with_wat=False)


def test_lift_args_host_ran_under_a_trap_verdict_is_a_missing_trap(monkeypatch):
    data, = pick(value_verdict("lift-args"), seed=110)
    case = decode_hostile_case(data)
    HostileOracle().run(case)
    plant_hostile_component_text(monkeypatch, _trap_after_entering)
    f = finding_of(plant_verdict(case, values=None, trap="utf8-invalid", trap_detail="planted"))
    assert f.signature == "abi-missing-trap|lift-args:utf8-invalid", f.report(with_wat=False)
    assert "but the host ran with" in f.message


def test_signature_work_is_cached_by_the_signature_bytes():
    """Per-signature work (component text, wasmtime-py checks) is done once per signature input
    bytes: a value mutation reuses it, another signature gets its own."""
    oracle = HostileOracle()
    data = SCRATCH_INPUT
    a, b = decode_hostile_case(data), decode_hostile_case(data[:-1] + b"\x11")
    assert a.sig.key == b.sig.key and a.values != b.values
    assert oracle.signature_work(a) is oracle.signature_work(b)
    assert len(oracle.by_key) == 1
    other = decode_hostile_case(bytes([0, 1]) + data[2:])
    assert other.sig.key != a.sig.key
    assert oracle.signature_work(other)[0] != oracle.signature_work(a)[0]
    assert len(oracle.by_key) == 2


def test_an_evicted_engine_takes_its_compiled_components_along():
    """The hostile oracle's compiled components of a configuration whose engine the engine
    cache evicts are dropped with it (they would keep the engine alive)."""
    from itfuzz.model.engine_config import EngineConfig
    from itfuzz.oracles.hostile import HostileOracle
    oracle = HostileOracle()
    oracle.engines.cache.size = 1
    a, b = EngineConfig(strategy="pulley"), EngineConfig(strategy="pulley", opt_level="none")
    oracle.engines.get(a)
    oracle.cache[(a, "wat")] = oracle.cache[(None, "wat")] = object()
    oracle.engines.get(b)  # evicts a's engine
    assert list(oracle.cache) == [(None, "wat")]
