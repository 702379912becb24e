"""component_static on the C-API lane: one input in 4 (by a checksum, no byte read) runs its
typed values as model values through the C lane; the rest stay on wasmtime-py's typed path."""
from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

from itfuzz import targets
from itfuzz.findings import Discard, Finding
from itfuzz.known_findings import known
from itfuzz.oracles.capi_lane import CLaneRunner
from itfuzz.static.decode import decode_static_case

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "component_static"
SEEDS = [p.read_bytes() for p in sorted(CORPUS.iterdir())]


def outcomes(lane: str, inputs, **faults) -> tuple[list[str], object]:
    t = targets.get("component_static")
    if faults:
        t.oracle.c_lane = CLaneRunner(t.oracle, **faults)
        t.oracle.stats["lanes"] = t.oracle.c_lane.counts
    t.oracle.c_lane.force = lane
    out = []
    for data in inputs:
        try:
            t.execute(data)
            out.append("ok")
        except Finding as f:
            out.append(f"{f.signature} @ {f.engine}")
        except Discard:
            out.append("discard")
    return out, t.oracle


def test_one_input_in_four_takes_the_c_lane_and_keeps_its_case_and_values():
    rng = random.Random(4)
    inputs = [rng.randbytes(rng.choice((8, 40, 200))) for _ in range(400)]
    cases = [decode_static_case(d) for d in inputs]
    share = sum(c.lane == "c" for c in cases) / len(cases)
    assert 0.15 < share < 0.35
    for d, c in zip(inputs[:50], cases):  # the lane reads no byte: the same case and values
        again = decode_static_case(d)
        assert (again.case.index, repr(again.calls), again.lane) == (c.case.index,
                                                                    repr(c.calls), c.lane)


def test_the_seeds_give_the_same_outcomes_on_both_lanes():
    c, oc = outcomes("c", SEEDS)
    py, opy = outcomes("py", SEEDS)
    differ = [(i, a, b) for i, (a, b) in enumerate(zip(c, py))
              if a.split(" @ ")[0] != b.split(" @ ")[0]
              and not known(b.split(" @ ")[0], "component_static")]
    assert not differ
    assert oc.stats["lanes"]["py"] == 0 and oc.stats["lanes"]["c"] > 200  # type: ignore[attr-defined]


def test_a_planted_c_fault_in_a_static_case_is_reported_on_the_c_lane():
    out, _ = outcomes("c", SEEDS, fault="swap", fault_where="result")
    found = [o for o in out if o != "ok"]
    assert found and all(o.startswith("result-mismatch|") and "C-API lane" in o for o in found)


def test_a_c_lane_static_finding_gets_the_c_api_script(tmp_path):
    from itfuzz.ops.reproducer import static_script
    data = next(d for d in SEEDS if not decode_static_case(d).sig.resources
                and not decode_static_case(d).sig.guest)
    case = decode_static_case(data)
    f = Finding("result-mismatch", "u32:value:int->int", "planted", target="component_static",
                engine="wasmtime 50.0.1, C-API lane")
    text = static_script(case, f)
    assert "wasmtime_component_func_call" in text
    path = tmp_path / "repro.py"
    path.write_text(text)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, (done.stdout, done.stderr)  # a clean case: every check passes
