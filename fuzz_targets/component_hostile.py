#!/usr/bin/env python3
"""Hostile guests (invalid data, hostile realloc) judged by our canonical-ABI model."""
from itfuzz.fuzzing import main

if __name__ == "__main__":
    main("component_hostile")
