"""Fuzz targets by name: how bytes become a case, how a case runs, how it is shown.

`Target.execute` is the one code path shared by the atheris entry point, `itfuzz repro` and the
tests, so a finding reproduces exactly as it was found.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from itfuzz.findings import Discard, Finding, short
from itfuzz.known_findings import known

MAX_INPUT = 1 << 20  # larger inputs are cut (libFuzzer's -max_len is far below this)


@dataclass
class Outcome:
    status: str  # "ok" | "discarded" | "known"
    detail: str = ""


@dataclass
class Target:
    """A fuzz target: how bytes become a case (`decode`), the oracle that runs it, how a case is
    shown, and its feature functions: `corpus_features(case)` (value-free, what the seed corpus
    must cover) and `features(case, outcome)` (semantic coverage reported to libFuzzer).
    `structure_end(data)`: where an input's values start (None: no such split), for the
    structure-keeping mutator (`generators.mutator`); `read_end(data)`: how many bytes the
    decoder reads, when it reads values from the front only (None: unknown, all may count);
    `signature_end(data)`: where the signature at the front of the structure ends (None: the
    structure is edited as one); `structure_one_in`: the mutator's structure-edit rate for this
    target (None: `generators.mutator.STRUCTURE_ONE_IN`); `component_of(oracle, data)`: the
    (engine configuration, component text) the oracle will compile for an input, for the
    precompile helper (`engines.precompile`; None: the target has none)."""

    name: str
    decode: Callable[[bytes], Any]
    make_oracle: Callable[[], Any]
    show_case: Callable[[Any], str]
    corpus_features: Callable[[Any], set]
    features: Callable[[Any, str], set]
    structure_end: Callable[[bytes], int] | None = None
    read_end: Callable[[bytes], int] | None = None
    signature_end: Callable[[bytes], int] | None = None
    structure_one_in: float | None = None
    component_of: Callable[[Any, bytes], tuple] | None = None
    _oracle: Any = field(default=None, repr=False)
    counts: dict = field(default_factory=lambda: {"ok": 0, "discarded": 0, "known": 0})
    last_case: Any = field(default=None, repr=False)  # the case `execute` decoded last

    @property
    def oracle(self):
        if self._oracle is None:
            self._oracle = self.make_oracle()
            _ORACLES.add(self._oracle)
        return self._oracle

    def execute(self, data: bytes, skip_known: bool = False) -> Outcome:
        """Decode and run one input; raises `Finding` unless it is known and skipped."""
        case = self.last_case = self.decode(data[:MAX_INPUT])
        try:
            self.oracle.run(case)
        except Discard as d:
            self.counts["discarded"] += 1
            return Outcome("discarded", str(d))
        except Finding as f:
            k = known(f.signature, self.name)
            if k is not None and skip_known:
                self.counts["known"] += 1
                return Outcome("known", k.id)
            raise
        self.counts["ok"] += 1
        return Outcome("ok")

    def component(self, data: bytes) -> tuple | None:
        """(engine configuration, component text) that running `data` compiles, or None."""
        return self.component_of(self.oracle, data[:MAX_INPUT]) if self.component_of else None

    def show(self, data: bytes) -> str:
        return self.show_case(self.decode(data[:MAX_INPUT]))


def _engine_line(case) -> str:
    """The engine a case runs on (`TestCase.config`: Wasmtime's default or a configuration) and,
    for cases that have one, its lane (`c`: the C-API lane, `py`: wasmtime-py)."""
    from itfuzz.model.engine_config import engine_text
    lane = getattr(case, "lane", None)
    return f"-- engine: {engine_text(case.config)}" + (f", lane {lane}" if lane else "") + " --"


def _show_roundtrip(case, wat: str | None = None) -> str:
    from itfuzz.generators.components import component_text, for_config
    from itfuzz.oracles.calls import PY_MAX_NODES, too_big_for_py
    lines = [_engine_line(case)]
    if getattr(case, "lane", None) == "py" and too_big_for_py(case.calls):
        lines.append(f"-- its first call has {case.calls[0].nodes} value nodes (more than "
                     f"{PY_MAX_NODES}): it runs on the C-API lane where that lane can --")
    lines += ["-- signature (WIT) --", case.sig.wit(), "-- calls --"]
    for i, call in enumerate(case.calls):
        args = ", ".join(f"{n}={short(a, 400)}" for (n, _), a in zip(case.sig.params, call.args))
        ret = f" -> host returns {short(call.ret, 400)}" if case.sig.result is not None else ""
        lines.append(f"#{i}: f({args}){ret}")
    wat = wat if wat is not None else component_text(case.sig)
    lines += ["-- component (WAT) --", for_config(wat, case.config)]
    return "\n".join(lines)


def _roundtrip() -> Target:
    from itfuzz.feedback.features import roundtrip_case_features
    from itfuzz.feedback.semantic import roundtrip_features
    from itfuzz.generators.signatures import (
        HEADS,
        STRUCTURE_ONE_IN,
        decode_roundtrip,
        signature_end,
        values_start,
    )
    from itfuzz.oracles.roundtrip import RoundTripOracle
    return Target("component_roundtrip", decode_roundtrip, RoundTripOracle, _show_roundtrip,
                  roundtrip_case_features, roundtrip_features, values_start,
                  signature_end=signature_end, structure_one_in=STRUCTURE_ONE_IN,
                  component_of=lambda oracle, data: oracle.component_of(HEADS.decode(data)[0]))


def _show_misuse(case) -> str:
    from itfuzz.generators.components import component_text, for_config
    args = ", ".join(f"{n}={short(a, 400)}" for (n, _), a in zip(case.sig.params, case.call.args))
    ret = f" -> host returns {short(case.call.ret, 400)}" if case.sig.result is not None else ""
    return "\n".join([_engine_line(case), "-- signature (WIT) --", case.sig.wit(),
                      "-- misuse --", case.describe(),
                      "-- valid call (after the misuse) --", f"f({args}){ret}",
                      "-- component (WAT) --", for_config(component_text(case.sig), case.config)])


def _misuse() -> Target:
    from itfuzz.engines.invalid_values import decode_misuse, misuse_head
    from itfuzz.feedback.features import misuse_case_features
    from itfuzz.feedback.semantic import misuse_features
    from itfuzz.generators.heads import prefix_end
    from itfuzz.oracles.misuse import MisuseOracle
    return Target("host_api_misuse", decode_misuse, MisuseOracle, _show_misuse,
                  misuse_case_features, misuse_features, prefix_end(misuse_head),
                  component_of=lambda oracle, data: oracle.component_of(decode_misuse(data)))


def _show_static(case) -> str:
    from itfuzz.static.decode import default_cases
    head = f"-- static case {case.case.index} of {len(default_cases())} (typed values) --\n"
    return head + _show_roundtrip(case, case.case.wat)


def _static() -> Target:
    from itfuzz.feedback.features import roundtrip_case_features
    from itfuzz.feedback.semantic import static_case_features
    from itfuzz.oracles.static import StaticOracle
    from itfuzz.static.decode import decode_static_case, static_values_start
    return Target("component_static", decode_static_case, StaticOracle, _show_static,
                  roundtrip_case_features, static_case_features, static_values_start,
                  component_of=lambda oracle, data: oracle.component_of(decode_static_case(data)))


def _differential() -> Target:
    from itfuzz.feedback.features import core_case_features
    from itfuzz.feedback.semantic import core_features, report_opcodes
    from itfuzz.generators.core_cases import decode_core_case, module_end, read_end, show_core_case
    from itfuzz.oracles.differential import DifferentialOracle
    return Target("differential_spec", decode_core_case,
                  lambda: DifferentialOracle(on_opcodes=report_opcodes), show_core_case,
                  core_case_features, core_features, module_end, read_end)


def _show_hostile(case) -> str:
    from itfuzz.generators.hostile_components import hostile_component_text
    from itfuzz.oracles.hostile import describe_case
    if case.note:
        return (f"-- no runnable case: {case.note}\n{_engine_line(case)}\n"
                f"-- signature (WIT) --\n{case.sig.wit()}")
    return "\n".join([_engine_line(case), "-- signature (WIT) --", case.sig.wit(),
                      "-- case --", describe_case(case),
                      "-- component (WAT) --", hostile_component_text(case.sig, case.direction)])


def _hostile() -> Target:
    from itfuzz.feedback.features import hostile_case_features
    from itfuzz.feedback.semantic import hostile_features
    from itfuzz.generators.heads import prefix_end
    from itfuzz.generators.hostile import decode_hostile_case, hostile_head
    from itfuzz.oracles.hostile import HostileOracle
    return Target("component_hostile", decode_hostile_case, HostileOracle, _show_hostile,
                  hostile_case_features, hostile_features, prefix_end(hostile_head))


FACTORIES: dict[str, Callable[[], Target]] = {
    "component_hostile": _hostile,
    "component_roundtrip": _roundtrip,
    "component_static": _static,
    "differential_spec": _differential,
    "host_api_misuse": _misuse,
}


def names() -> list[str]:
    return sorted(FACTORIES)


# Every oracle made (weakly). An oracle lives as long as the process: its host functions are
# closures over it, which wasmtime-py keeps in a global table, so its compiled components and
# engines live on with it too (a pooling engine reserves ~64 GiB of address space). One fuzzing
# process has one; a process that makes many (the tests) frees what they hold with
# `release_oracles`.
_ORACLES: weakref.WeakSet = weakref.WeakSet()


def release_oracles() -> None:
    """Drop the compiled components and configured engines every oracle made so far holds
    (they compile again when used)."""
    from itfuzz.engines.configs import Engines
    from itfuzz.lru import LRU
    for oracle in list(_ORACLES):
        for owner in (oracle, *(v for v in vars(oracle).values() if hasattr(v, "__dict__"))):
            for v in vars(owner).values():
                if isinstance(v, LRU):
                    v.clear()
                elif isinstance(v, Engines):
                    v.cache.clear()


def get(name: str) -> Target:
    try:
        return FACTORIES[name]()
    except KeyError:
        raise SystemExit(f"itfuzz: unknown target {name!r}; targets: {', '.join(names())}") from None


def known_note(f: Finding) -> str | None:
    k = known(f.signature, f.target or None)
    return f"known finding {k.id}: {k.title}" if k else None
