#!/usr/bin/env python3
"""K27: a host resource handle (`ResourceAny`) of one store, passed as an argument to a component
function of another store, is accepted and names that store's resource at the same table index.

One component imports host resource `r` and exports `consume: func(x: own<r>)`, which drops the
handle in the guest (so the host destructor runs and tells which rep arrived). Store A holds one
host resource (rep 1). A handle made in store B (same engine) or store C (another engine) with
rep 2 is passed to A's `consume`: Wasmtime should raise (the handle is not A's); it accepts it,
and the destructor runs for A's rep 1: A's resource is consumed through a foreign handle.
pip install wasmtime==50.0.1 && python3 THIS.py  -> "BUG: ..." and exit 1."""
import sys

import wasmtime
from wasmtime.component import Component, Linker, ResourceHost, ResourceType

WAT = """(component
  (import "r" (type $r (sub resource)))
  (core func $drop (canon resource.drop $r))
  (core module $M
    (import "r" "drop" (func $drop (param i32)))
    (func (export "consume") (param i32) (call $drop (local.get 0))))
  (core instance $m (instantiate $M (with "r" (instance (export "drop" (func $drop))))))
  (func $consume (param "x" (own $r)) (canon lift (core func $m "consume")))
  (export "consume" (func $consume)))"""
TYPE = 0x17F00
dtor_runs = []


def setup(engine):
    linker = Linker(engine)
    with linker.root() as root:
        root.add_resource("r", ResourceType.host(TYPE), lambda store, rep: dtor_runs.append(rep))
    store = wasmtime.Store(engine)
    inst = linker.instantiate(store, Component(engine, WAT))
    return store, inst.get_func(store, "consume")


bugs = 0
engine = wasmtime.Engine()
for where in ("another store of the same engine", "a store of another engine"):
    store_a, consume = setup(engine)
    mine = ResourceHost.own(1, TYPE).to_any(store_a)  # A's live host resource, rep 1
    other = wasmtime.Store(engine if where.startswith("another store") else wasmtime.Engine())
    foreign = ResourceHost.own(2, TYPE).to_any(other)  # rep 2, in the other store's table
    dtor_runs.clear()
    try:
        consume(store_a, foreign)
        consume.post_return(store_a)  # required before Wasmtime 42, a no-op after
    except wasmtime.WasmtimeError as e:
        print(f"ok: a handle from {where} was refused: {str(e).splitlines()[0]}")
        continue
    bugs += 1
    print(f"BUG: a handle from {where} (rep 2) was accepted by store A; the guest dropped it "
          f"and the host destructor ran for rep(s) {dtor_runs} (store A's resource)")
sys.exit(1 if bugs else 0)
