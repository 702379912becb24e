"""Differences between the wasmtime-py releases itfuzz runs on (39.0.0 and later), in one place.

Nothing else tests a version: the oracles compile components and call component functions
through `compile_component` and `call_func`.

- Text: releases before 48 parse only the older component text syntax (the nested
  ``(memory (core memory $i "m"))`` / ``(realloc (core func …))`` option forms and
  ``(post-return (core func …))`` are rejected), so their components are handed over as binary,
  made by ``wasm-tools parse``. The binary format has been stable over these releases.
- Config setters: wasmtime-py before 45 has no `Config.target` (nor
  `cranelift_nan_canonicalization`) property, so assigning one silently made a plain attribute
  and Pulley engines compiled native code; the C API's setters exist on every release.
- post-return: before Wasmtime ran it automatically, a component function had to be followed by
  ``Func.post_return`` (without it, the next entry fails with "cannot enter component instance"
  or a Wasmtime assertion panics); on newer releases the call is a harmless no-op, so it is
  always made after a call that returned.
- Maps (`map<K, V>`): the binary reader knows them from 43, the C API can enable them from 44
  (`wasm_component_model_map`, a Config property from wasmtime-py 45); no release's wasmtime-py
  can convert a map value or reflect a map type (K22).
"""
from __future__ import annotations

from typing import Any

from wasmtime import component as wc

from itfuzz.versions import OLDEST, parse_version, release

__all__ = ["OLDEST", "parse_version", "release", "unsupported_reason", "component_bytes",
           "compile_component", "call_func", "release_limitation", "set_target",
           "set_nan_canonicalization", "enable_maps", "typed_func",
           "InstanceFuncs"]

TEXT_SINCE = (48, 0, 0)   # the first release whose text parser takes our components
# Engine configurations (`engines.configs`): the C API's strategy enum has WINCH from 45 on
# (before, the value 2 silently compiles with Cranelift), and the wheels have concurrency support
# compiled in from 45 on (before, requesting it aborts the process; off is what they are).
WINCH_SINCE = (45, 0, 0)
CONCURRENCY_SINCE = (45, 0, 0)


def unsupported_reason() -> str | None:
    """Why this release cannot run itfuzz's component targets, or None."""
    if release() < OLDEST:
        return (f"wasmtime {'.'.join(map(str, release()))} has no `wasmtime.component` "
                f"(it arrived in {'.'.join(map(str, OLDEST))}); pick a newer release")
    return None


# Validation rules older releases apply to what the generators make (error text → the first
# release without the rule): such a component is a limit of that release, not a finding.
RELEASE_LIMITS = {
    "is not in kebab case": (40, 0, 0),  # 39 rejects a kebab word starting with a digit (`q-0-z`)
    # map<K, V>: unknown to the binary reader before 43; known but impossible to enable on 43
    "invalid leading byte (0x63) for component defined type": (44, 0, 0),
    "Maps require the component model map feature": (44, 0, 0),
}
# Validation rules newer releases add that the spec revision we model (CanonicalABI.md /
# Explainer.md at 6d281648) does not have (error text → the first release with the rule): a
# component they reject is a limit of that release too, said in the README, never a finding.
NEWER_RULES = {
    "map value type cannot contain a handle": (51, 0, 0),  # Explainer: any valtype as value
}
MAPS_SINCE = (44, 0, 0)  # `wasmtime_config_wasm_component_model_map_set` (the setter: 45)


def release_limitation(error: BaseException) -> str | None:
    """The limit of this release that `error` (from compiling a generated component) shows, or
    None when the error is not a known limitation (then it is a finding)."""
    text = str(error)
    for needle, since in RELEASE_LIMITS.items():
        if needle in text and release() < since:
            return needle.replace(" ", "-")
    for needle, since in NEWER_RULES.items():
        if needle in text and release() >= since:
            return needle.replace(" ", "-")
    return None


def component_bytes(text: str) -> str | bytes:
    """What this release's `Component` constructor accepts for a component's text."""
    if release() >= TEXT_SINCE:
        return text
    from itfuzz.spec.tools import wat2wasm
    return wat2wasm(text)


def compile_component(engine, text: str) -> wc.Component:
    """Compile component text on this release (raises `wasmtime.WasmtimeError`)."""
    return wc.Component(engine, component_bytes(text))


def call_func(store, func: wc.Func, *args: Any) -> Any:
    """Call a component function and complete the call (post-return) where the release needs it."""
    out = func(store, *args)
    func.post_return(store)
    return out


class _FixedType:
    """A `FuncType`'s `params` and `result`, read once (`Func.__call__` reads only these)."""
    __slots__ = ("ty", "params", "result")

    def __init__(self, ty) -> None:
        self.ty = ty  # owns the pointers the value types were read from
        self.params, self.result = ty.params, ty.result


class TypedFunc(wc.Func):
    """A `Func` whose type is read once: each `__call__` of a plain `Func` asks the C API for
    its type and builds every parameter's value type again (the largest share of a small
    call's cost). Same function, same store; the values cross exactly as before."""
    _fixed: _FixedType

    def type(self, store) -> Any:
        return self._fixed


def typed_func(store, func: wc.Func) -> wc.Func:
    """`func` (of an instance in `store`) with its type read now, for many calls in `store`;
    `func` itself if its type cannot be read (e.g. K22: the call then fails as it did)."""
    try:
        fixed = _FixedType(func.type(store))
    except Exception:
        return func
    t = TypedFunc._from_raw(func._func)
    t._fixed = fixed
    return t


class InstanceFuncs:
    """The `typed_func`s of one instance object, each looked up once: a new instance object
    (each input instantiates its own, in its own store) starts them over. The instance is held,
    so its identity cannot be reused while it keys the functions."""

    def __init__(self) -> None:
        self.instance: Any = None
        self.funcs: dict[str, wc.Func | None] = {}

    def get(self, store, instance, name: str) -> wc.Func | None:
        """`instance.get_func(store, name)` with its type read once (None: no such export)."""
        if instance is not self.instance:
            self.instance, self.funcs = instance, {}
        if name not in self.funcs:
            f = instance.get_func(store, name)
            self.funcs[name] = None if f is None else typed_func(store, f)
        return self.funcs[name]


def _has_setter(cfg, name: str) -> bool:
    return isinstance(getattr(type(cfg), name, None), property)


def set_target(cfg, triple: str) -> None:
    """Compile for `triple` (e.g. "pulley64") on every release."""
    if _has_setter(cfg, "target"):
        cfg.target = triple
        return
    import ctypes

    import wasmtime
    from wasmtime import _ffi as ffi
    error = ffi.wasmtime_config_target_set(cfg.ptr(), ctypes.c_char_p(triple.encode()))
    if error:
        raise wasmtime.WasmtimeError._from_ptr(error)


def enable_maps(cfg) -> bool:
    """Turn on `map<K, V>` (`Config.wasm_component_model_map`, through the C API on 44); False
    on a release that cannot (its components with maps are a release limit)."""
    if release() < MAPS_SINCE:
        return False
    if _has_setter(cfg, "wasm_component_model_map"):
        cfg.wasm_component_model_map = True
        return True
    from wasmtime import _ffi as ffi
    ffi.wasmtime_config_wasm_component_model_map_set(cfg.ptr(), True)
    return True


def set_nan_canonicalization(cfg, enable: bool) -> None:
    """Cranelift's NaN canonicalization on or off, on every release."""
    if _has_setter(cfg, "cranelift_nan_canonicalization"):
        cfg.cranelift_nan_canonicalization = enable
        return
    from wasmtime import _ffi as ffi
    ffi.wasmtime_config_cranelift_nan_canonicalization_set(cfg.ptr(), enable)
