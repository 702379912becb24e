"""OSS-Fuzz / ClusterFuzzLite integration: the build files agree with each other and with the
CLI's defaults, and (slow) the local stand-in of the Docker build packages a target with
PyInstaller and runs it on its seeds in a clean environment."""
from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from itfuzz.ops.libfuzzer import DEFAULT_FLAGS

HELPER = "tools/cflite_helper.py"


def helper(repo_root, *args):
    return subprocess.run([sys.executable, str(repo_root / HELPER), *args], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ,
                                                           PYTHONPATH=str(repo_root / "src")))


def test_build_files(repo_root):
    cfl = repo_root / ".clusterfuzzlite"
    assert (cfl / "project.yaml").read_text().split() == ["language:", "python"]
    assert (cfl / "Dockerfile").resolve() == (repo_root / "Dockerfile").resolve()
    docker = (repo_root / "Dockerfile").read_text()
    assert "FROM gcr.io/oss-fuzz-base/base-builder-python" in docker
    assert "ocaml-nox" in docker and "COPY .clusterfuzzlite/build.sh $SRC/" in docker
    build = (cfl / "build.sh").read_text()
    assert "pip3 install ." in build and "compile_python_fuzzer" in build
    assert f"{HELPER} pyinstaller-args" in build and "seed-zip" in build and "options" in build
    assert os.access(cfl / "build.sh", os.X_OK)
    for script in (repo_root / "fuzz_targets").glob("*.py"):
        assert os.access(script, os.X_OK), f"{script} must be executable (libFuzzer re-runs it)"


def test_pyinstaller_hints_name_existing_files(repo_root):
    p = helper(repo_root, "pyinstaller-args")
    assert p.returncode == 0, p.stderr
    hints = p.stdout.split("\n")
    binaries = [h.split("=", 1)[1].rsplit(":", 1)[0] for h in hints if h.startswith("--add-binary=")]
    assert any(b.endswith("_libwasmtime.so") for b in binaries)
    assert any(b.endswith("wasm-tools") for b in binaries)
    assert all(os.path.exists(b) for b in binaries)
    assert "--hidden-import=_cffi_backend" in hints
    assert "--hidden-import=itfuzz.spec._spec_interp" in hints


def test_options_match_the_cli_defaults(repo_root, tmp_path):
    out = tmp_path / "t.options"
    assert helper(repo_root, "options", "component_roundtrip", str(out)).returncode == 0
    cp = configparser.ConfigParser()
    cp.read(out)
    for flag in DEFAULT_FLAGS:
        name, value = flag.lstrip("-").split("=", 1)
        assert cp["libfuzzer"][name] == value
    assert cp["asan"]["allow_user_segv_handler"] == "1"


def test_seed_zip_holds_the_corpus(repo_root, tmp_path):
    out = tmp_path / "seeds.zip"
    assert helper(repo_root, "seed-zip", "component_roundtrip", str(out)).returncode == 0
    seeds = {p.name: p.read_bytes() for p in (repo_root / "corpus" / "component_roundtrip").iterdir()}
    with zipfile.ZipFile(out) as z:
        assert {n: z.read(n) for n in z.namelist()} == seeds


@pytest.mark.slow
def test_local_cflite_build_packages_and_runs_a_target(repo_root, tmp_path):
    if shutil.which("ocamlfind") is None:
        pytest.skip("OCaml (ocamlfind) is needed to install the package")
    targets = os.environ.get("ITFUZZ_CFLITE_TARGETS", "component_roundtrip").split()
    env = dict(os.environ, ITFUZZ_CFLITE_WORK=str(tmp_path / "cflite"), PYTHON=sys.executable,
               ITFUZZ_CFLITE_RUNS="300")
    env.pop("PYTHONPATH", None)
    p = subprocess.run([str(repo_root / "tools" / "cflite_local_build.sh"), *targets], env=env,
                       capture_output=True, text=True, timeout=1500)
    assert p.returncode == 0, p.stderr[-5000:]
    for t in targets:
        assert f"cflite_local_build: {t}: ok" in p.stderr
        out = tmp_path / "cflite" / "out"
        assert (out / f"{t}.pkg").is_file() and (out / f"{t}_seed_corpus.zip").is_file()
