"""Fuzz targets by name: how bytes become a case, how a case runs, how it is shown.

`Target.execute` is the one code path shared by the atheris entry point, `itfuzz repro` and the
tests, so a finding reproduces exactly as it was found.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .findings import Discard, Finding, short
from .known_findings import known

MAX_INPUT = 1 << 20  # larger inputs are cut (libFuzzer's -max_len is far below this)


@dataclass
class Outcome:
    status: str  # "ok" | "discarded" | "known"
    detail: str = ""


@dataclass
class Target:
    name: str
    decode: Callable[[bytes], Any]
    make_oracle: Callable[[], Any]
    show_case: Callable[[Any], str]
    _oracle: Any = field(default=None, repr=False)
    counts: dict = field(default_factory=lambda: {"ok": 0, "discarded": 0, "known": 0})
    last_case: Any = field(default=None, repr=False)  # the case `execute` decoded last

    @property
    def oracle(self):
        if self._oracle is None:
            self._oracle = self.make_oracle()
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
            k = known(f.signature)
            if k is not None and skip_known:
                self.counts["known"] += 1
                return Outcome("known", k.id)
            raise
        self.counts["ok"] += 1
        return Outcome("ok")

    def show(self, data: bytes) -> str:
        return self.show_case(self.decode(data[:MAX_INPUT]))


def _show_roundtrip(case, wat: Optional[str] = None) -> str:
    from .component import component_text
    lines = ["-- signature (WIT) --", case.sig.wit(), "-- calls --"]
    for i, call in enumerate(case.calls):
        args = ", ".join(f"{n}={short(a, 400)}" for (n, _), a in zip(case.sig.params, call.args))
        ret = f" -> host returns {short(call.ret, 400)}" if case.sig.result is not None else ""
        lines.append(f"#{i}: f({args}){ret}")
    lines += ["-- component (WAT) --", wat if wat is not None else component_text(case.sig)]
    return "\n".join(lines)


def _roundtrip() -> Target:
    from .case import decode
    from .oracles.roundtrip import RoundTripOracle
    return Target("component_roundtrip", decode, RoundTripOracle, _show_roundtrip)


def _show_misuse(case) -> str:
    from .component import component_text
    args = ", ".join(f"{n}={short(a, 400)}" for (n, _), a in zip(case.sig.params, case.call.args))
    ret = f" -> host returns {short(case.call.ret, 400)}" if case.sig.result is not None else ""
    return "\n".join(["-- signature (WIT) --", case.sig.wit(), "-- misuse --", case.describe(),
                      "-- valid call (after the misuse) --", f"f({args}){ret}",
                      "-- component (WAT) --", component_text(case.sig)])


def _misuse() -> Target:
    from .invalid_values import decode_misuse
    from .oracles.misuse import MisuseOracle
    return Target("host_api_misuse", decode_misuse, MisuseOracle, _show_misuse)


def _show_static(case) -> str:
    from .oracles.static import default_cases
    head = f"-- static case {case.case.index} of {len(default_cases())} (typed values) --\n"
    return head + _show_roundtrip(case, case.case.wat)


def _static() -> Target:
    from .oracles.static import StaticOracle, decode
    return Target("component_static", decode, StaticOracle, _show_static)


def _differential() -> Target:
    from .oracles.differential import DifferentialOracle, decode, show
    return Target("differential_spec", decode, DifferentialOracle, show)


FACTORIES: dict[str, Callable[[], Target]] = {
    "component_roundtrip": _roundtrip,
    "component_static": _static,
    "differential_spec": _differential,
    "host_api_misuse": _misuse,
}


def names() -> list[str]:
    return sorted(FACTORIES)


def get(name: str) -> Target:
    try:
        return FACTORIES[name]()
    except KeyError:
        raise SystemExit(f"itfuzz: unknown target {name!r}; targets: {', '.join(names())}") from None


def known_note(f: Finding) -> Optional[str]:
    k = known(f.signature)
    return f"known finding {k.id}: {k.title}" if k else None
