"""The release numbers of `itfuzz.versions`."""
from __future__ import annotations

from importlib.metadata import version

import pytest

from itfuzz.versions import parse_version, release, wasmtime_version


def test_wasmtime_version_is_the_installed_release_read_once():
    wasmtime_version.cache_clear()
    assert wasmtime_version() == version("wasmtime")
    wasmtime_version()
    assert wasmtime_version.cache_info().misses == 1
    assert release() == parse_version(version("wasmtime").split(".dev")[0])


def test_parse_version_refuses_other_text():
    with pytest.raises(ValueError):
        parse_version("50.0")
