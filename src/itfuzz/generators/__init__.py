"""Bytes to cases: `Unstructured`, types, signatures, values, components, core modules, hostile
guests (pure and deterministic; no wasmtime)."""
