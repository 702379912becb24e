"""Semantic features of resource misuse inputs (host_api_misuse): site, kind, parent, ownership."""
from __future__ import annotations

import random

from itfuzz import targets
from itfuzz.engines.resource_misuse import KINDS, MAGIC


def test_resource_misuse_features_name_site_kind_parent_and_ownership():
    t = targets.get("host_api_misuse")
    rng = random.Random(17)
    seen = set()
    for _ in range(800):
        case = t.decode(MAGIC + rng.randbytes(rng.choice((64, 256, 700))))
        feats = t.corpus_features(case)
        res = {f for f in feats if f.startswith("res-misuse:")}
        if case.res is None:
            assert not res
            continue
        want = (f"res-misuse:{case.where}:{case.res.kind}:{case.res.at.parent}:"
                f"{case.res.at.handle.kind}")
        assert res == {want}
        assert f"misuse:{case.where}:{case.res.kind}:{case.res.at.handle.kind}" in feats
        assert res <= t.features(case, "ok")  # reported to libFuzzer too
        seen.add(case.res.kind)
    assert seen == set(KINDS)
