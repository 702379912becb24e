"""The host-API misuse target's C-level twin: invalid C values must give an error.

A `MisuseCase` whose `lane` is "c" carries a `CMisuse` (`engines.capi.invalid`): the encoded
call with one invalid argument, an invalid host result, or a wrong argument count. It runs
through the C lane's linker (the host `g` checks and answers in C). Required: Wasmtime's C API
returns an error (for an argument or count, before the host runs). Findings:

- `capi-misuse-accepted|KIND`: the call went through (the host ran with the invalid argument,
  or `f` completed with the invalid host result).
- `capi-misuse-abort|KIND`: the process aborts (a Rust panic in the C API). Under libFuzzer and
  `itfuzz repro` (a child process, `ops/isolate.py`) a new one shows as a crash; the known ones
  (K8: chars that are not scalar values, K23: strings and names that are not UTF-8) are
  predicted without running so fuzzing continues, unless `ITFUZZ_MISUSE_RUN_ABORTS=1`.
"""
from __future__ import annotations

import wasmtime

from itfuzz.engines.capi import encoding, lane
from itfuzz.engines.component_engine import instantiate_pooled
from itfuzz.findings import Discard, Finding, first_line, short
from itfuzz.known_findings import known
from itfuzz.oracles.discard import is_nondeterministic

# Kinds that abort the process on the releases their known finding lists.
PREDICTED_ABORTS = {"string-bad-utf", "name-bad-utf", "char-surrogate", "char-range"}
ACCEPTED = {lane.OK, lane.RESULT, lane.HOST_ARG, lane.HOST_COUNTS, lane.HOST_COUNT,
            lane.HOST_TWICE}


def run_c_misuse(oracle, case, entry) -> None:
    """Run the C-level misuse of `case` on `oracle` (a MisuseOracle) and its prepared `entry`."""
    try:
        _run(oracle, case, entry)
    except Finding as f:
        f.engine = f"{f.engine}, C-API lane" if f.engine else "C-API lane"
        raise


def _run(oracle, case, entry) -> None:
    cm = case.c_misuse
    if cm.kind in PREDICTED_ABORTS and not oracle.run_aborts \
            and known(f"capi-misuse-abort|{cm.kind}", oracle.target) is not None:
        raise oracle.misuse_finding(
            "capi-misuse-abort", cm.kind,
            "predicted without running: Wasmtime's C API aborts the process (val.rs unwraps "
            "the UTF-8 / char conversion); run with ITFUZZ_MISUSE_RUN_ABORTS=1 to see it",
            case, entry)
    linker = oracle.c_lane.linker(entry)
    store = wasmtime.Store(getattr(entry, "engine", None) or oracle.engine)
    try:
        inst = instantiate_pooled(lambda: linker.instantiate(store, entry.component))
    except lane.LaneError as e:
        oracle._raise_error("instantiate", wasmtime.WasmtimeError(str(e)), entry)
    oracle.stats["calls"] += 1
    oracle.c_lane.counts["c"] += 1
    out = inst.call(inst.func("f"), cm.args, cm.nargs, cm.ret, cm.nresults)
    if out is None:
        out = lane.Outcome(lane.OK, 0, 1, b"")
    if out.status == lane.ERROR:
        if is_nondeterministic(out.message):
            oracle.stats["discarded"] += 1
            raise Discard(first_line(RuntimeError(out.message)))
        return  # rejected, as required
    if out.status not in ACCEPTED:
        raise RuntimeError(f"C misuse: status {out.status} ({out.message[:200]}): a harness bug")
    if out.status == lane.HOST_ARG:
        arrival = f"the host ran, with arguments {_shown(case, out.out)}"
    elif cm.where != "ret" and out.count > 0:
        arrival = "the host ran (with the arguments as given)"
    else:
        arrival = "f completed" + (f" and returned {_shown(case, out.out, True)}"
                                   if out.status == lane.RESULT else "")
    raise oracle.misuse_finding("capi-misuse-accepted", cm.kind,
                                f"Wasmtime's C API accepted an invalid value: {arrival}",
                                case, entry)


def _shown(case, dump: bytes, result: bool = False) -> str:
    types = [case.sig.result] if result else [t for _, t in case.sig.params]
    try:
        return short(tuple(encoding.decode(types, dump)), 1000)
    except ValueError:
        return f"(dump {dump[:200].hex()})"
