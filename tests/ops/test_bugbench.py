"""The bug-finding benchmark's planted bugs (bench/planted.py) are visible to the oracles: each
one's committed trigger is detected when replayed with the bug applied, and passes without it,
so the benchmark measures search, not oracle blindness."""
from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from faults import bench_plants, plant_bench_bug

from itfuzz import targets
from itfuzz.findings import Finding

ROOT = Path(__file__).resolve().parents[2]
PLANTS = bench_plants()
TRIGGERS = ROOT / "bench" / "planted_triggers"


def outcome(plant_name: str, data: bytes, apply: bool) -> str:
    """The finding signature (or "ok") of `data` on the plant's first target, run in a fresh
    target (no component cached from another run), with or without the planted bug."""
    plant = PLANTS[plant_name]
    with plant_bench_bug(plant_name) if apply else contextlib.nullcontext():
        target = targets.get(plant.targets[0])
        try:
            return target.execute(data).status
        except Finding as f:
            return f.signature


def test_at_least_eight_plants():
    assert len(PLANTS) >= 8
    assert {p.targets[0] for p in PLANTS.values()} == {"component_roundtrip", "differential_spec"}


@pytest.mark.parametrize("name", sorted(PLANTS))
def test_trigger_detected_only_with_the_plant(name):
    data = (TRIGGERS / f"{name}.bin").read_bytes()
    plant = PLANTS[name]
    with_bug = outcome(name, data, apply=True)
    assert plant.detects(with_bug), f"{name}: replayed trigger gave {with_bug}"
    without = outcome(name, data, apply=False)
    assert without == "ok", f"{name}: trigger fails without the planted bug: {without}"


@pytest.mark.parametrize("name", sorted(PLANTS))
def test_undo_restores(name):
    from wasmtime.component import _types

    from itfuzz.generators import components as component
    from itfuzz.oracles import differential
    state = lambda: (dict(vars(_types.U64)), dict(vars(_types.ListType)), component.main_module,
                     differential.raw_caller)
    before = state()
    with plant_bench_bug(name):
        pass
    assert state() == before


def test_list_256_drop_counts_maps():
    """A map's host form is a list of pairs lowered by the patched list code: a 256-entry map
    losing an entry is this plant, not another finding."""
    plant = PLANTS["list-256-drop"]
    assert plant.detects("host-arg-mismatch|list:length:list->list")
    assert plant.detects("result-mismatch|map:length:list->list")
    assert not plant.detects("host-arg-mismatch|map:value:list->list")
