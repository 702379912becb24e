"""Spec interpreter speed vs Wasmtime's Pulley interpreter, and its memory use over many cycles.

    python bench/bench_spec_interp.py [--scale N] [--cycles 100000]

Instructions per second: the spec interpreter counts what it executes (``opcode_counts``);
Pulley runs the same deterministic call, so it is credited with the same instruction count.
Times are the best of a few calls on one instance (Pulley's after compilation).
"""
import argparse
import time

from itfuzz import spec
from itfuzz.spec.tools import wat2wasm

spec.init()  # before any Wasmtime engine exists: OCaml installs its own SIGSEGV handler

import wasmtime  # noqa: E402

WORKLOADS = {
    "fib": ("""
(module
  (func $fib (export "run") (param i32) (result i32)
    local.get 0 i32.const 2 i32.lt_u
    if (result i32) local.get 0
    else local.get 0 i32.const 1 i32.sub call $fib local.get 0 i32.const 2 i32.sub call $fib i32.add
    end))""", lambda scale: 18 + scale),
    "sieve": ("""
(module
  (memory 16)
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $count i32)
    (memory.fill (i32.const 0) (i32.const 0) (local.get $n))
    (local.set $i (i32.const 2))
    (block $done (loop $outer
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.eqz (i32.load8_u (local.get $i)))
        (then
          (local.set $count (i32.add (local.get $count) (i32.const 1)))
          (local.set $j (i32.mul (local.get $i) (local.get $i)))
          (block $end (loop $inner
            (br_if $end (i32.ge_u (local.get $j) (local.get $n)))
            (i32.store8 (local.get $j) (i32.const 1))
            (local.set $j (i32.add (local.get $j) (local.get $i)))
            (br $inner)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $outer)))
    (local.get $count)))""", lambda scale: min(1_000_000, 125_000 * scale)),
    "memcopy": ("""
(module
  (memory 2)
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $round i32)
    (block $done (loop $rounds
      (br_if $done (i32.ge_u (local.get $round) (local.get $n)))
      (local.set $i (i32.const 0))
      (block $end (loop $copy
        (br_if $end (i32.ge_u (local.get $i) (i32.const 4096)))
        (i64.store offset=65536 (local.get $i)
          (i64.add (i64.load (local.get $i)) (i64.extend_i32_u (local.get $round))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $copy)))
      (local.set $round (i32.add (local.get $round) (i32.const 1)))
      (br $rounds)))
    (i32.load offset=65536 (i32.const 0))))""", lambda scale: 100 * scale),
}


def spec_run(wasm: bytes, arg: int, repeat: int) -> tuple[float, int, int]:
    """(best seconds of ``repeat`` calls, instructions per call, result) on the spec
    interpreter."""
    inst = spec.instantiate(wasm)
    spec.opcode_counts()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        (result,) = inst.interpret("run", [arg])
        best = min(best, time.perf_counter() - start)
    return best, sum(spec.opcode_counts().values()) // repeat, result.signed


def pulley_run(engine: wasmtime.Engine, wasm: bytes, arg: int, repeat: int) -> tuple[float, int]:
    """(best seconds of ``repeat`` calls, result) on Wasmtime with the given engine."""
    store = wasmtime.Store(engine)
    inst = wasmtime.Instance(store, wasmtime.Module(engine, wasm), [])
    run = inst.exports(store)["run"]
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run(store, arg)
        best = min(best, time.perf_counter() - start)
    return best, result


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def memory_cycles(total: int) -> None:
    wasm = wat2wasm(WORKLOADS["fib"][0])
    marks = {1_000, total}
    for i in range(1, total + 1):
        with spec.instantiate(wasm) as inst:
            inst.interpret("run", [5])
        if i in marks:
            print(f"RSS after {i:>7} instantiate/interpret cycles: {rss_kb() / 1024:8.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=8, help="workload size")
    parser.add_argument("--cycles", type=int, default=100_000)
    args = parser.parse_args()
    cfg = wasmtime.Config()
    cfg.target = "pulley64"
    engine = wasmtime.Engine(cfg)
    print(f"{'workload':10} {'instructions':>13} {'spec instr/s':>14} {'pulley instr/s':>15} "
          f"{'pulley/spec':>12}")
    for name, (wat, arg_of) in WORKLOADS.items():
        wasm, arg = wat2wasm(wat), arg_of(args.scale)
        t_spec, count, r_spec = spec_run(wasm, arg, repeat=3)
        t_pulley, r_pulley = pulley_run(engine, wasm, arg, repeat=5)
        assert r_spec == r_pulley, (name, r_spec, r_pulley)
        print(f"{name:10} {count:13,} {count / t_spec:14,.0f} {count / t_pulley:15,.0f} "
              f"{t_spec / t_pulley:11.1f}x")
    memory_cycles(args.cycles)


if __name__ == "__main__":
    main()
