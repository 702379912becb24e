"""The fuzzing process calms the cyclic garbage collector before libFuzzer starts
(`fuzzing.calm_gc`): what exists is frozen, young collections wait for `GC_YOUNG` objects."""
from __future__ import annotations

import gc

from itfuzz import fuzzing


def test_calm_gc_freezes_and_raises_the_young_threshold():
    before = gc.get_threshold()
    kept = object.__new__(type("Held", (), {}))  # a tracked object made before the call
    try:
        fuzzing.calm_gc()
        assert gc.get_threshold() == (fuzzing.GC_YOUNG, 10, 10)
        assert gc.get_freeze_count() > 0
        assert all(o is not kept for o in gc.get_objects())  # frozen: no collection walks it
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
