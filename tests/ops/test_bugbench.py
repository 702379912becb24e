"""The bug-finding benchmark's planted bugs (bench/planted.py) are visible to the oracles: each
one's committed trigger is detected when replayed with the bug applied, and passes without it,
so the benchmark measures search, not oracle blindness."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from itfuzz import targets
from itfuzz.findings import Finding

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import planted  # noqa: E402

TRIGGERS = ROOT / "bench" / "planted_triggers"


def outcome(plant_name: str, data: bytes, apply: bool) -> str:
    """The finding signature (or "ok") of `data` on the plant's first target, run in a fresh
    target (no component cached from another run), with or without the planted bug."""
    plant = planted.PLANTS[plant_name]
    undo = plant.patch() if apply else (lambda: None)
    try:
        target = targets.get(plant.targets[0])
        try:
            return target.execute(data).status
        except Finding as f:
            return f.signature
    finally:
        undo()


def test_at_least_eight_plants():
    assert len(planted.PLANTS) >= 8
    assert {p.targets[0] for p in planted.PLANTS.values()} == {"component_roundtrip"}


@pytest.mark.parametrize("name", sorted(planted.PLANTS))
def test_trigger_detected_only_with_the_plant(name):
    data = (TRIGGERS / f"{name}.bin").read_bytes()
    plant = planted.PLANTS[name]
    with_bug = outcome(name, data, apply=True)
    assert plant.detects(with_bug), f"{name}: replayed trigger gave {with_bug}"
    without = outcome(name, data, apply=False)
    assert without == "ok", f"{name}: trigger fails without the planted bug: {without}"


@pytest.mark.parametrize("name", sorted(planted.PLANTS))
def test_undo_restores(name):
    from wasmtime.component import _types

    from itfuzz.generators import components as component
    before = (dict(vars(_types.U64)), dict(vars(_types.ListType)), component.main_module)
    planted.PLANTS[name].patch()()
    assert (dict(vars(_types.U64)), dict(vars(_types.ListType)), component.main_module) == before
