"""Our canonical-ABI model, written from CanonicalABI.md (pure Python, no wasmtime)."""
