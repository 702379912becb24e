"""`repro --script` refuses a resource misuse input of host_api_misuse, saying why."""
from __future__ import annotations

from pathlib import Path

import pytest

from itfuzz import targets
from itfuzz.ops.reproducer import script
from itfuzz.ops.script_parts import Unsupported

ROOT = Path(__file__).resolve().parents[2]


def test_resource_misuse_input_has_no_generated_script():
    data = (ROOT / "findings" / "K27-resource-other-store-argument.bin").read_bytes()
    with pytest.raises(Unsupported, match="bad handle at run time"):
        script(targets.get("host_api_misuse"), data, None)


def test_other_misuse_inputs_still_get_scripts():
    data = (ROOT / "findings" / "K4-misuse-int-range.bin").read_bytes()
    assert "wasmtime" in script(targets.get("host_api_misuse"), data, None)
