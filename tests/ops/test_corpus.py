"""The seed corpus: every input runs clean and together they cover the type and ABI features."""
from __future__ import annotations

import hashlib

import pytest

from itfuzz import targets
from itfuzz.generators.typegen import COMPOUND_KINDS, PRIM_NAMES
from itfuzz.model.case import ENCODINGS
from itfuzz.model.types import MAP_KEY_KINDS

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


@pytest.mark.parametrize("name", targets.names())
def test_every_corpus_input_runs_clean(name, repo_root):
    """Every target's seeds run clean on the pinned release (no finding, no discard, no error)."""
    files = sorted(p for p in (repo_root / "corpus" / name).iterdir() if p.is_file())
    assert files, f"corpus/{name} is empty"
    t = targets.get(name)
    bad = []
    for p in files:
        try:
            out = t.execute(p.read_bytes())
        except Exception as e:  # a Finding, or a harness error
            bad.append(f"{p.name}: {type(e).__name__}: {str(e)[:300]}")
            continue
        if out.status != "ok":
            bad.append(f"{p.name}: {out.status} {out.detail}")
    assert not bad, "\n".join(bad)
    assert t.counts["ok"] == len(files)


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


@pytest.mark.parametrize("key", MAP_KEY_KINDS)
def test_corpus_covers_maps_of_every_key_kind(features, key):
    assert f"map-key:{key}:composed" in features  # through the fused adapter
    assert f"map-entries:dup-keys:{key}" in features


def test_corpus_covers_map_shapes(features):
    assert {"kind:map", "map-entries:empty", "map-entries:large", "map-in:map", "map-of:map",
            "map-in:list", "map-in:record", "map-in:variant", "map-in:option",
            "map-in:result", "map-in:tuple"} <= features


# -- component_hostile: every trap reason per direction, every adapter encoding pair -------------
# The reasons each direction can reach (itfuzz.abi.errors.REASONS):
# - lift-result, lift-args: every reason of lifting (a guest's flat values and memory image),
#   none of realloc's (lifting calls no realloc);
# - lower-args: valid host values, so only the realloc answers can make a trap, and the result
#   checks after each realloc are the only trap_ifs (params have no out-param, so no pointer-*);
# - adapter: lifting from the caller (every lifting reason), then lowering into the callee with
#   the hostile realloc (both realloc reasons).
# `realloc-trap` (the guest's realloc itself trapping) is not reachable by design: the generated
# realloc answers from a table and never traps; the model raises it only for more than
# MAX_REALLOCS calls, and such a case is not run (its `note` makes the oracle discard it).
HOSTILE = "component_hostile"
LIFT_REASONS = ("bad-discriminant", "char-not-scalar", "string-too-long", "string-misaligned",
                "string-oob", "utf8-invalid", "utf16-invalid", "list-too-long",
                "list-misaligned", "list-oob", "pointer-misaligned", "pointer-oob")
REALLOC_REASONS = ("realloc-misaligned", "realloc-oob")
HOSTILE_REASONS = {"lift-result": LIFT_REASONS, "lift-args": LIFT_REASONS,
                   "lower-args": REALLOC_REASONS, "adapter": LIFT_REASONS + REALLOC_REASONS}


@pytest.fixture(scope="module")
def hostile_cases(repo_root):
    from itfuzz.generators.hostile import decode_hostile_case
    d = repo_root / "corpus" / HOSTILE
    files = sorted(p for p in d.iterdir() if p.is_file())
    assert files, f"{d} is empty"
    return [decode_hostile_case(p.read_bytes()) for p in files]


def test_hostile_reason_lists_cover_the_model():
    from itfuzz.abi.errors import REASONS
    from itfuzz.generators.hostile import DIRECTIONS
    assert set(HOSTILE_REASONS) == set(DIRECTIONS)
    assert {r for rs in HOSTILE_REASONS.values() for r in rs} == set(REASONS) - {"realloc-trap"}


@pytest.mark.parametrize("direction,reason", [(d, r) for d, rs in HOSTILE_REASONS.items()
                                              for r in rs + ("value",)])
def test_hostile_corpus_covers_every_reachable_trap_reason(hostile_cases, direction, reason):
    verdicts = {c.expected.trap or "value" for c in hostile_cases
                if c.direction == direction and not c.note}
    assert reason in verdicts, sorted(verdicts)


def test_hostile_corpus_covers_every_adapter_encoding_pair(hostile_cases):
    pairs = {c.sig.encoding_pair for c in hostile_cases if c.direction == "adapter" and not c.note}
    assert pairs == {(a, b) for a in ENCODINGS for b in ENCODINGS}


@pytest.mark.parametrize("kind", ["own", "borrow"])
def test_corpus_covers_gr_in_f_types(features, kind):
    """The guest's `gr` in `f`'s types: in every compound kind, flat and spilled, and in
    results in flat values and in the return area."""
    parents = ("list", "option", "record", "result", "tuple", "variant")
    assert {f"gr-{kind}-in:{p}" for p in parents} <= features
    assert {f"gr-{kind}-param:{kind}:spilled={s}" for s in (False, True)} <= features
    assert {"gr-result:retptr=False", "gr-result:retptr=True"} <= features
