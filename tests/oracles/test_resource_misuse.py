"""host_api_misuse with bad resource handles: every kind, as an argument of `f` (nested too) and
as the host function's result, is rejected with a clear exception (or shows a known finding:
K9's poisoned store, K27's handle of another store), and planted faults are reported."""
from __future__ import annotations

import random

import pytest
import wasmtime
from faults import plant_wasmtime_py
from wasmtime.component import ResourceHost

from itfuzz.engines.invalid_values import decode_misuse
from itfuzz.engines.resource_misuse import KINDS, MAGIC, BadHandles
from itfuzz.engines.resources import TYPE_BASE
from itfuzz.findings import Finding
from itfuzz.known_findings import known
from itfuzz.oracles.misuse import MisuseOracle

TARGET = "host_api_misuse"


def find(where: str, kind: str, nested: bool = False, seed: int = 3):
    """A decoded resource misuse case with this site and kind (the handle inside a compound
    value when `nested`)."""
    rng = random.Random(f"{seed}:{where}:{kind}:{nested}")
    for _ in range(20000):
        case = decode_misuse(MAGIC + rng.randbytes(rng.choice((64, 256, 700))))
        if case.res is not None and case.where == where and case.res.kind == kind \
                and (case.res.at.parent != "top") == nested:
            return case
    raise AssertionError(f"no {where} {kind} case")


def outcome(oracle: MisuseOracle, case) -> str:
    try:
        oracle.run(case)
    except Finding as f:
        return f.signature
    return "ok"


SITES = [(w, k, n) for w in ("arg", "ret") for k in KINDS for n in (False, True)
         if not (w == "ret" and k == "stale-borrow")]


@pytest.fixture(scope="module")
def oracle():
    return MisuseOracle(cache_size=16)


@pytest.mark.parametrize("where,kind,nested", SITES)
def test_bad_handle_is_rejected_or_known(oracle, where, kind, nested):
    got = outcome(oracle, find(where, kind, nested))
    assert got == "ok" or known(got) is not None, got  # the valid values may show K1


def test_moved_own_is_rejected_and_the_store_still_works(oracle):
    """A moved own neither passes nor poisons its store (no known finding needed)."""
    assert outcome(oracle, find("arg", "moved-own")) == "ok"
    assert outcome(oracle, find("arg", "moved-own", nested=True)) == "ok"


def test_other_store_handle_is_k27(oracle):
    got = outcome(oracle, find("arg", "other-store"))
    assert known(got, TARGET).id in ("K27", "K9")


# -- fault injection --------------------------------------------------------------------------

@pytest.fixture
def accept_bad(monkeypatch):
    """Fault: wasmtime-py lowers a fresh, valid handle in place of the bad one (it accepts the
    bad handle silently)."""
    made: list = []  # (bad handle, its resource id)
    original_make = BadHandles.make

    def make(self, rm, *args):
        made.append((original_make(self, rm, *args), rm.at.handle.resource))
        return made[-1][0]
    monkeypatch.setattr(BadHandles, "make", make)

    def lenient(original, self, store, val, ptr):
        if made and val is made[-1][0]:
            val = ResourceHost.own(7, TYPE_BASE + made[-1][1]).to_any(store)
        return original(self, store, val, ptr)
    for cls in ("OwnType", "BorrowType"):
        plant_wasmtime_py(monkeypatch, cls, "convert_to_c", lenient)


@pytest.mark.parametrize("where,kind", [("arg", "moved-own"), ("arg", "moved-clone"),
                                        ("arg", "dropped"), ("arg", "stale-borrow"),
                                        ("ret", "moved-clone"), ("ret", "dropped")])
def test_accepting_a_bad_handle_is_reported(accept_bad, where, kind):
    """An embedding that silently uses a valid handle in place of the bad one is reported."""
    case = find(where, kind)
    with pytest.raises(Finding) as e:
        MisuseOracle(cache_size=4).run(case)
    assert e.value.signature == f"misuse-accepted|{kind}"


def _plant_breaking_rejection(monkeypatch, message):
    """Rejecting the bad handle makes every later conversion fail with `message`."""
    broken = []

    def rejecting(original, self, store, val, ptr):
        if broken:
            raise wasmtime.WasmtimeError(message)
        if type(val).__name__ == "ResourceAny" and getattr(val, "_planted_bad", False):
            broken.append(True)
            raise wasmtime.WasmtimeError("planted: bad handle")
        return original(self, store, val, ptr)
    original_make = BadHandles.make

    def make(self, *args):
        x = original_make(self, *args)
        x._planted_bad = True
        return x
    monkeypatch.setattr(BadHandles, "make", make)
    plant_wasmtime_py(monkeypatch, "OwnType", "convert_to_c", rejecting)


def test_valid_calls_own_known_bug_is_reported_as_itself(monkeypatch):
    """When the valid call after a misuse fails with a finding known for the target (on older
    releases: K13, K25), that finding is reported, not a misuse-after-failed one; the twin of
    the test below, where the failure is unknown."""
    from itfuzz.oracles import misuse
    _plant_breaking_rejection(monkeypatch, "planted: a known bug of valid calls")
    mark = "call-error|WasmtimeError:planted: a known bug of valid calls"
    monkeypatch.setattr(misuse, "known", lambda sig, target=None: (
        object() if sig == mark else known(sig, target)))
    with pytest.raises(Finding) as e:
        MisuseOracle(cache_size=4).run(find("arg", "moved-own"))
    assert e.value.signature == mark


def test_poisoned_fresh_store_is_reported(monkeypatch):
    """Fault: rejecting a bad handle breaks every store, not only its own (K9 would hide the
    same-store failure; the fresh-store check reports it)."""
    _plant_breaking_rejection(monkeypatch, "planted: cannot enter component instance")
    case = find("arg", "moved-own")
    with pytest.raises(Finding) as e:
        MisuseOracle(cache_size=4).run(case)
    assert e.value.signature.startswith("misuse-after-failed|arg-fresh-store:"), e.value.signature
