"""The many calls of one input (`generators.calls`): how many may run, and which one failed.

All calls of an input run on one compiled component in one `Store`, one after another, so a
bug that needs state left by earlier calls (guest memory, the post-return counters, resource
tables) shows too. The Store is not reused across inputs: an input's outcome must depend on its
bytes only (libFuzzer replays inputs alone, `itfuzz repro` runs one), and a store keeps what
earlier calls left (memory grown by `realloc`, a trap poisons it for good), so a shared store
would make findings irreproducible; one instantiation per input costs far less than its calls.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from itfuzz.findings import Finding
from itfuzz.model.case import Call

# wasmtime-py's conversion work one input may spend, in value nodes times (1 + the variant work
# of the signature's costliest value, `wasmtime_values.wasmtime_py_work`): a unit is ~40 us on this
# machine (150 units: ~6 ms an input). wasmtime-py re-reads types through ctypes at every value node
# (~1-3 ms a call for variant-heavy types), so an input of many such calls would cost seconds.
# Measured (bench_throughput, 120 s, 2 runs each): at 2,000 units (~80 ms) wasmtime-py's quarter
# of the inputs took ~half the time: 160-172 exec/s, 5,600 round trips/s, 720-820 new
# components/min; at 500: 212-243, 6,500-7,600, 1,020-1,065, libFuzzer cov/ft higher too; at
# 250: no further gain. At 150 (the first call always runs): a wasmtime-py lane input of the
# seed corpus costs 2.49 instead of 3.32 ms CPU (60: 2.13); that lane still took a third of the
# fuzzing process's time with 14-26 % of the calls. The C lane runs every call of an input.
WORK_BUDGET = 150


def affordable(calls: tuple[Call, ...], work: int) -> tuple[Call, ...]:
    """The calls an input runs: the first one always, then as many as `WORK_BUDGET` allows."""
    spent = 0
    for n, call in enumerate(calls):
        spent += (1 + work) * max(1, call.nodes)
        if spent > WORK_BUDGET and n > 0:
            return calls[:n]
    return calls


@contextmanager
def naming_call(n: int, total: int) -> Iterator[None]:
    """A finding raised inside names call `n` of `total` (the earlier calls passed)."""
    try:
        yield
    except Finding as f:
        if total > 1:
            head = f"call #{n} of {total} (the calls before it passed)"
            f.values = head + ("\n" + f.values if f.values else "")
        raise
