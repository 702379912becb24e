"""The seed corpus: every input runs clean and together they cover the type and ABI features."""
from __future__ import annotations

import hashlib

import pytest

from itfuzz import targets
from itfuzz.generators.typegen import COMPOUND_KINDS, PRIM_NAMES
from itfuzz.model.case import ENCODINGS

TARGET = "component_roundtrip"


@pytest.fixture(scope="module")
def corpus(repo_root):
    d = repo_root / "corpus" / TARGET
    files = sorted(p for p in d.iterdir() if p.is_file())
    assert files, f"{d} is empty"
    return files


@pytest.fixture(scope="module")
def features(corpus):
    t = targets.get(TARGET)
    out = set()
    for p in corpus:
        out |= t.corpus_features(t.decode(p.read_bytes()))
    return out


def test_every_corpus_input_runs_clean(corpus):
    t = targets.get(TARGET)
    bad = []
    for p in corpus:
        try:
            out = t.execute(p.read_bytes())
        except Exception as e:  # a Finding, or a harness error
            bad.append(f"{p.name}: {type(e).__name__}: {str(e)[:200]}")
            continue
        if out.status != "ok":
            bad.append(f"{p.name}: {out.status} {out.detail}")
    assert not bad, "\n".join(bad)
    assert t.counts["ok"] == len(corpus)


def test_corpus_file_names_are_content_hashes(corpus):
    for p in corpus:
        assert p.name == hashlib.sha1(p.read_bytes()).hexdigest(), p.name


def test_corpus_contains_the_empty_input(corpus):
    assert any(p.stat().st_size == 0 for p in corpus)


@pytest.mark.parametrize("kind", PRIM_NAMES + COMPOUND_KINDS)
def test_corpus_covers_every_type_kind(features, kind):
    assert f"kind:{kind}" in features


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_corpus_covers_every_encoding(features, encoding):
    assert f"encoding:{encoding}" in features
    assert f"{encoding}:string" in features  # and a string actually crosses in it


@pytest.mark.parametrize("feature", ["flat-params:16", "flat-params:17", "flat-results:0",
                                     "flat-results:1", "flat-results:2"])
def test_corpus_covers_flat_count_boundaries(features, feature):
    assert feature in features


def test_corpus_covers_calls_with_and_without_echo(features):
    assert {"echo:True", "echo:False"} <= features
