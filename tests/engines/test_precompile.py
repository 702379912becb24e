"""The precompile helper process (`engines.precompile`): what it compiles is a disk-cache hit for
the oracle, under the oracle's own key, with the same outcome as without it; a helper that dies
is restarted, at most N times, then stays off, and the fuzzing side never raises."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from itfuzz import targets
from itfuzz.engines import component_cache
from itfuzz.engines.precompile import PLANT_ABORT_ENV, Precompiler
from itfuzz.findings import Finding
from itfuzz.model.engine_config import engine_text

ROOT = Path(__file__).resolve().parents[2]
TARGET = "component_roundtrip"
# Seeds of the shipped corpus: the default engine and several configurations (pulley, winch,
# pooling, custom page sizes).
INPUTS = [f.read_bytes() for f in sorted((ROOT / "corpus" / TARGET).iterdir())[:6]]


def seeds(name: str) -> list[bytes]:
    return [f.read_bytes() for f in sorted((ROOT / "corpus" / name).iterdir())[:6]]


@pytest.fixture
def cache(tmp_path):
    c = component_cache.enable(tmp_path / "components")
    yield c
    component_cache.disable()


def precompiled(cache, inputs: list[bytes], component_of=None, name: str = TARGET) -> dict:
    """Precompile the components of `inputs` (as target `name` names them, or as
    `component_of` does) in a helper, and wait for it; its stats."""
    target = targets.get(name)
    pre = Precompiler(cache.disk.directory, backlog=len(inputs))
    for data in inputs:
        config, text = (component_of or target.component)(data)
        assert pre.submit(config, text)
        while pre.out:  # the pipe is full: let the helper read on (no request is dropped)
            pre.poll()
            time.sleep(0.01)
    pre.close()
    return pre.stats


def outcome(target, data: bytes) -> object:
    try:
        return target.execute(data)
    except Finding as f:
        return f.signature


@pytest.mark.parametrize("name", [TARGET, "component_static", "host_api_misuse"])
def test_a_precompiled_component_is_a_disk_hit_with_the_same_outcome(cache, name):
    inputs = seeds(name)
    stats = precompiled(cache, inputs, name=name)
    target = targets.get(name)
    components = {target.component(data) for data in inputs}
    assert stats["requests"] == stats["done"] == len(inputs)
    assert stats["compiled"] == len(components) and stats["restarts"] == 0
    for config, text in components:  # stored under exactly the oracle's key
        assert cache.disk.get(component_cache.key(text, engine_text(config))) is not None
    with_pre = [outcome(target, data) for data in inputs]
    assert target.oracle.stats["compiles"] == target.oracle.stats["compile-disk-hits"] \
        == len(components)
    component_cache.disable()  # the same inputs without the helper (nor any disk cache)
    fresh = targets.get(name)
    assert [outcome(fresh, data) for data in inputs] == with_pre
    assert fresh.oracle.stats["compiles"] == len(components)
    assert "compile-disk-hits" not in fresh.oracle.stats


def test_a_component_under_another_key_is_no_hit(cache):
    """Planted: the request names a text other than the one the oracle compiles (the
    configuration's page-size rewrite left out): the oracle compiles everything itself."""
    from itfuzz.generators.signatures import HEADS
    target = targets.get(TARGET)

    def unconfigured(data: bytes) -> tuple:
        head = HEADS.decode(data)[0]
        return head.config, target.oracle.text(head.sig) + " "

    stats = precompiled(cache, INPUTS[:2], unconfigured)
    assert stats["done"] == 2
    for data in INPUTS[:2]:
        outcome(target, data)
    assert target.oracle.stats["compiles"] == 2
    assert "compile-disk-hits" not in target.oracle.stats


def test_an_already_stored_component_is_answered_as_such(cache):
    precompiled(cache, INPUTS[:1])
    stats = precompiled(cache, INPUTS[:1])
    assert stats["done"] == 1 and stats["compiled"] == 0


def test_a_helper_that_dies_is_restarted_then_left_off(cache, monkeypatch, capfd):
    monkeypatch.setenv(PLANT_ABORT_ENV, "1")  # the helper aborts on its first request
    config, text = targets.get(TARGET).component(INPUTS[0])
    pre = Precompiler(cache.disk.directory, max_restarts=2)
    sent = []
    for _ in range(5):
        sent.append(pre.submit(config, text) is not None)
        if pre.proc is not None:
            pre.proc.wait()  # it has died (the next request finds that out)
    assert sent == [True, True, True, False, False]
    assert pre.stats["restarts"] == 2 and pre.stats["requests"] == 3
    assert pre.stats["done"] == 0 and not pre.on and pre.proc is None
    pre.close()  # nothing left to wait for
    err = capfd.readouterr().err
    assert err.count("precompile helper off") == 1, err
    assert "died 3 times" in err
    assert err.count("precompile helper died (exit status") == 3, err


def test_a_dead_helper_leaves_the_component_it_was_compiling(cache, monkeypatch, capfd,
                                                             tmp_path):
    monkeypatch.setenv(PLANT_ABORT_ENV, "1")
    config, text = targets.get(TARGET).component(INPUTS[0])
    pre = Precompiler(cache.disk.directory, max_restarts=0, artifacts=f"{tmp_path}/x-")
    assert pre.submit(config, text)
    assert pre.proc is not None
    pre.proc.wait()
    pre.poll()  # finds it dead
    records = list(tmp_path.glob("x-precompile-died-*.txt"))
    assert len(records) == 1
    assert records[0].read_text() == f"engine: {engine_text(config)}\n{text}\n"
    assert str(records[0]) in capfd.readouterr().err


def test_the_helper_dies_with_its_parent(tmp_path):
    """A helper whose fuzzing process is gone (libFuzzer's `_exit` skips `close`) is killed by
    the kernel even while it is busy: its parent here is a shell that exits at once."""
    import subprocess
    helper = tmp_path / "helper.py"
    helper.write_text(f"import sys, time\nsys.path.insert(0, {str(ROOT / 'src')!r})\n"
                      "from itfuzz.engines import precompile\n"
                      "print('started', flush=True)\n"
                      "precompile.die_with(int(sys.argv[1]))\ntime.sleep(60)\n")
    started = tmp_path / "started"
    out = subprocess.run(["sh", "-c", f'"{sys.executable}" "{helper}" $$ > "{started}" 2>&1 & '
                          'echo $!; sleep 1'], capture_output=True, text=True, timeout=30)
    child = int(out.stdout.strip())
    time.sleep(0.5)
    assert started.read_text() == "started\n"  # it ran (and its parent is gone now)
    for _ in range(100):
        try:
            with open(f"/proc/{child}/stat") as f:
                if f.read().split(") ")[1].startswith("Z"):
                    break
        except FileNotFoundError:
            break
        time.sleep(0.1)
    else:
        import os
        os.kill(child, 9)
        pytest.fail("the helper outlived its parent")


def test_no_helper_can_start(cache, monkeypatch, capfd):
    pre = Precompiler(cache.disk.directory)
    pre.command = [str(cache.disk.directory / "no-such-python")]
    assert not pre.submit(None, "(component)")
    assert not pre.on and not pre.submit(None, "(component)")
    assert capfd.readouterr().err.count("precompile helper off") == 1
    early = Precompiler(cache.disk.directory)
    early.command = pre.command
    early.start()
    assert not early.on and early.proc is None
    assert capfd.readouterr().err.count("precompile helper off") == 1


def test_start_runs_the_helper_before_any_request(cache):
    target = targets.get(TARGET)
    pre = Precompiler(cache.disk.directory)
    pre.start()
    assert pre.proc is not None and pre.proc.poll() is None
    proc = pre.proc
    ticket = pre.submit(*target.component(INPUTS[0]))
    assert ticket == 1 and pre.proc is proc  # the same helper answers
    pre.close()
    assert pre.stats["done"] == 1


def test_a_busy_helper_drops_requests(cache):
    pre = Precompiler(cache.disk.directory, backlog=1)
    pre.command = [sys.executable, "-c", "import sys; sys.stdin.buffer.read()"]  # never answers
    ticket = pre.submit(None, "(component)")
    assert ticket == 1
    assert pre.submit(None, "(component)") is None  # the first is not answered yet
    assert not pre.done(ticket)
    pre.close()
    assert pre.stats["requests"] == 1 and pre.stats["dropped"] == 1 and pre.stats["done"] == 0
    assert pre.done(ticket)  # off: it will never be answered, so nothing waits for it


def test_a_request_is_done_once_answered(cache):
    target = targets.get(TARGET)
    pre = Precompiler(cache.disk.directory)
    for data in INPUTS[:2]:
        ticket = pre.submit(*target.component(data))
        assert ticket is not None
        deadline = time.monotonic() + 60
        while not pre.done(ticket):  # wait for the answer
            assert time.monotonic() < deadline, "the helper did not answer in 60 s"
            time.sleep(0.01)
        assert pre.stats["done"] == ticket
    pre.close()
    assert pre.stats["failed"] == 0 and pre.stats["compiled"] == 2
    assert pre.proc is None and not pre.on


def test_a_component_that_does_not_compile_is_answered_and_not_stored(cache):
    pre = Precompiler(cache.disk.directory)
    assert pre.submit(None, "(component (core module (func (result i32))))")  # invalid
    pre.close()
    assert pre.stats["done"] == pre.stats["failed"] == 1 and pre.stats["compiled"] == 0
    assert not list(cache.disk.directory.glob("*.blob"))


def test_what_the_helper_prints_does_not_reach_the_answers(cache, capfd):
    """Planted: the helper prints on stdout (as a library might) before each answer; the
    answers channel carries only the answer bytes."""
    pre = Precompiler(cache.disk.directory)
    pre.command[1:1] = ["-c", "import os, sys; from itfuzz.engines import "
                        "precompile as p; a = p.answer; p.answer = lambda *x: (print('noise'), "
                        "os.write(1, b'raw'), a(*x))[-1]; sys.argv = sys.argv[2:]; "
                        "p.main(sys.argv[1:])"]
    assert pre.submit(None, "(component)")
    pre.close()
    assert pre.stats["done"] == 1 and pre.stats["compiled"] == 1
    assert "noise" in capfd.readouterr().err
