"""The one type and value model: interface types, values with their strict equality, and test
cases (pure: no wasmtime)."""
