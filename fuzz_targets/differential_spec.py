#!/usr/bin/env python3
"""Core Wasm modules (wasm-smith, round-trip components' core modules) on Wasmtime's engines
(Cranelift, Winch, Pulley) against the OCaml spec interpreter."""
from itfuzz.fuzzing import main

if __name__ == "__main__":
    main("differential_spec")
