"""Known findings: each entry has a reproducer that still shows exactly that finding.

The expected-failure tests assert that the round trip is clean, so they fail (xfail, strict)
while the bug exists and start "passing" (an error under strict) once it is fixed upstream.
Findings fixed in the release under test (`fixed_in`) are checked twice: here they must be gone
(a regression guard, run in a child process since some crashed the process), and on the last
release they were seen on they must still show (slow: that release's environment is made).
"""
from __future__ import annotations

import os

import pytest

from itfuzz import known_findings, targets
from itfuzz.findings import Finding
from itfuzz.known_findings import KNOWN, known
from itfuzz.versions import release

HERE = [k for k in KNOWN if not k.fixed_on(release())]  # show on the release under test
GONE = [k for k in KNOWN if k.fixed_on(release())]
K_IDS = [k.id for k in KNOWN]


def _own_reproducer(k):
    """A param for `k`; expected to fail when its reproducer file is another entry's (that file
    reproduces the other entry's signature), a data bug in known_findings.py."""
    first = next(o for o in KNOWN if o.reproducer == k.reproducer)
    if first is k:
        return pytest.param(k, id=k.id)
    return pytest.param(k, id=k.id, marks=pytest.mark.xfail(strict=True, raises=AssertionError,
        reason=f"harness bug: {k.id} has no reproducer of its own ({k.reproducer} is "
               f"{first.id}'s and reproduces {first.signature})"))


OWN = [_own_reproducer(k) for k in HERE]


@pytest.fixture(scope="module")
def target():
    return targets.get("component_roundtrip")


def data_of(k, repo_root):
    path = repo_root / k.reproducer
    assert path.is_file(), f"{k.id}: reproducer {k.reproducer} is missing"
    return path.read_bytes()


def test_known_table_is_consistent():
    assert len({k.id for k in KNOWN}) == len(KNOWN)
    assert len({k.signature for k in KNOWN}) == len(KNOWN)
    for k in HERE:
        assert known(k.signature) is k
    for k in GONE:
        assert known(k.signature) is None  # a regression now: reported, not skipped
    for k in KNOWN:
        assert k.target in targets.names(), k
        assert "|" in k.signature and k.title
    assert known("result-mismatch|u32:value:int->int") is None
    for k in HERE:  # a signature is known in the targets it shows in, not in others
        assert known(k.signature, k.target) is k
        others = [t for t in targets.names() if not k.shows_in(t)]
        assert all(known(k.signature, t) is None for t in others), k.id
    assert known_findings.BY_SIGNATURE.keys() == {s for k in KNOWN for s in (k.signature, *k.also)}


@pytest.mark.parametrize("k", KNOWN, ids=K_IDS)
def test_reproducer_exists(k, repo_root):
    assert len(data_of(k, repo_root)) > 0


@pytest.mark.parametrize("k", OWN)
def test_reproducer_shows_exactly_its_signature(k, repo_root, target):
    data = data_of(k, repo_root)
    with pytest.raises(Finding) as e:
        targets.get(k.target).execute(data)
    assert e.value.signature == k.signature, (
        f"{k.id}: {k.reproducer} reproduces {e.value.signature}, not {k.signature}")
    assert e.value.target == k.target


@pytest.mark.parametrize("k", OWN)
def test_reproducer_is_skipped_as_known(k, repo_root):
    t = targets.get(k.target)
    out = t.execute(data_of(k, repo_root), skip_known=True)
    assert out.status == "known"
    assert out.detail == k.id, f"{k.reproducer} is skipped as {out.detail}, not {k.id}"
    assert t.counts["known"] == 1 and t.counts["ok"] == 0


def _expected_failure(k):
    return pytest.param(k, id=k.id, marks=pytest.mark.xfail(
        strict=True, raises=Finding, reason=f"{k.id}: {k.title}"))


@pytest.mark.parametrize("k", [_expected_failure(k) for k in HERE])
def test_known_finding_round_trip_is_clean(k, repo_root):
    """Fails while the bug exists (the reproducer raises its Finding)."""
    out = targets.get(k.target).execute(data_of(k, repo_root))
    assert out.status == "ok"


def test_unknown_findings_are_not_skipped(monkeypatch, repo_root):
    """skip_known only skips listed signatures: an unlisted finding still raises."""
    monkeypatch.setattr(targets, "known", lambda sig, target=None: None)
    k = KNOWN[0]
    with pytest.raises(Finding):
        targets.get(k.target).execute(data_of(k, repo_root), skip_known=True)


def test_rejected_value_with_both_ambiguities_is_k1():
    """K1 and K2 ambiguities in one signature: a rejected value can only come from K1's
    `object` capture (K2 accepts silently), so it is reported as K1."""
    from itfuzz.model.case import Call, Signature
    from itfuzz.model.case import TestCase as Case
    from itfuzz.model.types import PRIMS, Enum, Option, Result, Tuple
    from itfuzz.oracles.roundtrip import RoundTripOracle
    t = Tuple((Result(Option(Enum(("a", "b"))), PRIMS["bool"]),
               Result(PRIMS["u32"], PRIMS["bool"])))
    v = (("err", True), ("ok", 1))
    with pytest.raises(Finding) as e:
        RoundTripOracle().run(Case(Signature((("x", t),), t, echo=True), (Call((v,), v),)))
    assert known(e.value.signature) is not None
    assert e.value.signature == "wasmtime-py-untagged|object"


def _last_seen(k) -> str:
    return k.seen_in.replace(",", " ").split()[-1].split("..")[-1]


@pytest.mark.parametrize("k", GONE, ids=[k.id for k in GONE])
def test_fixed_findings_are_gone_here(k, repo_root):
    """A finding fixed upstream stays fixed on the release under test (run in a child)."""
    from itfuzz.ops.isolate import run_isolated
    (out,) = run_isolated(k.target, [str(repo_root / k.reproducer)], 60)
    assert out.status in ("ok", "discarded"), (k.id, out.status, out.signature, out.detail[:500])


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("ITFUZZ_OFFLINE") == "1", reason="needs PyPI for old releases")
@pytest.mark.parametrize("k", [pytest.param(k, id=k.id, marks=pytest.mark.xfail(
    strict=True, raises=AssertionError, reason=f"{k.id} on {_last_seen(k)}: {k.title}"))
    for k in GONE])
def test_fixed_findings_still_fail_where_seen(k, repo_root):
    """Fails (xfail, strict) while the reproducer shows its finding on the last release it was
    seen on: the registry's release range stays true."""
    from itfuzz.ops.isolate import run_isolated
    from itfuzz.ops.releases import release_python
    python = str(release_python(_last_seen(k)))
    (out,) = run_isolated(k.target, [str(repo_root / k.reproducer)], 60, python=python)
    assert out.signature not in (k.signature, *k.also), (
        f"{k.id} shows on {_last_seen(k)}: {out.detail[:300]}")
