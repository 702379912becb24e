"""`isolate.run_isolated` against fake child "pythons": small executables in tmp_path that speak
the child's protocol (a ready line, one ``ITFUZZ-RESULT`` line per file) and then misbehave in
one way each: die at exit, crash only after another input, flood stderr, hang, print a bad
result line, start something, or never start at all."""
from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from itfuzz.ops import isolate
from itfuzz.ops.isolate import run_isolated

PRELUDE = """\
import json, os, subprocess, sys, time
args = sys.argv[1:]
assert args[:2] == ["-m", "itfuzz.ops.isolate"], args
files = args[args.index("--timeout") + 2:]
names = [os.path.basename(f) for f in files]
with open({log!r}, "a") as fh:  # one line per child: the files it was given
    fh.write(" ".join(names) + "\\n")
with open({pids!r}, "a") as fh:
    fh.write(f"{{os.getpid()}}\\n")
def say(line):
    sys.stdout.write(line + "\\n")
    sys.stdout.flush()
def result(f, status="ok"):
    say("ITFUZZ-RESULT " + json.dumps({{"file": f, "status": status}}))
say("ITFUZZ-READY")
"""


class Fake:
    """A fake child python running `body` after PRELUDE; `children()` lists the file names each
    child it ran was given; the processes are killed (by pid) when the test ends."""

    def __init__(self, tmp_path: Path, body: str, name: str = "python"):
        self.log, self.pids = tmp_path / f"{name}.log", tmp_path / f"{name}.pids"
        script = tmp_path / f"{name}.py"
        script.write_text(PRELUDE.format(log=str(self.log), pids=str(self.pids)) + body)
        self.exe = tmp_path / name
        self.exe.write_text(f"#!/bin/sh\nexec {sys.executable} -S {script} \"$@\"\n")
        self.exe.chmod(0o755)

    def children(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def kill_all(self) -> None:
        for pid in (self.pids.read_text().split() if self.pids.exists() else []):
            kill_if_alive(int(pid))


def alive(pid: int) -> bool:
    """Running (a zombie no reaper collected counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def kill_if_alive(pid: int) -> None:
    if alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@pytest.fixture
def fake(tmp_path):
    made: list[Fake] = []

    def make(body: str, name: str = "python") -> Fake:
        made.append(Fake(tmp_path, body, name))
        return made[-1]
    yield make
    for f in made:
        f.kill_all()


@pytest.fixture
def files(tmp_path):
    def make(*names: str) -> list[str]:
        out = []
        for n in names:
            (tmp_path / n).write_bytes(n.encode())
            out.append(str(tmp_path / n))
        return out
    return make


def run_bounded(seconds: float, *args, **kwargs) -> list:
    """`list(run_isolated(…))`, failing the test (not hanging it) if it takes over `seconds`."""
    out: list = []
    t = threading.Thread(target=lambda: out.extend(run_isolated(*args, **kwargs)), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"run_isolated still running after {seconds} s"
    return out


# -- crashes: at exit, and only after another input ----------------------------------------------

DIES_AT_EXIT = """
for f in files:
    result(f)
os.abort()  # heap corruption that shows only when the interpreter tears down
"""


def test_a_child_that_dies_after_its_last_result_crashed(fake, files):
    py = fake(DIES_AT_EXIT)
    a, b = files("a", "b")
    outs = list(run_isolated("T", [a, b], 30, python=str(py.exe)))
    assert [o.status for o in outs] == ["ok", "abort"]
    assert outs[1].signature == "abort|SIGABRT"
    assert "at exit" in outs[1].detail and "SIGABRT" in outs[1].detail
    assert py.children() == ["a b", "b"]  # b run again alone before it is blamed
    (only,) = run_isolated("T", [a], 30, python=str(py.exe))
    assert only.status == "abort" and "at exit" in only.detail
    assert py.children() == ["a b", "b", "a"]  # alone already: not run again


CRASHES_AFTER_A = """
for f, n in zip(files, names):
    if n == "b" and "a" in names[:names.index("b")]:
        os.abort()  # state left by a
    if n == "boom":
        os.abort()
    result(f)
"""


def test_a_crash_only_in_a_longer_run_is_not_blamed_on_the_file(fake, files):
    py = fake(CRASHES_AFTER_A)
    a, b, c = files("a", "b", "c")
    outs = list(run_isolated("T", [a, b, c], 30, python=str(py.exe)))
    assert [o.status for o in outs] == ["ok", "ok", "ok"]
    assert "a crash was seen only in a longer run" in outs[1].detail
    assert "SIGABRT" in outs[1].detail and "after 1 other input" in outs[1].detail
    assert py.children() == ["a b c", "b", "c"]


def test_a_file_that_crashes_alone_too_is_an_abort(fake, files):
    py = fake(CRASHES_AFTER_A)
    a, boom, c = files("a", "boom", "c")
    outs = list(run_isolated("T", [a, boom, c], 30, python=str(py.exe)))
    assert [o.status for o in outs] == ["ok", "abort", "ok"]
    assert "seen only in a longer run" not in outs[1].detail
    assert "at exit" not in outs[1].detail
    assert py.children() == ["a boom c", "boom", "c"]


# -- time limits ---------------------------------------------------------------------------------

SLOW_SECOND = """
result(files[0])
time.sleep(5.5)
result(files[1])
"""


def test_timeout_0_is_no_limit(fake, files):
    py = fake(SLOW_SECOND)
    outs = list(run_isolated("T", files("a", "b"), 0, python=str(py.exe)))
    assert [o.status for o in outs] == ["ok", "ok"]
    assert py.children() == ["a b"]


HANGS_AT_EXIT = """
for f in files:
    result(f)
time.sleep(300)
"""


def test_a_child_that_does_not_exit_is_killed(fake, files, monkeypatch):
    monkeypatch.setattr(isolate, "EXIT_SECONDS", 1, raising=False)
    py = fake(HANGS_AT_EXIT)
    (out,) = run_bounded(30, "T", files("a"), 30, python=str(py.exe))
    assert out.status == "timeout" and "did not exit" in out.detail
    assert not any(alive(int(p)) for p in py.pids.read_text().split())


STARTS_SOMETHING_AND_HANGS = """
sleeper = subprocess.Popen(["sleep", "300"])
with open({pids!r}, "a") as fh:
    fh.write(f"{{sleeper.pid}}\\n")
time.sleep(300)
"""


def test_a_hung_child_and_what_it_started_are_killed(fake, files, monkeypatch, tmp_path):
    monkeypatch.setattr(isolate, "STARTUP_SECONDS", 5)
    monkeypatch.setattr(isolate, "FIRST_INPUT_GRACE", 0, raising=False)
    monkeypatch.setattr(isolate, "GRACE", 0, raising=False)
    py = fake(STARTS_SOMETHING_AND_HANGS.format(pids=str(tmp_path / "python.pids")))
    (out,) = run_bounded(30, "T", files("a"), 1, python=str(py.exe))
    assert out.status == "timeout"
    pids = [int(p) for p in py.pids.read_text().split()]
    assert len(pids) == 2  # the child and its sleep
    deadline = time.monotonic() + 5
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in pids if alive(p)] == []


# -- pipes: a flood on stderr, bad result lines, no descriptor left open -------------------------

FLOODS_STDERR = """
for f in files:
    result(f)
sys.stderr.write("x" * 200_000)
sys.stderr.flush()
"""


def test_a_child_writing_200k_to_stderr_after_its_results(fake, files):
    py = fake(FLOODS_STDERR)
    outs = run_bounded(30, "T", files("a", "b"), 30, python=str(py.exe))
    assert [o.status for o in outs] == ["ok", "ok"]


BAD_LINES = """
for f, n in zip(files, names):
    if n == "a":
        say("ITFUZZ-RESULT {oops")
    elif n == "b":
        say('ITFUZZ-RESULT {"no_such_field": 1}')
    else:
        result(f)
"""


def test_a_bad_result_line_is_ignored_and_its_file_an_error(fake, files):
    py = fake(BAD_LINES)
    a, b, c = files("a", "b", "c")
    outs = list(run_isolated("T", [a, b, c], 30, python=str(py.exe)))
    assert [(o.status, o.signature) for o in outs] == [
        ("error", "error|no-result"), ("error", "error|no-result"), ("ok", None)]
    assert "{oops" in outs[0].detail or "{oops" in outs[1].detail
    assert py.children() == ["a b c"]
    # A bad line for the last file, then a clean exit: still an error, nothing raised.
    (out,) = run_isolated("T", [a], 30, python=str(py.exe))
    assert (out.status, out.signature) == ("error", "error|no-result")
    assert "{oops" in out.detail


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
def test_no_descriptor_is_left_open(tmp_path, files):
    exe = tmp_path / "python-sh"
    exe.write_text("#!/bin/sh\nshift 5\necho ITFUZZ-READY\n"
                   "for f; do printf 'ITFUZZ-RESULT {\"file\": \"%s\", \"status\": \"ok\"}\\n' "
                   "\"$f\"; done\n")
    exe.chmod(0o755)
    (a,) = files("a")
    gc.collect()
    gc.disable()  # what a reference cycle keeps open counts too
    try:
        before = open_fds()
        for _ in range(20):
            (out,) = run_isolated("T", [a], 30, python=str(exe))
            assert out.status == "ok"
        assert open_fds() - before <= 2
    finally:
        gc.enable()


# -- a child that never runs an input ------------------------------------------------------------

def cannot_import(tmp_path: Path) -> tuple[Path, Path]:
    """A python that cannot import itfuzz (and a log with one line per start)."""
    log = tmp_path / "starts.log"
    exe = tmp_path / "python-broken"
    exe.write_text(f"#!/bin/sh\necho start >> {log}\n"
                   "echo 'Traceback (most recent call last):' >&2\n"
                   "echo \"ModuleNotFoundError: No module named 'itfuzz'\" >&2\nexit 1\n")
    exe.chmod(0o755)
    return exe, log


def test_a_child_that_cannot_start_is_an_error_for_every_file(tmp_path, files):
    exe, log = cannot_import(tmp_path)
    outs = list(run_isolated("T", files("a", "b", "c"), 30, python=str(exe)))
    assert [(o.status, o.signature) for o in outs] == [("error", "error|child-start")] * 3
    assert all("ModuleNotFoundError: No module named 'itfuzz'" in o.detail for o in outs)
    assert all(o.shows_bug and o.cell() == "error|child-start" for o in outs)
    assert outs[0].to_result().signature == "error|child-start"
    assert log.read_text().count("start") == 1  # no child per file


def test_a_child_that_hangs_before_its_ready_line(tmp_path, files, monkeypatch):
    monkeypatch.setattr(isolate, "STARTUP_SECONDS", 1)
    pids = tmp_path / "stuck.pids"
    exe = tmp_path / "python-stuck"
    exe.write_text(f"#!/bin/sh\necho $$ >> {pids}\nexec sleep 300\n")
    exe.chmod(0o755)
    try:
        outs = run_bounded(30, "T", files("a", "b"), 30, python=str(exe))
    finally:
        for pid in pids.read_text().split() if pids.exists() else []:
            kill_if_alive(int(pid))
    assert [o.signature for o in outs] == ["error|child-start"] * 2
    assert "no ready line within 1 s" in outs[0].detail
    assert len(pids.read_text().split()) == 1
