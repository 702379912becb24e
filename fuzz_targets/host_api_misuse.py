#!/usr/bin/env python3
"""Host-API misuse: invalid Python values passed to wasmtime-py must raise harmlessly."""
from itfuzz.fuzzing import main

if __name__ == "__main__":
    main("host_api_misuse")
