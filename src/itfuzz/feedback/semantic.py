"""Semantic coverage: value-free features of a case and its outcome, reported to libFuzzer.

Wasmtime's native library is not instrumented, so libFuzzer sees only Python edges. This module
turns what an input exercised (type-kind paths, flat counts and spilling, string encodings,
case/flag-count buckets, value edge classes, the outcome class, and spec-interpreter opcodes
when a target reports them) into feature strings, maps each to one counter of a block reserved
at start-up (`zlib.crc32`, stable across processes; never Python's salted `hash`) and bumps it
with `atheris._trace_branch`. A new feature string is new coverage, so libFuzzer keeps the input.

Features are deterministic functions of the case and outcome, bounded per input (`MAX_NODES`
value nodes walked, kind paths at most `PATH_LIMIT` deep). `ITFUZZ_SEMANTIC=0` turns reporting
off (the bug-finding benchmark compares both).
"""
from __future__ import annotations

import math
import os
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from itfuzz.feedback.features import hostile_case_features, misuse_only_features, signature_case_features
from itfuzz.model.resources import AnyHandle, GuestHandle
from itfuzz.model.types import (
    INT_RANGES,
    Enum,
    Flags,
    List,
    Map,
    Record,
    Tuple,
    Type,
    _VariantLike,
    kind_path,
    walk,
)

ENV = "ITFUZZ_SEMANTIC"
BLOCK = 1 << 13      # counters reserved for semantic features
PATH_LIMIT = 3       # kind-path depth (e.g. `list>variant>string`)
MAX_NODES = 150      # value nodes walked per input
MAX_FEATURES = 512   # features reported per input


def enabled() -> bool:
    return os.environ.get(ENV, "1") not in ("0", "")


def bucket(n: int) -> str:
    """0, 1, 2, then powers of two (3-4, 5-8, …): a coarse count class."""
    if n <= 2:
        return str(n)
    return f"<={1 << (n - 1).bit_length()}"


# -- features of a case ------------------------------------------------------------------------
def type_features(types: Iterable[Type]) -> set[str]:
    """Kind paths of every node (depth-bounded) and case/flag-count buckets."""
    out: set[str] = set()
    for t in types:
        for node in walk(t):
            if node.children():
                out.add("path:" + kind_path(node, PATH_LIMIT))
            if isinstance(node, Enum):
                out.add(f"enum-cases:{bucket(len(node.names_))}")
            elif node.kind == "variant":
                out.add(f"variant-cases:{bucket(len(node.cases()))}")
            elif isinstance(node, Flags):
                out.add(f"flags-count:{bucket(len(node.labels))}")
            elif isinstance(node, (Record, Tuple)):
                out.add(f"{node.kind}-fields:{bucket(len(node.children()))}")
            elif isinstance(node, Map):
                out.add(f"map:{node.key.kind}->{node.value.kind}")
    return out


def signature_features(sig) -> set[str]:
    """Flat param/result counts, spilling and return pointer, on top of `signature_case_features`."""
    n, r = len(sig.flat_params), len(sig.flat_results)
    return {f"flat-params-exact:{n if n <= 20 else bucket(n)}", f"flat-results-exact:{bucket(r)}",
            f"spill:{sig.spills_params}", f"retptr:{sig.uses_retptr}",
            f"spill-retptr:{sig.spills_params}:{sig.uses_retptr}:{sig.shape}"}


def _float_class(x: float) -> str | None:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf"
    if x == 0.0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    return None


def _int_class(kind: str, v: int) -> str | None:
    lo, hi = INT_RANGES[kind]
    if v == hi:
        return "max"
    if v == lo:
        return "min"
    if v == 0:
        return "0"
    if v < 0:
        return "neg"
    if v >= 1 << 32:
        return "over32"
    return None


def _char_class(c: str) -> str:
    cp = ord(c)
    return ("ascii" if cp < 0x80 else "latin1" if cp < 0x100 else "bmp" if cp < 0x10000
            else "astral")


def _case(t: _VariantLike, name: str) -> tuple[str, Type | None]:
    """Where case `name` sits among `t`'s cases (first, mid, last) and its payload type."""
    cases = t.cases()
    i = next(j for j, (n, _) in enumerate(cases) if n == name)
    return ("first" if i == 0 else "last" if i == len(cases) - 1 else "mid"), cases[i][1]


def value_features(t: Type, v: Any, encoding: str, out: set[str], budget: list[int]) -> None:
    """Edge classes of a model value (NaN, -0, int bounds, astral chars, empty and long lists),
    by kind; strings also by encoding. Walks at most `budget[0]` nodes."""
    budget[0] -= 1
    if budget[0] < 0:
        return
    k = t.kind
    if k in INT_RANGES:
        c = _int_class(k, v)
        if c:
            out.add(f"edge:{k}:{c}")
    elif k in ("f32", "f64"):
        c = _float_class(v)
        if c:
            out.add(f"edge:{k}:{c}")
    elif k == "char":
        out.add(f"edge:char:{_char_class(v)}")
    elif k == "string":
        if not v:
            out.add(f"edge:string:empty:{encoding}")
        else:
            widest = max(v)
            out.add(f"edge:string:{_char_class(widest)}:{encoding}")
            if len(v) >= 256:
                out.add(f"edge:string:long:{encoding}")
    elif isinstance(t, List):
        n = len(v)
        out.add(f"edge:list:{'empty' if n == 0 else n if n in (1, 255, 256, 257) else bucket(n)}")
        for x in v:
            if budget[0] <= 0:
                return
            value_features(t.elem, x, encoding, out, budget)
    elif isinstance(t, Map):
        n, keys = len(v), len({k for k, _ in v})
        out.add(f"edge:map:{'empty' if n == 0 else n if n in (1, 256) else bucket(n)}")
        if keys < n:  # duplicate keys: all kept, in order (the spec's list<tuple<K, V>>)
            out.add(f"edge:map:dup-keys:{t.key.kind}:{bucket(n - keys)}")
        for entry in v:
            if budget[0] <= 0:
                return
            value_features(t.elem, entry, encoding, out, budget)
    elif isinstance(t, (Record, Tuple)):
        for c, x in zip(t.children(), v):
            value_features(c, x, encoding, out, budget)
    elif isinstance(t, Enum):
        i = t.names_.index(v)
        out.add(f"edge:enum:{'first' if i == 0 else 'last' if i == len(t.names_) - 1 else 'mid'}")
    elif isinstance(t, _VariantLike):
        name, payload = v
        where, p = _case(t, name)
        out.add(f"edge:{k}:{where}:{'payload' if payload is not None else 'empty'}")
        if p is not None:
            if isinstance(p, _VariantLike) and not isinstance(p, Enum):
                inner = payload[0] if p.kind in ("option", "result") else _case(p, payload[0])[0]
                out.add(f"edge:{k}>{p.kind}:{inner}")
            value_features(p, payload, encoding, out, budget)
    elif isinstance(t, Flags):
        n = len(v)
        out.add(f"edge:flags:{'none' if n == 0 else 'all' if n == len(t.labels) else 'some'}")
    elif isinstance(t, AnyHandle):  # reps: the edges of a u32, and how many handles per input
        gr = "gr-" if isinstance(t, GuestHandle) else ""
        out.add(f"edge:{gr}{k}:rep:{_int_class('u32', v.rep) or 'mid'}")
        if len(budget) > 1:
            budget[1] += 1
            out.add(f"edge:handles:{bucket(budget[1])}")


def _value_features(sig, calls: list[tuple[tuple, Any]], out: set[str]) -> None:
    """Edge classes of every call's argument and host result (bounded by `MAX_NODES`)."""
    enc = "->".join(sig.encoding_pair) if sig.shape == "composed" else sig.encoding
    budget = [MAX_NODES, 0]  # value nodes left, resource handles seen
    out.add(f"calls:{len(calls)}")
    for args, ret in calls:
        if budget[0] <= 0:  # (the walk adds nothing once it is spent)
            break
        for (_, t), a in zip(sig.params, args):
            value_features(t, a, enc, out, budget)
        if sig.result is not None and not sig.echo:
            value_features(sig.result, ret, enc, out, budget)


_by_key: dict[bytes, frozenset] = {}


def static_features(sig) -> frozenset:
    """The signature's features (cached: by its input key, else on the signature object)."""
    got = _by_key.get(sig.key) if sig.key else sig.__dict__.get("_semantic")
    if got is None:
        got = frozenset(signature_case_features(sig) | signature_features(sig)
                        | type_features(sig.types()))
        if sig.key:
            if len(_by_key) >= 4096:
                _by_key.clear()
            _by_key[sig.key] = got
        else:
            sig.__dict__["_semantic"] = got
    return got


def _with_outcome(out: set[str], outcome: str, shape: str = "") -> set[str]:
    if outcome:
        out.add("outcome:" + outcome)
        if shape:
            out.add(f"outcome:{outcome}:{shape}")
    return out


def engine_features(config) -> set[str]:
    """The engine a case runs on (`EngineConfig` or None): its strategy, and each setting paired
    with the strategy, so an input keeps its place for the engine it reaches."""
    if config is None:
        return {"engine:default"}
    head, *settings = config.text().split(",")
    return {f"engine:{head}"} | {f"engine:{head}:{s}" for s in settings}


def roundtrip_features(case, outcome: str = "") -> set[str]:
    """component_roundtrip: signature, engine, call values and outcome."""
    out = set(static_features(case.sig)) | engine_features(case.config)
    _value_features(case.sig, [(c.args, c.ret) for c in case.calls], out)
    return _with_outcome(out, outcome, case.sig.shape)


def static_case_features(case, outcome: str = "") -> set[str]:
    """component_static: as the round trip, its typed values seen as model values."""
    st = case.case
    r = st.result
    calls = [(tuple(p.to_model(a) for p, a in zip(st.params, c.args)),
              r.to_model(c.ret) if r is not None else None) for c in case.calls]
    out = set(static_features(case.sig)) | engine_features(case.config)
    _value_features(case.sig, calls, out)
    return _with_outcome(out, outcome, case.sig.shape)


def misuse_features(case, outcome: str = "") -> set[str]:
    """host_api_misuse: signature, the misuse site and kind, the valid call's values, outcome."""
    out = set(static_features(case.sig)) | misuse_only_features(case) | engine_features(case.config)
    _value_features(case.sig, [(case.call.args, case.call.ret)], out)
    return _with_outcome(out, outcome, case.sig.shape)


def core_features(case, outcome: str = "") -> set[str]:
    """differential_spec: the module's source, engine and call count (its opcodes are reported
    separately, by `report_opcodes`)."""
    out = {f"source:{case.source}", f"engine:{case.engine}", f"calls:{bucket(len(case.calls))}"}
    return _with_outcome(out, outcome)


def outcome_class(status: str, detail: str = "") -> str:
    """A value-free outcome class: `ok`, `known:K1`, `discarded:<message class>`,
    `finding:<check>`."""
    from itfuzz.findings import normalize_error
    if status in ("discarded", "error"):
        return f"{status}:{normalize_error(detail)[:60] if detail else ''}"
    return f"{status}:{detail}" if detail else status


# -- reporting ----------------------------------------------------------------------------------
class Reporter:
    """Maps feature strings to counters of a block reserved once, and bumps them with `trace`,
    or with what `resolve()` gives on the first report (atheris rebinds `_trace_branch` to its
    libFuzzer-linked core in `Setup`: a function taken earlier bumps counters nobody reads)."""

    def __init__(self, reserve: Callable[[], int], trace: Callable[[int], None] | None = None,
                 block: int = BLOCK, resolve: Callable[[], Callable] | None = None) -> None:
        self.counters = [reserve() for _ in range(block)]
        self.trace = trace
        self.resolve = resolve
        self.index: dict[str, int] = {}

    def counter(self, feature: str) -> int:
        i = self.index.get(feature)
        if i is None:
            i = self.counters[zlib.crc32(feature.encode()) % len(self.counters)]
            if len(self.index) < 1 << 16:
                self.index[feature] = i
        return i

    def report(self, feats: Iterable[str]) -> None:
        if self.trace is None:
            self.trace = self.resolve()
        for n, f in enumerate(sorted(feats)):
            if n >= MAX_FEATURES:
                break
            self.trace(self.counter(f))


_reporter: list[Reporter | None] = [None]


def install() -> Reporter | None:
    """Reserve the counter block (before `atheris.Fuzz`; report only once fuzzing runs); None
    when turned off."""
    if not enabled():
        return None
    import atheris
    _reporter[0] = Reporter(atheris._reserve_counter, resolve=lambda: atheris._trace_branch)
    return _reporter[0]


def report_case(features: Callable[[Any, str], set[str]], case, outcome: str) -> None:
    """Report a case's features (by its target's feature function) and its outcome class
    (no-op unless installed)."""
    r = _reporter[0]
    if r is not None:
        r.report(features(case, outcome))


def report_opcodes(counts: dict[int, int]) -> None:
    """Hook for the differential spec target: which opcodes ran (and a coarse count class), e.g.
    after `itfuzz.spec.opcode_counts()`. No-op unless installed."""
    r = _reporter[0]
    if r is not None:
        r.report(opcode_features(counts))


def opcode_features(counts: dict[int, int]) -> set[str]:
    return {f"op:{op:#x}:{bucket(min(n, 1 << 10))}" for op, n in counts.items() if n}


def hostile_features(case, outcome: str = "") -> set[str]:
    """component_hostile: the case's features (verdict and trap reason included), type paths,
    and the outcome."""
    out = hostile_case_features(case) | engine_features(case.config)
    if not case.note:
        out |= type_features(case.types)
        out.add(f"flat-count:{bucket(len(case.flat))}")
        out.add(f"image:{bucket(len(case.image) // 16)}")
    return _with_outcome(out, outcome, case.direction)
