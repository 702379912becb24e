"""The atheris entry point shared by every script in `fuzz_targets/`."""
from __future__ import annotations

import sys


def main(target_name: str) -> None:
    """Instrument itfuzz, build the target once, and hand `TestOneInput` to libFuzzer."""
    import atheris

    with atheris.instrument_imports(include=["itfuzz"]):
        from itfuzz import targets
        from itfuzz.findings import Finding

        target = targets.get(target_name)
        target.oracle  # imports the target's modules (instrumented) and builds its engine

    def test_one_input(data: bytes) -> None:
        try:
            outcome = target.execute(data, skip_known=True)
        except Finding as f:
            sys.stderr.write("\n" + f.report() + "\n")
            sys.stderr.flush()
            raise
        if outcome.status == "known":
            n = target.counts["known"]
            if n & (n - 1) == 0:  # 1, 2, 4, 8…: visible without flooding the log
                sys.stderr.write(f"#itfuzz skipped known findings: {n} (last {outcome.detail})\n")

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
