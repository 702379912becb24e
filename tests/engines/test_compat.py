"""engines/compat: the release differences, including the paths older releases take."""
from __future__ import annotations

import wasmtime

from itfuzz.engines import compat

MODULE = '(module (func (export "f") (result i32) i32.const 1))'


def machine(engine) -> int:
    """The ELF machine of a compiled module (x86-64 0x3e natively; Pulley otherwise)."""
    art = wasmtime.Module(engine, MODULE).serialize()
    return int.from_bytes(art[18:20], "little")


class BareConfig:
    """A Config as wasmtime-py before 45 has it: no `target` / NaN-canonicalization property."""

    def __init__(self) -> None:
        self.cfg = wasmtime.Config()

    def ptr(self):
        return self.cfg.ptr()


def test_target_is_really_set_without_a_property():
    native = machine(wasmtime.Engine())
    with_property = wasmtime.Config()
    compat.set_target(with_property, "pulley64")
    bare = BareConfig()
    compat.set_target(bare, "pulley64")
    assert not hasattr(bare, "target")  # the old failure: a plain attribute, silently ignored
    pulley = machine(wasmtime.Engine(with_property))
    assert pulley != native
    assert machine(wasmtime.Engine(bare.cfg)) == pulley


def test_nan_canonicalization_without_a_property():
    bare = BareConfig()
    compat.set_nan_canonicalization(bare, True)
    assert not hasattr(bare, "cranelift_nan_canonicalization")
    wasmtime.Engine(bare.cfg)  # a valid configuration


def test_release_limits_only_below_their_release(monkeypatch):
    err = wasmtime.WasmtimeError("function parameter name `q-0-z` is not in kebab case")
    monkeypatch.setattr(compat, "release", lambda: (39, 0, 0))
    assert compat.release_limitation(err) == "is-not-in-kebab-case"
    monkeypatch.setattr(compat, "release", lambda: (44, 0, 0))
    assert compat.release_limitation(err) is None  # a finding there
    assert compat.release_limitation(wasmtime.WasmtimeError("other")) is None


def test_newer_rules_only_from_their_release(monkeypatch):
    """51 refuses handles in map values, which the spec revision we model allows: a limit of
    51 and later, a finding before (an older release that refused it would be wrong)."""
    err = wasmtime.WasmtimeError("map value type cannot contain a handle (at offset 0x2f)")
    monkeypatch.setattr(compat, "release", lambda: (51, 0, 0))
    assert compat.release_limitation(err) == "map-value-type-cannot-contain-a-handle"
    monkeypatch.setattr(compat, "release", lambda: (50, 0, 1))
    assert compat.release_limitation(err) is None
