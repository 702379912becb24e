"""gen-static: the generated package is deterministic, typed, faithful to the type model and
draws exactly the values the dynamic model draws."""
from __future__ import annotations

import dataclasses
import enum
import importlib
import random
import sys
import typing
from pathlib import Path

import pytest

from itfuzz.cli import main as cli_main
from itfuzz.generators.components import component_text
from itfuzz.generators.unstructured import Unstructured
from itfuzz.generators.valuegen import ValueGen
from itfuzz.model.resources import GuestHandle
from itfuzz.model.types import walk
from itfuzz.model.values import diff
from itfuzz.static import gen as static_gen
from itfuzz.static.decode import default_cases


@pytest.fixture(scope="module")
def cases():
    table = default_cases()
    table.load_all()
    return table


@pytest.fixture(scope="module")
def sigs():
    """The plain signatures, then the resource ones, then the guest-resource ones."""
    return (static_gen.draw_signatures(static_gen.SEED, static_gen.COUNT) +
            static_gen.draw_signatures(static_gen.SEED + 1, static_gen.RESOURCES,
                                       static_gen.RESOURCE_TYPES) +
            static_gen.draw_signatures(static_gen.SEED + 2, static_gen.GUEST,
                                       static_gen.RESOURCE_TYPES, guest=True))


def package_files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}


def test_committed_seed_package_is_current(cases):
    assert static_gen.recorded(static_gen.PACKAGE_DIR) == (
        static_gen.SEED, static_gen.COUNT, static_gen.generator_hash(), "", static_gen.RESOURCES,
        static_gen.GUEST)
    assert not static_gen.ensure()  # nothing to do: up to date


def test_regeneration_is_byte_identical(tmp_path):
    sizes = static_gen.write(tmp_path / "again")
    assert package_files(tmp_path / "again") == package_files(static_gen.PACKAGE_DIR)
    assert sum(sizes.values()) <= 5_000_000  # the size target of the issue


def test_other_seed_gives_other_cases(tmp_path):
    static_gen.write(tmp_path / "a", seed=1, count=12)
    static_gen.write(tmp_path / "b", seed=2, count=12)
    assert package_files(tmp_path / "a")["_wat.zlib"] != package_files(tmp_path / "b")["_wat.zlib"]


def test_stale_package_is_regenerated(tmp_path):
    out = tmp_path / "static_cases"
    static_gen.write(out, count=3)
    assert static_gen.ensure(out)  # count 3 is not the committed one: rewritten
    assert static_gen.recorded(out)[:2] == (static_gen.SEED, static_gen.COUNT)
    assert not static_gen.ensure(out)


def test_cases_match_the_type_model(cases, sigs):
    assert len(cases) == len(sigs) == static_gen.COUNT + static_gen.RESOURCES + static_gen.GUEST
    assert (cases.plain, cases.resources, cases.guest) == (
        static_gen.COUNT, static_gen.RESOURCES, static_gen.GUEST)
    assert len(set(sigs)) == len(sigs)
    gr = cases.plain + cases.resources  # the first guest-resource case
    assert [i for i, s in enumerate(sigs) if s.resources or s.guest] == list(
        range(cases.plain, len(sigs)))
    assert [i for i, s in enumerate(sigs) if s.guest] == list(range(gr, len(sigs)))
    for part in (sigs[cases.plain:gr], sigs[gr:]):
        kinds = {n.kind for s in part for t in s.types() for n in walk(t)}
        assert {"own", "borrow", "record", "list", "variant", "option", "result"} <= kinds
    assert any(s.resources for s in sigs[gr:])  # gr mixed with r0/r1
    nested = {p.kind for s in sigs[gr:] for t in s.types() for p in walk(t)
              if any(isinstance(c, GuestHandle) for c in p.children())}
    assert {"record", "list", "variant", "option", "result"} <= nested
    for i, sig in enumerate(sigs):
        case = cases[i]
        assert case.index == i
        assert case.sig == sig
        assert (case.sig.shape, case.sig.echo) == (sig.shape, sig.echo)
        assert case.wat == component_text(sig)
        assert len(case.params) == len(sig.params)
        assert (case.result is None) == (sig.result is None)


def test_static_arbitrary_draws_what_the_model_draws(cases):
    """`arb_N` is ValueGen.gen unrolled: same values (as model), same bytes and fuel used."""
    rng = random.Random(7)
    for i in range(len(cases)):
        case = cases[i]
        for size in (0, 40, 600):
            data = rng.randbytes(size)
            g, vg = ValueGen(Unstructured(data), 300), ValueGen(Unstructured(data), 300)
            for conv, (name, t) in zip(case.params, case.sig.params):
                typed = conv.arb(g)
                want = vg.gen(t)
                m = diff(t, want, conv.to_model(typed), f"case {i} arg {name}")
                assert m is None, str(m)
            assert (g.u.front, g.u.back, g.fuel) == (vg.u.front, vg.u.back, vg.fuel), i


def generated_modules(table):
    table.load_all()
    pkg = table.package
    return [m for name, m in sorted(sys.modules.items()) if name.startswith(pkg + "._s")]


def test_generated_code_is_typed(cases):
    kinds = set()
    for mod in generated_modules(cases):
        for name, obj in vars(mod).items():
            if not isinstance(obj, type) or obj.__module__ != mod.__name__:
                continue
            kind = name.split("_")[0]
            kinds.add(kind)
            if kind == "Enum":
                assert issubclass(obj, enum.Enum)
            else:
                assert dataclasses.is_dataclass(obj) and obj.__dataclass_params__.frozen
            typing.get_type_hints(obj)  # every annotation resolves
        for name, fn in vars(mod).items():
            if name.startswith(("arb_", "tw_", "fw_", "tm_")) and callable(fn):
                typing.get_type_hints(fn)
    assert kinds == {"Record", "Variant", "Enum", "Flags"}


def test_no_dispatch_over_the_type_model():
    """The straight-line code never hands a type to the model's generic value code."""
    for path in sorted(static_gen.PACKAGE_DIR.glob("_s*.py")):
        text = path.read_text()
        for generic in ("vg.gen(", ".gen(M_", "wasmtime_values", "from_wasmtime(M", "diff("):
            assert generic not in text, (path.name, generic)


def test_gen_static_cli(tmp_path, capsys):
    out = tmp_path / "pkg"
    assert cli_main(["gen-static", "--seed", "5", "--count", "7", "--resources", "3",
                     "--guest", "2", "--out", str(out)]) == 0
    assert static_gen.recorded(out)[:2] == (5, 7)
    assert static_gen.recorded(out)[4:] == (3, 2)
    sys.path.insert(0, str(tmp_path))
    try:
        pkg = importlib.import_module("pkg")
        assert len(pkg.CASES) == 12 and pkg.CASES.plain == 7 and pkg.CASES[11].index == 11
        assert not pkg.CASES[6].sig.resources and pkg.CASES[7].sig.resources
        assert not pkg.CASES[9].sig.guest and pkg.CASES[10].sig.guest
        with pytest.raises(IndexError):
            pkg.CASES[12]
    finally:
        sys.path.remove(str(tmp_path))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("user data")
    assert cli_main(["gen-static", "--out", str(tmp_path / "mine")]) == 2
    assert (tmp_path / "mine" / "keep.txt").exists()
    assert cli_main(["gen-static", "--count", "0", "--out", str(out)]) == 2
    assert "at least 1" in capsys.readouterr().err
