"""The package layout holds: the import graph of src/itfuzz has no cycle, dependencies point down
the layers, and wasmtime-py is used only where it may be.

Layers, lowest first (a module may import from its own package and from lower layers only):

    model < abi < generators < engines < static < oracles < feedback < targets < ops < cli

`diskcache`, `findings`, `known_findings`, `lru`, `versions` and `spec` (the OCaml interpreter's
binding) sit at the bottom and may be used from any layer (so they import nothing above
themselves); `fuzzing` is at the ops level. Every import counts: absolute and relative, at module
level or inside a function. wasmtime-py's private internals (`wasmtime._…`, `from wasmtime import
_ffi`) are used only under engines/; model/, abi/ and generators/ import no wasmtime at all.

The checks are functions of a graph, also run on synthetic graphs below, so they can fail.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS = ("model", "abi", "generators", "engines", "static", "oracles", "feedback", "targets",
          "ops", "cli")
BOTTOM = frozenset({"", "diskcache", "findings", "known_findings", "lru", "spec",
                    "versions"})  # "": itfuzz/__init__.py
SAME_LEVEL = {"fuzzing": "ops"}
NO_WASMTIME = ("model", "abi", "generators")
PRIVATE_WASMTIME_OK = ("engines",)

# Imports that break a rule and wait for a design decision (each must still exist: remove the
# entry when the import goes).
ALLOWED: dict = {}


@dataclass(frozen=True)
class Import:
    source: str   # importing module, e.g. "itfuzz.oracles.roundtrip"
    target: str   # imported module, e.g. "itfuzz.model.case" or "wasmtime.component"
    names: tuple[str, ...]  # names taken with `from … import`, else ()
    line: int

    def where(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}" + (
            f" ({', '.join(self.names)})" if self.names else "")


# -- reading the package ------------------------------------------------------------------------

def module_files(src: Path, top: str = "itfuzz") -> dict[str, tuple[Path, bool]]:
    """Dotted module name → (file, is a package's __init__) for every .py under src/top."""
    out = {}
    for path in sorted((src / top).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts.pop()
        out[".".join(parts)] = (path, is_pkg)
    return out


def read_imports(src: Path, top: str = "itfuzz") -> tuple[set[str], list[Import]]:
    """The package's modules and every import statement in them (anywhere in the file),
    relative imports resolved; `from P import m` is an import of module P.m when that exists."""
    files = module_files(src, top)
    modules = set(files)
    imports = []
    for name, (path, is_pkg) in files.items():
        package = name if is_pkg else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imports += [Import(name, a.name, (), node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                names = tuple(a.name for a in node.names)
                subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
                if subs:
                    imports += [Import(name, s, (), node.lineno) for s in subs]
                    names = tuple(n for n in names if f"{target}.{n}" not in modules)
                    if not names:
                        continue
                imports.append(Import(name, target, names, node.lineno))
    return modules, imports


def is_own(target: str) -> bool:
    return target == "itfuzz" or target.startswith("itfuzz.")


def graph(modules: set[str], imports: Iterable[Import]) -> dict[str, set[str]]:
    """Module → the package modules it imports (imports of modules that are not Python files,
    such as the interpreter's compiled cffi extension, are left out)."""
    g: dict[str, set[str]] = {m: set() for m in modules}
    for i in imports:
        if is_own(i.target) and i.target in modules and i.target != i.source:
            g[i.source].add(i.target)
    return g


# -- the checks ---------------------------------------------------------------------------------

def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `g` as a path [a, b, …, a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        path.append(n)
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                return path[path.index(m):] + [m]
            if m not in state and (c := visit(m)) is not None:
                return c
        path.pop()
        state[n] = 2
        return None

    for n in sorted(g):
        if n not in state and (c := visit(n)) is not None:
            return c
    return None


def package(module: str) -> str:
    """itfuzz.oracles.roundtrip → oracles; itfuzz.targets → targets; itfuzz → ''."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def level(pkg: str) -> int:
    if pkg in BOTTOM:
        return -1
    pkg = SAME_LEVEL.get(pkg, pkg)
    if pkg not in LAYERS:
        raise AssertionError(f"package {pkg!r} has no layer: add it to LAYERS in {__file__}")
    return LAYERS.index(pkg)


def layer_violations(g: dict[str, set[str]]) -> list[str]:
    out = []
    for a in sorted(g):
        for b in sorted(g[a]):
            pa, pb = package(a), package(b)
            la, lb = level(pa), level(pb)
            if SAME_LEVEL.get(pa, pa) == SAME_LEVEL.get(pb, pb) or pb in BOTTOM:
                continue
            if lb >= la:
                out.append(f"{a} ({pa or 'itfuzz'}) imports {b} ({pb}): not a lower layer")
    return out


PRIVATE = re.compile(r"\bwasmtime(\.\w+)*\._\w")


def wasmtime_violations(imports: Iterable[Import], texts: dict[str, str]) -> list[str]:
    """Private wasmtime-py use outside engines/, any wasmtime use in model/abi/generators.
    `texts`: module → source, also searched for `wasmtime._…` (attribute use, strings)."""
    out = []
    for i in imports:
        if not (i.target == "wasmtime" or i.target.startswith("wasmtime.")):
            continue
        pkg = package(i.source)
        if pkg in NO_WASMTIME:
            out.append(f"{i.where()}: {pkg}/ imports no wasmtime")
        private = any(p.startswith("_") for p in i.target.split(".")[1:]) or any(
            n.startswith("_") for n in i.names)
        if private and pkg not in PRIVATE_WASMTIME_OK:
            out.append(f"{i.where()}: wasmtime-py internals only under engines/")
    for module, text in sorted(texts.items()):
        if package(module) in PRIVATE_WASMTIME_OK:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if PRIVATE.search(line):
                out.append(f"{module}:{n}: {line.strip()}: wasmtime-py internals only under engines/")
    return out


# -- the package --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def package_imports():
    modules, imports = read_imports(SRC)
    return modules, [i for i in imports if (i.source, i.target) not in ALLOWED], imports


def test_the_package_is_read(package_imports):
    modules, _, imports = package_imports
    for m in ("itfuzz.model.types", "itfuzz.oracles.roundtrip", "itfuzz.cli", "itfuzz.spec"):
        assert m in modules
    edges = {(i.source, i.target) for i in imports}
    assert ("itfuzz.targets", "itfuzz.oracles.roundtrip") in edges  # inside a function
    assert ("itfuzz.cli", "itfuzz.targets") in edges                # `from itfuzz import targets`
    assert ("itfuzz.spec", "itfuzz.spec._runtime") in edges         # `from . import _runtime`
    compiled = {".".join(p.relative_to(SRC).parts[:-1] + (p.name.split(".")[0],))
                for p in (SRC / "itfuzz").rglob("*.so")}
    unresolved = {i.target for i in imports if is_own(i.target) and i.target not in modules
                  and not SRC.joinpath(*i.target.split(".")).is_dir()}  # namespace packages
    assert unresolved <= compiled, "imports of modules that do not exist"


def test_no_import_cycle(package_imports):
    modules, imports, _ = package_imports
    assert find_cycle(graph(modules, imports)) is None


def test_layers(package_imports):
    modules, imports, _ = package_imports
    assert layer_violations(graph(modules, imports)) == []


def test_wasmtime_use(package_imports):
    modules, imports, _ = package_imports
    texts = {m: module_files(SRC)[m][0].read_text() for m in modules}
    assert wasmtime_violations(imports, texts) == []


def test_allowed_exceptions_still_exist(package_imports):
    _, _, imports = package_imports
    edges = {(i.source, i.target) for i in imports}
    assert [e for e in ALLOWED if e not in edges] == [], "remove the entry from ALLOWED"


# -- the checks can fail --------------------------------------------------------------------------

def test_a_cycle_is_found():
    g = {"itfuzz.a": {"itfuzz.b"}, "itfuzz.b": {"itfuzz.c"}, "itfuzz.c": {"itfuzz.a"},
         "itfuzz.d": {"itfuzz.a"}}
    assert find_cycle(g) == ["itfuzz.a", "itfuzz.b", "itfuzz.c", "itfuzz.a"]
    assert find_cycle({"itfuzz.a": {"itfuzz.b"}, "itfuzz.b": set()}) is None


def test_upward_and_sideways_imports_are_violations():
    g = {
        "itfuzz.model.types": {"itfuzz.oracles.roundtrip", "itfuzz.lru"},   # up: violation
        "itfuzz.oracles.roundtrip": {"itfuzz.model.types", "itfuzz.spec"},  # down: fine
        "itfuzz.lru": {"itfuzz.model.types"},                               # bottom → up
        "itfuzz.ops.minimize": {"itfuzz.fuzzing"},                          # same level
        "itfuzz.fuzzing": {"itfuzz.cli"},                                   # up
        "itfuzz.feedback.semantic": {"itfuzz.feedback.features"},           # own package
    }
    assert layer_violations(g) == [
        "itfuzz.fuzzing (fuzzing) imports itfuzz.cli (cli): not a lower layer",
        "itfuzz.lru (lru) imports itfuzz.model.types (model): not a lower layer",
        "itfuzz.model.types (model) imports itfuzz.oracles.roundtrip (oracles): not a lower layer",
    ]
    with pytest.raises(AssertionError, match="no layer"):
        layer_violations({"itfuzz.extra.x": {"itfuzz.model.types"}})


def test_wasmtime_rules_catch_misuse():
    imports = [
        Import("itfuzz.generators.valuegen", "wasmtime", (), 3),
        Import("itfuzz.oracles.roundtrip", "wasmtime", ("_ffi",), 4),
        Import("itfuzz.oracles.misuse", "wasmtime.component._types", (), 5),
        Import("itfuzz.engines.core_engine", "wasmtime._func", ("enter_wasm",), 6),
        Import("itfuzz.oracles.roundtrip", "wasmtime.component", ("Record",), 7),
    ]
    texts = {"itfuzz.ops.reproducer": "x = wasmtime.component._types.U64\n",
             "itfuzz.engines.core_engine": "wasmtime._ffi.wasm_x()\n"}
    got = wasmtime_violations(imports, texts)
    assert [v.split(":")[0] for v in got] == ["itfuzz.generators.valuegen", "itfuzz.oracles.roundtrip",
                                              "itfuzz.oracles.misuse", "itfuzz.ops.reproducer"]


def test_imports_are_read_everywhere(tmp_path):
    """Relative, function-level and `from package import module` imports all become edges."""
    pkg = tmp_path / "itfuzz"
    for d in ("model", "oracles"):
        (pkg / d).mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "model" / "types.py").write_text("def f():\n    from ..oracles import check\n")
    (pkg / "oracles" / "__init__.py").write_text("from .check import run\n")
    (pkg / "oracles" / "check.py").write_text(
        "import wasmtime._func\nfrom itfuzz.model import types as t\nfrom . import other\n")
    (pkg / "oracles" / "other.py").write_text("from itfuzz.oracles.check import run\n")
    modules, imports = read_imports(tmp_path)
    g = graph(modules, imports)
    assert g["itfuzz.model.types"] == {"itfuzz.oracles.check"}
    assert g["itfuzz.oracles"] == {"itfuzz.oracles.check"}
    assert g["itfuzz.oracles.check"] == {"itfuzz.model.types", "itfuzz.oracles.other"}
    assert find_cycle(g) == ["itfuzz.model.types", "itfuzz.oracles.check", "itfuzz.model.types"]
    rest = {m: e for m, e in g.items() if m != "itfuzz.model.types"}
    assert find_cycle(rest) == ["itfuzz.oracles.check", "itfuzz.oracles.other", "itfuzz.oracles.check"]
    assert layer_violations(g) == [
        "itfuzz.model.types (model) imports itfuzz.oracles.check (oracles): not a lower layer"]
    assert len(wasmtime_violations(imports, {})) == 1
