"""Standalone reproducers make the engine configuration the case ran on."""
from __future__ import annotations

import random
import subprocess
import sys

import wasmtime

from itfuzz import targets
from itfuzz.engines import configs
from itfuzz.model.engine_config import EngineConfig, GiB
from itfuzz.ops.reproducer import script
from itfuzz.ops.script_parts import engine_source


def script_engine(config):
    namespace = {"wasmtime": wasmtime}
    exec(engine_source(config), namespace)
    return namespace["make_engine"]()


def test_script_engine_is_the_oracle_engine():
    for config in (EngineConfig("winch", None, True, 4 * GiB, 0, True, False),
                   EngineConfig("pulley", "none", False, 0, None, False, True, True, True),
                   EngineConfig("cranelift", "speed", True)):
        # same compiled code and same engine settings (Wasmtime checks them on deserialize)
        art = configs.artifact(script_engine(config))
        assert art == configs.artifact(configs.make_engine(config))
        wasmtime.Module.deserialize(configs.make_engine(config), art)


def test_roundtrip_and_misuse_scripts_run_on_the_configuration(tmp_path):
    for name in ("component_roundtrip", "host_api_misuse"):
        target = targets.get(name)
        rng = random.Random(11)
        while True:
            data = bytes([0]) + rng.randbytes(40)  # single shape, no resources
            case = target.decode(data)
            if case.config is not None and case.config.strategy == "winch":
                break
        path = tmp_path / f"{name}.py"
        path.write_text(script(target, data, None))
        text = path.read_text()
        assert f"Engine configuration: {case.config.text()}" in text
        assert "engine = make_engine()" in text
        out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode in (0, 1), out.stderr  # 1: a (known) misuse finding shows
        assert "OK" in out.stdout or "FAIL[" in out.stdout
