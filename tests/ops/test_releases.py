"""Every target's seed corpus on older releases: no finding but the known ones of that release.

Each release runs in its own environment (made on first use from PyPI, then reused) and child
processes, so an abort is an outcome. A finding is allowed on a release only if the registry
knows it there (`known_findings`: not fixed on that release).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from itfuzz import targets
from itfuzz.known_findings import BY_SIGNATURE
from itfuzz.ops.isolate import run_isolated
from itfuzz.versions import parse_version

ROOT = Path(__file__).resolve().parents[2]
RELEASES = ["39.0.0", "44.0.0"]  # the oldest supported and the first after the 44 fixes


def known_on(signature: str, release: str) -> bool:
    k = BY_SIGNATURE.get(signature)
    return k is not None and not k.fixed_on(parse_version(release))


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("ITFUZZ_OFFLINE") == "1", reason="needs PyPI for old releases")
@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("target", targets.names())
def test_seed_corpus_on_an_older_release(target, release):
    from itfuzz.ops.releases import release_python
    python = str(release_python(release))
    files = sorted(str(p) for p in (ROOT / "corpus" / target).iterdir())
    unknown = [(Path(o.file).name, o.signature) for o in run_isolated(target, files, 60, python)
               if o.shows_bug and not known_on(o.signature or "", release)]
    assert unknown == [], f"new findings of {target} on wasmtime {release}"


def test_known_on_follows_fixed_in():
    assert known_on("abort|crates/wasmtime/src/runtime/component/values.rs", "43.0.0")  # K14
    assert not known_on("abort|crates/wasmtime/src/runtime/component/values.rs", "44.0.0")
    assert known_on("wasmtime-py-untagged|object", "50.0.1")  # K1, not fixed
    assert not known_on("result-mismatch|u32:value:int->int", "39.0.0")
