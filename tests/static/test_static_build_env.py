"""`setup.py` generates the static cases with the build environment's Python, which has no
wasmtime (pip installs it later): the generator must run without it and write what it writes
with it."""
from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
# A meta-path finder that refuses `wasmtime`, then setup.py's own generation step.
WITHOUT_WASMTIME = """
import sys
class NoWasmtime:
    def find_spec(self, name, path=None, target=None):
        if name == "wasmtime" or name.startswith("wasmtime."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)")
sys.meta_path.insert(0, NoWasmtime())
from itfuzz.static import gen as g
g.ensure(g.Path(sys.argv[1]))
assert "wasmtime" not in sys.modules
"""


def test_static_cases_generate_without_wasmtime_and_match(tmp_path):
    out = tmp_path / "cases"
    p = subprocess.run([sys.executable, "-c", WITHOUT_WASMTIME, str(out)],
                       env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    from itfuzz.static import gen
    with_wasmtime = tmp_path / "with"
    gen.write(with_wasmtime)
    cmp = filecmp.dircmp(out, with_wasmtime, ignore=["__pycache__"])
    assert not (cmp.left_only or cmp.right_only or cmp.diff_files), cmp.report()
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in with_wasmtime.iterdir())
