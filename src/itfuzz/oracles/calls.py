"""The many calls of one input (`generators.calls`): how many may run, and which one failed.

All calls of an input run on one compiled component in one `Store`, one after another, so a
bug that needs state left by earlier calls (guest memory, the post-return counters, resource
tables) shows too. The Store is not reused across inputs: an input's outcome must depend on its
bytes only (libFuzzer replays inputs alone, `itfuzz repro` runs one), and a store keeps what
earlier calls left (memory grown by `realloc`, a trap poisons it for good), so a shared store
would make findings irreproducible; one instantiation per input costs far less than its calls.
"""
from __future__ import annotations

from itfuzz.findings import Finding
from itfuzz.model.case import Call

# wasmtime-py's conversion work one input may spend, in value nodes times (1 + the variant work
# of the signature's costliest value, `wasmtime_values.wasmtime_py_work`), plus `CALL_UNITS` a
# call: a unit is ~40 us on this machine (150 units: ~6 ms an input). wasmtime-py re-reads types
# through ctypes at every value node (~1-3 ms a call for variant-heavy types), so an input of many
# such calls would cost seconds. Measured (bench_throughput, 120 s, 2 runs each): at 2,000 units
# (~80 ms) wasmtime-py's quarter of the inputs took ~half the time: 160-172 exec/s, 5,600 round
# trips/s, 720-820 new components/min; at 500: 212-243, 6,500-7,600, 1,020-1,065, libFuzzer
# cov/ft higher too; at 250: no further gain. At 150 (the first call always runs): a wasmtime-py
# lane input of the seed corpus costs 2.49 instead of 3.32 ms CPU (60: 2.13). The C lane runs
# every call of an input.
WORK_BUDGET = 150
# A call's own cost on the wasmtime-py lane besides its value nodes (the post-return counters,
# the resource bookkeeping): ~130 us. Without it an input of 256 one-node calls ran 150 of them,
# ~20 ms, the costliest inputs left in a grown corpus after `PY_MAX_NODES`.
CALL_UNITS = 3
# The budget bounds the calls after the first; the first one's size the lane. In a corpus grown by
# a 90 s run, 4.5 % of the wasmtime-py lane's inputs held 59 % of its CPU time: first calls of
# 484-8,193 value nodes at 25-220 ms each (one input on that lane cost 8.2 ms on average, 2.0 ms
# on the C lane). A case whose first call has more nodes than this runs on the C-API lane when
# that lane can run it (`CLaneRunner.takes`). Not lower: at 256, lists of 256-257 elements (a
# length boundary) and the planted wasmtime-py bugs' triggers (302-458 nodes, 14-30 ms) never
# reached wasmtime-py; at 1,024 the four costliest inputs of that corpus (1,026-8,193 nodes,
# 44 % of the lane's time) leave it.
PY_MAX_NODES = 1024


def cost(call: Call, work: int) -> int:
    """A call's conversion work on the wasmtime-py lane, in `WORK_BUDGET` units."""
    return CALL_UNITS + (1 + work) * max(1, call.nodes)


def affordable(calls: tuple[Call, ...], work: int) -> tuple[Call, ...]:
    """The calls an input runs: the first one always, then as many as `WORK_BUDGET` allows."""
    spent = 0
    for n, call in enumerate(calls):
        spent += cost(call, work)
        if spent > WORK_BUDGET and n > 0:
            return calls[:n]
    return calls


def too_big_for_py(calls: tuple[Call, ...]) -> bool:
    """Whether a case's first call is too big for the wasmtime-py lane (`PY_MAX_NODES`)."""
    return bool(calls) and calls[0].nodes > PY_MAX_NODES


def name_call(f: Finding, n: int, total: int) -> None:
    """Make finding `f`, raised by call `n` of `total`, name that call (the earlier ones
    passed). The calls' loop catches and re-raises: a context manager per call cost ~2 us of
    the C lane's ~8 us a call."""
    if total > 1 and n > 0:
        head = f"call #{n} of {total} (the calls before it passed)"
        f.values = head + ("\n" + f.values if f.values else "")
