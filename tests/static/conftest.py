"""Fixtures of the static target's tests."""
from __future__ import annotations

import pytest

from itfuzz.static.decode import default_cases


@pytest.fixture(scope="module")
def cases():
    """The generated case table."""
    return default_cases()
