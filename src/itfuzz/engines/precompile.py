"""Compiling components ahead of time in a helper process, into the on-disk component cache.

The fuzzing process hands (engine configuration, component text) requests to `Precompiler`,
which passes them to a helper process (`python -m itfuzz.engines.precompile`, started by `start` or
the first request) over a pipe. The helper makes the configuration's engine the way the oracles do
(`configs.Engines`) and compiles through `component_cache.compile_cached`, so the component lands
on disk under the key the oracle looks up later (text, `engine_text(config)`, release); when the
fuzzing process runs that input, its compile is a disk load. Compile errors are ignored: the
fuzzing process compiles such an input itself and classifies the error as it always does.

Why a process and not a thread: if Wasmtime aborts or crashes while compiling, only the helper
dies. The fuzzing process later compiles that input itself, so the crash happens while libFuzzer
runs the input that causes it, and the crash file names the right input. A dead helper is
restarted, at most `MAX_RESTARTS` times; then precompiling stays off (one line on stderr).

`submit` never blocks: a request is dropped while a frame is still being written or the helper
has `BACKLOG` requests unanswered. `close` ends the helper and waits for it, so its CPU time
counts in the fuzzing process's children (`getrusage(RUSAGE_CHILDREN)`).

Protocol: a request is a 4-byte little-endian length and a pickle of (config, text); the helper
answers each with one byte: `c` compiled and stored, `h` already on disk, `e` not compiled.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import signal
import struct
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

from itfuzz.engines.component_cache import DEFAULT_MAX_BYTES, compile_cached, enable
from itfuzz.engines.component_engine import make_component_engine
from itfuzz.engines.configs import Engines
from itfuzz.model.engine_config import EngineConfig, engine_text

BACKLOG = 2  # requests sent and not answered yet, at most
MAX_RESTARTS = 3
CLOSE_WAIT = 10.0  # seconds the helper gets to finish its backlog at exit
ENGINES = 128  # engines the helper keeps, one per configuration
PLANT_ABORT_ENV = "ITFUZZ_PRECOMPILE_PLANT_ABORT"  # test hook: the helper aborts on a request
_LEN = struct.Struct("<I")


class Precompiler:
    """The fuzzing process's side: requests to the helper (see the module doc). `stats`:
    requests (sent), done (answered), compiled (stored by the helper), failed (not compiled),
    dropped (busy), restarts."""

    def __init__(self, directory: str | Path, max_bytes: int = DEFAULT_MAX_BYTES,
                 backlog: int = BACKLOG, max_restarts: int = MAX_RESTARTS,
                 artifacts: str | None = None) -> None:
        self.command = [sys.executable, "-m", __name__, str(directory), str(max_bytes),
                        str(os.getpid())]
        self.artifacts = artifacts  # prefix of a dead helper's last request (None: not kept)
        self.sent: tuple | None = None  # the last request (config, text)
        self.backlog = backlog
        self.max_restarts = max_restarts
        self.proc: subprocess.Popen | None = None
        self.on = True
        self.out = b""  # the part of a request not written yet
        self.answered = 0  # requests answered (or lost with a helper that died)
        self.stats = {"requests": 0, "done": 0, "compiled": 0, "failed": 0, "dropped": 0,
                      "restarts": 0}

    @property
    def waiting(self) -> int:
        """Requests sent and not answered yet (none after the helper died: they are lost)."""
        return self.stats["requests"] - self.answered

    def start(self) -> None:
        """Start the helper now (else on the first request): its start-up (~1 s of imports and
        an engine) then overlaps libFuzzer's loading of the corpus, and the first structure
        edits need not wait for it. Never raises."""
        if self.on and self.proc is None:
            try:
                self._start()
            except Exception as e:
                self._off(f"{type(e).__name__}: {e}")

    def submit(self, config: EngineConfig | None, text: str) -> int | None:
        """Ask the helper to compile `text` for `config`: the request's number (a ticket for
        `done`), or None when it is dropped (helper busy, or off). Never blocks, never
        raises."""
        if not self.on:
            return None
        try:
            self.poll()
            if self.on and self.proc is None:
                self._start()
            if not self.on or self.out or self.waiting >= self.backlog:
                self.stats["dropped"] += 1
                return None
            self.sent = (config, text)
            body = pickle.dumps(self.sent, pickle.HIGHEST_PROTOCOL)
            self.out = _LEN.pack(len(body)) + body
            self.stats["requests"] += 1
            self._flush()
            return self.stats["requests"]
        except Exception as e:  # e.g. no process can be started: fuzz on without it
            self._off(f"{type(e).__name__}: {e}")
            return None

    def done(self, ticket: int | None) -> bool:
        """Whether request `ticket` (from `submit`) is answered, or will never be: dropped
        (None), lost with a dead helper, or the helper is off. Never blocks, never raises."""
        if ticket is None or not self.on:
            return True
        try:
            self.poll()
        except Exception as e:
            self._off(f"{type(e).__name__}: {e}")
        return not self.on or ticket <= self.answered

    def poll(self) -> None:
        """Count the helper's answers, write what is left of a request, notice a dead helper."""
        if self.proc is None:
            return
        assert self.proc.stdout is not None
        while True:
            try:
                answers = os.read(self.proc.stdout.fileno(), 4096)
            except BlockingIOError:
                break
            if not answers:  # end of file: the helper is gone
                self._died()
                return
            self._count(answers)
        if self.proc.poll() is not None:
            self._died()
            return
        self._flush()

    def close(self) -> None:
        """End the helper: no more requests; it finishes the ones it has, and is waited for."""
        self.on = False
        proc, self.proc = self.proc, None
        if proc is None:
            return
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.close()  # a request cut short is not run
        try:
            proc.wait(CLOSE_WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        try:
            while answers := os.read(proc.stdout.fileno(), 4096):
                self._count(answers)
        except OSError:
            pass
        proc.stdout.close()

    def _start(self) -> None:
        env = dict(os.environ)
        src = str(Path(__file__).resolve().parents[2])  # itfuzz importable in the helper
        env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, env.get("PYTHONPATH", "")
                                                          .split(os.pathsep))])
        self.proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     bufsize=0, env=env)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        os.set_blocking(self.proc.stdin.fileno(), False)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.out = b""

    def _flush(self) -> None:
        if not self.out or self.proc is None:
            return
        assert self.proc.stdin is not None
        try:
            n = os.write(self.proc.stdin.fileno(), self.out)
        except BlockingIOError:
            return
        except OSError:  # broken pipe: the helper is gone
            self._died()
            return
        self.out = self.out[n:]

    def _count(self, answers: bytes) -> None:
        self.stats["done"] += len(answers)
        self.stats["compiled"] += answers.count(b"c")
        self.stats["failed"] += answers.count(b"e")
        self.answered += len(answers)

    def _died(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        lost = self.answered < self.stats["requests"]
        self.answered = self.stats["requests"]  # the unanswered ones are lost
        proc.wait()  # reaped: its CPU time counts in this process's children
        self._record_death(proc.returncode, lost)
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()
        if self.stats["restarts"] >= self.max_restarts:
            self._off(f"it died {self.stats['restarts'] + 1} times (last exit status "
                      f"{proc.returncode})")
        else:
            self.stats["restarts"] += 1  # started again with the next request

    def _record_death(self, status: int | None, lost: bool) -> None:
        """One stderr line per death and, when a request was being compiled, that request in
        `<artifacts>precompile-died-<hash>.txt`: the input that holds it runs in the fuzzing
        process later (and crashes there, if the compile crashes by itself), but a crash that
        needed the helper's state, or an input that never ran, still leaves a trace."""
        where = ""
        if lost and self.sent is not None and self.artifacts is not None:
            config, text = self.sent
            body = f"engine: {engine_text(config)}\n{text}\n"
            name = hashlib.sha256(body.encode()).hexdigest()[:16]
            path = f"{self.artifacts}precompile-died-{name}.txt"
            try:
                Path(path).write_text(body)
                where = f"; the component it was compiling: {path}"
            except OSError:
                pass
        sys.stderr.write(f"itfuzz: precompile helper died (exit status {status}){where}\n")
        sys.stderr.flush()

    def _off(self, why: str) -> None:
        if self.on:
            sys.stderr.write(f"itfuzz: precompile helper off, {why}; compiling in the fuzzing "
                             "process only\n")
            sys.stderr.flush()
        self.on = False
        if self.proc is not None:
            self.close()


# -- the helper process --------------------------------------------------------------------------

def answer(engines: Engines, config: EngineConfig | None, text: str, stats: dict) -> bytes:
    """Compile `text` for `config` into the active disk cache: b"c" compiled, b"h" already
    there, b"e" not compiled (any error: the fuzzing process meets it itself)."""
    hits = stats.get("compile-disk-hits", 0)
    try:
        compile_cached(engines.get(config), text, stats, engine_text(config))
    except Exception:
        return b"e"
    return b"h" if stats.get("compile-disk-hits", 0) > hits else b"c"


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    """Answer requests from `inp` until it ends."""
    engines = Engines(make_component_engine(), ENGINES)
    stats: dict = {}
    while True:
        head = inp.read(_LEN.size)
        if len(head) < _LEN.size:
            return
        (n,) = _LEN.unpack(head)
        body = inp.read(n)
        if len(body) < n:
            return
        if os.environ.get(PLANT_ABORT_ENV):
            os.abort()
        config, text = pickle.loads(body)
        out.write(answer(engines, config, text, stats))
        out.flush()


def die_with(parent: int) -> None:
    """Linux: the kernel kills this process when its parent dies (libFuzzer ends with `_exit`
    on a timeout or an out-of-memory input, so a compile that hangs here would outlive it)."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the prctl
        os._exit(0)


def main(argv: list[str]) -> None:
    # Not niced: nearly every compile it does is one the fuzzing process would do otherwise (each
    # structure edit runs), and at nice 10 on a busy machine (30 s runs, load 2) most requests
    # came too late: 317 of 790 compiles were disk hits, 511 of 740 at nice 0.
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ends with the fuzzing process's pipe
    if len(argv) > 2:
        die_with(int(argv[2]))
    answers = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # anything else printed (by Python or native code) goes to stderr
    sys.stdout = sys.stderr
    enable(argv[0], int(argv[1]))
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main(sys.argv[1:])
