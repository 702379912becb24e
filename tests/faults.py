"""Fault injection for the tests: every way a test plants a bug, in one module.

A fault is planted for one test and undone after it (by pytest's `monkeypatch`, or by leaving a
`with` block), so no other test sees it. Each helper names the layer it breaks:

- `plant_component_text(monkeypatch, module, transform)`: the guest. An oracle module compiles
  `transform(wat, sig)` instead of the generated component text (a forwarder that corrupts a
  byte, skips the host call, drops post-return, ...).
- `plant_wasmtime_py(monkeypatch, cls, method, fn)`: the embedding. A wasmtime-py method (a
  value converter `convert_to_c`, `Func.type`, ...) is replaced by `fn(original, self, ...)`.
- `plant_interpreter(fault)`: the OCaml spec interpreter executes one instruction wrongly
  (`itfuzz.spec.set_fault`), for the differential target.
- `plant_static_converters(directory, fault)`: a generated `component_static` package whose
  typed converters carry one of `itfuzz.static.gen.FAULTS`.
- `plant_target(monkeypatch)`: a whole planted target, `PLANTED` (the round-trip target with
  two host-side faults), for the operation tests (fuzz, repro, minimize, triage);
  `planted_inputs` and `planted_clean_input` pick inputs that show each fault or none.
- `map_entry_fault(fault)`: a `RoundTripOracle(transform=...)` hook that drops, reorders or
  merges (dict-style, last value wins) the entries of every top-level map argument and result
  on their way to and from wasmtime-py.
- `plant_bench_bug(name)`: one of the bug-finding benchmark's planted bugs (bench/planted.py,
  which keeps its own patching because the benchmark applies it inside child processes).

Host-side faults that need no patching go through the oracles' own hooks instead:
`RoundTripOracle(transform=...)` (edit the converters and values of one call) and
`DifferentialOracle(tamper=...)` (change a Wasmtime instance's state behind the interpreter).

This module is also imported by the fuzz-target script that tests/ops/test_ops_fuzz.py writes
(a separate process), so it imports little at the top.
"""
from __future__ import annotations

import contextlib
import importlib
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# -- the guest: component text ------------------------------------------------------------------

def plant_component_text(monkeypatch, module: ModuleType, transform: Callable[[str, Any], str]) -> None:
    """Make `module` (an oracle module that imported `component_text`, e.g.
    `itfuzz.oracles.roundtrip`) compile `transform(component_text(sig), sig)` instead of the
    generated text. A transform that changes nothing fails the test: the fault was not planted."""
    from itfuzz.generators.components import component_text

    def planted(sig) -> str:
        wat = component_text(sig)
        new = transform(wat, sig)
        assert new != wat, "the fault was not applied: the component text is unchanged"
        return new
    monkeypatch.setattr(module, "component_text", planted)


# -- the embedding: wasmtime-py -----------------------------------------------------------------

def plant_wasmtime_py(monkeypatch, cls: type | str, method: str, fn: Callable[..., Any]) -> None:
    """Replace wasmtime-py's `cls.method` by `fn(original, self, *args)`. `cls` is a class or
    the name of one in `wasmtime.component._types` (the value converters, e.g. "TupleType",
    "String"), so tests need not import wasmtime-py's private modules themselves."""
    if isinstance(cls, str):
        from wasmtime.component import _types
        cls = getattr(_types, cls)
    original = getattr(cls, method)

    def planted(self, *args, **kwargs):
        return fn(original, self, *args, **kwargs)
    monkeypatch.setattr(cls, method, planted)


# -- the spec interpreter -----------------------------------------------------------------------

@contextlib.contextmanager
def plant_interpreter(fault: str) -> Iterator[None]:
    """Within the block, the interpreter executes instruction `fault` (e.g. "i32.rem_s")
    wrongly; cleared on exit, even when the block fails."""
    from itfuzz import spec
    spec.set_fault(fault)
    try:
        yield
    finally:
        spec.set_fault("")


# -- the static target's generated converters ---------------------------------------------------

def typed_path(oracle):
    """A `component_static` oracle kept on wasmtime-py's typed path whatever lane its inputs
    choose (one in 4 takes the C-API lane): where the generated converters, and the faults
    planted in them, run."""
    oracle.c_lane.force = "py"
    return oracle


def plant_static_converters(directory: Path, fault: str, count: int = 80, resources: int = 24,
                            guest: int = 16):
    """The case table (`CASES`) of a `component_static` package generated into `directory`
    with `fault` (one of `itfuzz.static.gen.FAULTS`) in its converters (`count` plain cases,
    then `resources` resource cases, then `guest` cases with the guest's `gr`)."""
    from itfuzz.static import gen as static_gen
    name = f"static_{fault.replace('-', '_')}"
    static_gen.write(directory / name, count=count, fault=fault, resources=resources,
                     guest=guest)
    sys.path.insert(0, str(directory))
    try:
        return importlib.import_module(name).CASES
    finally:
        sys.path.remove(str(directory))


# -- a planted target for the operation tests ---------------------------------------------------
# Two faults go in through the round-trip oracle's `transform` hook: every top-level `string`
# argument reaches the host with "!" appended, and every top-level `bool` argument negated.

PLANTED = "planted_roundtrip"
PLANTED_SIG_STRING = "host-arg-mismatch|string:value:str->str"
PLANTED_SIG_BOOL = "host-arg-mismatch|bool:value:bool->bool"


def _planted_fault(entry) -> None:
    for i, (_, t) in enumerate(entry.sig.params):
        if t.kind == "string":
            entry.params_in[i] = lambda v: v + "!"
        elif t.kind == "bool":
            entry.params_in[i] = lambda v: not v


MAP_FAULTS = {
    "drop-last": lambda entries: entries[:-1],
    "swap-first": lambda entries: entries[1:2] + entries[:1] + entries[2:],
    "merge-duplicates": lambda entries: list(dict(entries).items()),
}


def map_entry_fault(fault: str) -> Callable[[Any], None]:
    """A transform hook: top-level map values lose entries as `MAP_FAULTS[fault]` says, as
    arguments (host side of the export) and as host results."""
    change = MAP_FAULTS[fault]

    def transform(entry) -> None:
        for i, (_, t) in enumerate(entry.sig.params):
            if t.kind == "map":
                conv = entry.params_in[i]
                entry.params_in[i] = lambda v, conv=conv: conv(change(v))
        if entry.sig.result is not None and entry.sig.result.kind == "map":
            conv = entry.result_in
            entry.result_in = lambda v, conv=conv: conv(change(v))
    return transform


def planted_target():
    """A fresh `PLANTED` target: component_roundtrip with the two faults above."""
    from itfuzz import targets
    from itfuzz.oracles.roundtrip import RoundTripOracle
    t = targets.get("component_roundtrip")
    t.name = PLANTED
    t.make_oracle = lambda: RoundTripOracle(cache_size=16, transform=_planted_fault)
    return t


def plant_target(monkeypatch) -> None:
    """Register `PLANTED` with the CLI's targets (for `itfuzz repro PLANTED ...` in process)."""
    from itfuzz import targets
    monkeypatch.setitem(targets.FACTORIES, PLANTED, planted_target)


def _kinds(target, data: bytes) -> set:
    """The top-level param kinds of `data`'s case; empty for a case that hands a map to the host
    (K22 on every release: no planted fault could show)."""
    sig = target.decode(data).sig
    if sig.has_maps and sig.shape == "single":
        return set()
    return {t.kind for _, t in sig.params}


def planted_inputs(kind: str, n: int, min_len: int = 0, seed: int = 7,
                   both: bool = False) -> list[bytes]:
    """`n` inputs with a top-level param of `kind` ("string" or "bool") and none of the other
    kind (with `both`: one of each kind), at least `min_len` bytes long. Picked from fixed-seed
    random bytes by decoding only; the tests check the outcome."""
    other = {"string": "bool", "bool": "string"}[kind]
    target = planted_target()
    rng = random.Random(seed)
    out: list[bytes] = []
    while len(out) < n:
        data = bytes(rng.getrandbits(8) for _ in range(rng.choice((24, 64, 200, 400))))
        kinds = _kinds(target, data)
        if len(data) >= min_len and kind in kinds and (other in kinds) == both:
            out.append(data)
    return out


def planted_clean_input(seed: int = 11) -> bytes:
    """An input with no top-level string or bool param (no planted fault applies)."""
    target = planted_target()
    rng = random.Random(seed)
    while True:
        data = bytes(rng.getrandbits(8) for _ in range(rng.choice((24, 64, 200))))
        kinds = _kinds(target, data)
        if kinds and not kinds & {"string", "bool"}:
            return data


# -- the bug-finding benchmark's planted bugs ---------------------------------------------------

def bench_plants() -> dict:
    """bench/planted.py's `PLANTS` by name."""
    bench = str(ROOT / "bench")
    if bench not in sys.path:
        sys.path.insert(0, bench)
    import planted
    return planted.PLANTS


@contextlib.contextmanager
def plant_bench_bug(name: str) -> Iterator[Any]:
    """Within the block, the benchmark's planted bug `name` is applied (yields its `Plant`)."""
    plant = bench_plants()[name]
    undo = plant.patch()
    try:
        yield plant
    finally:
        undo()


# -- component_hostile: the guest's text, the canonical-ABI model, the verdict --------------------
# The hostile target judges Wasmtime by the model's verdict, computed when the input is decoded:
# plant a model fault *before* decoding (`decode_hostile_case`), and compile with a fresh oracle
# (its cache is keyed by the component text).

def plant_hostile_component_text(monkeypatch, transform: Callable[[str, Any, str], str]) -> None:
    """Make `itfuzz.oracles.hostile` compile `transform(wat, sig, direction)` instead of the
    generated hostile component (a realloc that logs a wrong argument, a callee that traps after
    it was entered, ...). A transform that changes nothing fails the test."""
    from itfuzz.generators.hostile_components import hostile_component_text
    from itfuzz.oracles import hostile

    def planted(sig, direction: str) -> str:
        wat = hostile_component_text(sig, direction)
        new = transform(wat, sig, direction)
        assert new != wat, "the fault was not applied: the component text is unchanged"
        return new
    monkeypatch.setattr(hostile, "hostile_component_text", planted)


ABI_MODEL_FAULTS = ("accept-bad-discriminant", "realloc-oob-off-by-one")


def plant_abi_model(monkeypatch, fault: str) -> None:
    """Break one rule of the canonical-ABI model (`itfuzz.abi`):

    - "accept-bad-discriminant": `load_variant` and `lift_flat_variant` lose their
      ``case_index >= len(cases)`` trap; an out-of-range discriminant reads as the last case
      (the model gives a value where the spec traps).
    - "realloc-oob-off-by-one": the realloc result check traps when the block ends exactly at
      the end of memory (``>=`` for ``>``: the model traps where the spec gives a value).
    """
    import itertools

    # by module path: `itfuzz.abi` re-exports a function named `load`
    context, flat, layout, load = (importlib.import_module(f"itfuzz.abi.{m}")
                                   for m in ("context", "flat", "layout", "load"))
    if fault == "accept-bad-discriminant":
        lift_variant, load_variant = flat._LIFTERS["variant"], load._LOADERS["variant"]

        def lenient_lift(cx, vi, t):
            n = len(layout.variant_info(t).cases)
            first = next(vi)
            return lift_variant(cx, itertools.chain([min(first, n - 1)], vi), t)

        def lenient_load(cx, ptr, t):
            info = layout.variant_info(t)
            n, size = len(info.cases), info.disc_size
            old = bytes(cx.memory[ptr:ptr + size])
            if int.from_bytes(old, "little") < n:
                return load_variant(cx, ptr, t)
            cx.memory[ptr:ptr + size] = (n - 1).to_bytes(size, "little")
            try:
                return load_variant(cx, ptr, t)
            finally:
                cx.memory[ptr:ptr + size] = old
        monkeypatch.setitem(flat._LIFTERS, "variant", lenient_lift)
        monkeypatch.setitem(load._LOADERS, "variant", lenient_load)
    elif fault == "realloc-oob-off-by-one":
        call_realloc = context.Context.call_realloc

        def strict(self, old_ptr, old_size, align, new_size):
            ptr = call_realloc(self, old_ptr, old_size, align, new_size)
            if ptr + new_size >= len(self.memory):
                raise context.Trap("realloc-oob", f"{ptr:#x} + {new_size} (planted off-by-one)")
            return ptr
        monkeypatch.setattr(context.Context, "call_realloc", strict)
    else:
        raise ValueError(f"unknown ABI model fault {fault!r}; faults: {ABI_MODEL_FAULTS}")


def plant_verdict(case, **changes):
    """`case` (a `HostileCase`) with its verdict changed (`values`, `trap`, `reallocs`,
    `memory`, ...): a model that said something else, without patching the model."""
    import dataclasses
    return dataclasses.replace(case, expected=dataclasses.replace(case.expected, **changes))


# -- standalone reproducer scripts --------------------------------------------------------------

def plant_script(text: str, old: str, new: str) -> str:
    """A standalone reproducer (`itfuzz repro --script`) with `old` replaced by `new`: a fault in
    the host code it runs, or wasmtime-py patched by code put there (scripts run in a child
    process, out of `monkeypatch`'s reach). Fails if `old` is not in the script."""
    assert old in text, f"the fault was not planted: {old!r} is not in the script"
    return text.replace(old, new)


# Faults of resource scripts (`ops/resource_script.py`), as (old, new) for `plant_script`.
RESOURCE_SCRIPT_FAULTS = {
    # wasmtime-py makes every host handle with the wrong rep (low bit flipped)
    "rep-flip": ("\nDTORS = []", "\n_own, _borrow = ResourceHost.own.__func__, "
                 "ResourceHost.borrow.__func__\n"
                 "ResourceHost.own = classmethod(lambda c, rep, ty: _own(c, rep ^ 1, ty))\n"
                 "ResourceHost.borrow = classmethod(lambda c, rep, ty: _borrow(c, rep ^ 1, ty))\n"
                 "DTORS = []"),
    # the handle kept to check a moved own / an ended borrow is a live one
    "own-kept": ('TRACK["sent"].append((x, clone(h)))',
                 'TRACK["sent"].append((x, ResourceHost.own(x.rep, ty).to_any(store)))'),
    "borrow-kept": ("kept = None if x.owned else clone(x)",
                    "kept = None if x.owned else ResourceHost.own(1, TYPE_BASE).to_any(store)"),
    # the host destructor runs twice per drop
    "dtor-twice": ("lambda store, rep, n=n: DTORS.append((n, rep))",
                   "lambda store, rep, n=n: DTORS.extend([(n, rep)] * 2)"),
    # gr in f's types: the clone kept to check a moved own names a live handle; the record of
    # a lent own names another rep; the host skips dropping a lent own
    "gr-own-kept": ("(x.rep, clone(h) if x.owned else h)",
                    '(x.rep, call(store, GR["instance"].get_func(store, "gr-new"), 99) '
                    "if x.owned else h)"),
    "gr-lender-rep": ("(x.rep, clone(h) if x.owned else h)",
                      "(x.rep + (0 if x.owned else 1), clone(h) if x.owned else h)"),
    "gr-drop-skipped": ('    for _, x in GR["lent"] + GR["received"]:\n        x.drop(store)\n',
                        '    for _, x in (GR["lent"] + GR["received"])[1:]:\n        x.drop(store)\n'),
    # wasmtime-py lowers a fresh, valid handle in place of a misuse's bad one (accepts it)
    "accept-bad": ("\nKEEP = []", """
from wasmtime.component import _types


def _lenient(original):
    def convert_to_c(self, store, val, ptr):
        if Bad.handle is not None and val is Bad.handle:
            val = ResourceHost.own(7, TYPE_BASE + BAD_RESOURCE).to_any(store)
        return original(self, store, val, ptr)
    return convert_to_c


for _cls in (_types.OwnType, _types.BorrowType):
    _cls.convert_to_c = _lenient(_cls.convert_to_c)
KEEP = []"""),
}
