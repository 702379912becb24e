#!/usr/bin/env python3
"""Component round trip under the dynamic wasmtime.component oracle."""
from itfuzz.fuzzing import main

if __name__ == "__main__":
    main("component_roundtrip")
