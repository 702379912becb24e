"""itfuzz.spec: threads, fault injection, dropping handles, SIGSEGV handler order."""
import os
import subprocess
import sys
import threading

import pytest
from faults import plant_interpreter

from itfuzz import spec
from itfuzz.spec import Value
from itfuzz.spec.tools import wat2wasm

pytestmark = pytest.mark.spec

FIB = wat2wasm("""
(module
  (import "env" "h" (func $h (param i32) (result i32)))
  (func $fib (export "fib") (param i32) (result i32)
    local.get 0 i32.const 2 i32.lt_u
    if (result i32) local.get 0
    else local.get 0 i32.const 1 i32.sub call $fib local.get 0 i32.const 2 i32.sub call $fib i32.add
    end)
  (func $rec (export "rec") (param i32) (result i32) local.get 0 call $rec)
  (func (export "via_host") (param i32) (result i32) local.get 0 call $h call $fib)
  (func (export "rem_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_s))
""")
FIBS = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584, 4181]


def _instance():
    return spec.instantiate(FIB, {("env", "h"): spec.HostFunc(["i32"], ["i32"],
                                                               lambda a: [a[0].bits + 1])})


def test_four_threads_at_once():
    shared = _instance()
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work(k: int) -> None:
        try:
            barrier.wait()
            own = _instance()
            for i in range(60):
                n = (i + k) % 19
                assert own.interpret("fib", [n]) == [Value.i32(FIBS[n])]
                assert shared.interpret("via_host", [n]) == [Value.i32(FIBS[n + 1])]
                if i % 20 == 0:
                    with pytest.raises(spec.Exhaustion):
                        own.interpret("rec", [n])
                assert own.interpret("rem_s", [-7, 3]) == [Value.i32(-1)]
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_fault_injection_changes_result_and_clears():
    inst = _instance()
    assert inst.interpret("rem_s", [-7, 3]) == [Value.i32(-1)]
    with plant_interpreter("i32.rem_s"):  # itfuzz.spec.set_fault, then set_fault("")
        faulty = inst.interpret("rem_s", [-7, 3])
    assert faulty != [Value.i32(-1)]
    assert inst.interpret("rem_s", [-7, 3]) == [Value.i32(-1)]


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_drop_does_not_leak():
    def cycle(n: int) -> None:
        for _ in range(n):
            inst = spec.instantiate(FIB, {("env", "h"): spec.HostFunc(["i32"], ["i32"], lambda a: a)})
            assert inst.interpret("fib", [10]) == [Value.i32(55)]
            inst.close()

    cycle(2000)
    before = _rss_kb()
    cycle(10000)
    assert _rss_kb() - before < 20_000


SIGNAL_SCRIPT = """
import wasmtime
from itfuzz import spec
engine = wasmtime.Engine()
store = wasmtime.Store(engine)
oob = '(module (memory 1) (func (export "f") (result i32) i32.const 70000 i32.load))'
inst = wasmtime.Instance(store, wasmtime.Module(engine, oob), [])
spec.init()
for _ in range(2):
    try:
        inst.exports(store)["f"](store)
    except wasmtime.Trap:
        pass
print("ok")
"""


def test_wasmtime_traps_survive_a_late_start():
    """Starting OCaml after a Wasmtime engine exists must not break Wasmtime's trap handler."""
    proc = subprocess.run([sys.executable, "-c", SIGNAL_SCRIPT], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
