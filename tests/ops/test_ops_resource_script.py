"""`repro --script` of a resource input: refused with the reason (no half-working script)."""
from __future__ import annotations

import pytest

from itfuzz import targets
from itfuzz.ops.reproducer import Unsupported, script


def test_resource_inputs_get_no_script_but_a_reason(repo_root):
    data = (repo_root / "findings" / "K24-resource-drop-other-store.bin").read_bytes()
    with pytest.raises(Unsupported, match="resource handles"):
        script(targets.get("component_roundtrip"), data, None)
