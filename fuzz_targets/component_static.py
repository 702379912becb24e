#!/usr/bin/env python3
"""Component round trip on the static cases: types fixed at build time, generated typed code."""
from itfuzz.fuzzing import main

if __name__ == "__main__":
    main("component_static")
