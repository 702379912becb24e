#!/usr/bin/env python3
"""A fuzz target with one planted bug: `ITFUZZ_PLANT=NAME bench/bugbench_fuzz.py TARGET [libFuzzer
flags]`. Runs `itfuzz.fuzzing.main(TARGET)` unchanged, except that once atheris is set up (itfuzz
already imported and instrumented) the planted bug is applied, and `Target.execute` is wrapped:
a finding the plant detects is recorded as JSON in `ITFUZZ_BENCH_OUT` (executions, and seconds
since the first input finished: loading and compiling for it is warm-up) and crashes as usual;
any other finding is skipped like a known one, so the run goes on until the planted bug is found
or `ITFUZZ_BENCH_LIMIT` seconds have passed (then the result says not found and the process
exits 0).
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import atheris  # noqa: E402
import planted  # noqa: E402

PLANT = planted.PLANTS[os.environ["ITFUZZ_PLANT"]]
OUT = os.environ.get("ITFUZZ_BENCH_OUT", "")
LIMIT = float(os.environ.get("ITFUZZ_BENCH_LIMIT", "inf"))  # seconds


def _arm() -> None:
    from itfuzz import targets
    from itfuzz.findings import Finding

    PLANT.patch()
    execute = targets.Target.execute
    state = {"execs": 0, "start": 0.0, "other": 0}

    def record(found: bool, signature: str = "") -> None:
        if OUT:
            seconds = time.monotonic() - state["start"] if state["start"] else 0.0
            Path(OUT).write_text(json.dumps({
                "plant": PLANT.name, "found": found, "signature": signature,
                "execs": state["execs"], "seconds": seconds, "other": state["other"]}))

    def wrapped(self, data, skip_known=False):
        state["execs"] += 1
        if state["start"] and time.monotonic() - state["start"] > LIMIT:
            record(False)
            sys.stderr.flush()
            os._exit(0)  # the time limit, from the end of the first input
        try:
            return execute(self, data, skip_known=skip_known)
        except Finding as f:
            if not PLANT.detects(f.signature):
                state["other"] += 1
                return targets.Outcome("known", "other")
            record(True, f.signature)
            raise
        finally:
            if not state["start"]:  # the clock starts once the first input (warm-up) is done
                state["start"] = time.monotonic()
    targets.Target.execute = wrapped


_setup = atheris.Setup


def setup(*args, **kw):
    _arm()
    return _setup(*args, **kw)


atheris.Setup = setup

if __name__ == "__main__":
    from itfuzz.fuzzing import main
    main(sys.argv.pop(1))
