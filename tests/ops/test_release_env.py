"""`releases.release_python` without the network: an environment is made by a fake `_run` (a
"venv" whose python only answers the site-packages query) or planted as already made."""
from __future__ import annotations

import io
import sys
import threading
import time
from pathlib import Path

import pytest

from itfuzz.ops import releases
from itfuzz.ops.releases import SRC, ReleaseError, release_python

PTH = "itfuzz-checkout.pth"  # releases.PTH

RELEASE = "44.0.0"


def site_packages(root: Path) -> Path:
    return root / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


def fake_python(root: Path, works: bool = True) -> Path:
    """root/bin/python: prints its site-packages (what the purelib query asks), or fails."""
    python = root / "bin" / "python"
    python.parent.mkdir(parents=True, exist_ok=True)
    python.write_text(f"#!/bin/sh\necho {site_packages(root)}\n" if works else
                      "#!/bin/sh\necho 'Fatal Python error: init_fs_encoding' >&2\nexit 1\n")
    python.chmod(0o755)
    site_packages(root).mkdir(parents=True, exist_ok=True)
    return python


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ITFUZZ_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def fake_run(monkeypatch, made: list[str], works: bool = True, seconds: float = 0):
    """`releases._run` making a fake venv (after `seconds`) and installing nothing."""
    def run(cmd, what):
        if cmd[1:3] == ["-m", "venv"]:
            made.append(cmd[3])
            time.sleep(seconds)
            fake_python(Path(cmd[3]), works)
    monkeypatch.setattr(releases, "_run", run)


def test_an_env_made_by_another_checkout_runs_this_one(cache):
    root = cache / f"wasmtime-{RELEASE}"
    python = fake_python(root)
    (root / ".itfuzz-ready").write_text(RELEASE + "\n")
    pth = site_packages(root) / PTH
    pth.write_text("/another/worktree/src\n")
    assert release_python(RELEASE) == python
    assert pth.read_text() == f"{SRC}\n"
    pth.unlink()  # lost: asked for where it goes, and written again
    release_python(RELEASE)
    assert pth.read_text() == f"{SRC}\n"


def test_a_failing_site_packages_query_is_a_release_error(cache, monkeypatch):
    made: list[str] = []
    fake_run(monkeypatch, made, works=False)
    with pytest.raises(ReleaseError, match="init_fs_encoding"):
        release_python(RELEASE)


def test_two_processes_making_the_same_release_make_it_once(cache, monkeypatch):
    """Two creators at once (two threads, each with its own lock file descriptor, as two
    processes would have): the second waits for the first, then finds the stamp."""
    made: list[str] = []
    fake_run(monkeypatch, made, seconds=0.5)
    start = threading.Barrier(2)
    got: list[Path] = []
    errors: list[BaseException] = []

    def make():
        start.wait()
        try:
            got.append(release_python(RELEASE, log=io.StringIO()))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=make) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert made == [str(cache / f"wasmtime-{RELEASE}")]
    assert len(got) == 2 and got[0] == got[1]
    assert (site_packages(cache / f"wasmtime-{RELEASE}") / PTH).read_text() == f"{SRC}\n"
