"""Adapter between the value model and wasmtime-py's component values.

wasmtime-py's documented conventions: bool/int/float/str as is; `bytes` for `list<u8>`, `list`
for other lists; `Record` objects with one attribute per field; `tuple`; `str` for enums; `set`
of labels for flags. A variant-like type (variant, option, result) is *untagged* when the Python
classes of its cases are pairwise disjoint: a payload-less case is `None` and a case is known by
its payload's class; otherwise it is *tagged* as `Variant(tag, payload)`.

Converters are compiled once per type into closures. The way back (`from_wasmtime`) converts
structure only and keeps leaves as they are, so the strict equality of `itfuzz.model.values` sees exactly
what wasmtime-py produced; a value of the wrong shape raises `ShapeError`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from wasmtime.component import Record as WRecord
    from wasmtime.component import ResourceAny, ResourceHost
    from wasmtime.component import Variant as WVariant
except ImportError:
    # No wasmtime (a build environment running `gen-static`): the class rules below
    # (py_classes, is_tagged, ambiguity) still work with stand-in classes.
    class WRecord:  # type: ignore[no-redef]
        pass

    class WVariant:  # type: ignore[no-redef]
        pass

    class ResourceAny:  # type: ignore[no-redef]
        pass

    class ResourceHost:  # type: ignore[no-redef]
        pass


from itfuzz.model.resources import AnyHandle, GuestHandle, Handle
from itfuzz.model.types import Enum, Flags, List, Map, Prim, Record, Tuple, Type, _VariantLike


class ShapeError(Exception):
    """wasmtime-py handed back a value whose Python shape does not fit the type."""


def _memo(fn):
    """Cache a function of one type on the type object itself (types are immutable; hashing a
    deep type per lookup would cost as much as the work saved)."""
    slot = "_memo_" + fn.__name__

    def cached(t):
        try:
            return t.__dict__[slot]
        except KeyError:
            value = t.__dict__[slot] = fn(t)
            return value
    cached.__doc__ = fn.__doc__
    return cached


@_memo
def py_classes(t: Type) -> frozenset:
    """The Python classes wasmtime-py uses for values of `t` (mirrors its `add_classes`)."""
    k = t.kind
    if k == "bool":
        return frozenset({bool})
    if k in ("f32", "f64"):
        return frozenset({float})
    if k in ("char", "string"):
        return frozenset({str})
    if isinstance(t, Prim):
        return frozenset({int})
    if isinstance(t, (List, Map)):
        return frozenset({bytes if t.elem.kind == "u8" else list})
    if isinstance(t, AnyHandle):  # wasmtime-py's OwnType/BorrowType.add_classes
        return frozenset({ResourceAny, ResourceHost})
    if isinstance(t, Record):
        return frozenset({WRecord})
    if isinstance(t, Tuple):
        return frozenset({tuple})
    if isinstance(t, Enum):
        return frozenset({str})
    if isinstance(t, Flags):
        return frozenset({set})
    if is_tagged(t):
        return frozenset({WVariant})
    out: set = set()
    for _, p in t.cases():
        out |= {object} if p is None else py_classes(p)
    return frozenset(out)


@_memo
def is_tagged(t: _VariantLike) -> bool:
    """Whether wasmtime-py represents values of `t` as `Variant(tag, payload)`."""
    seen: set = set()
    for _, p in t.cases():
        case = {object} if p is None else py_classes(p)
        if case & seen:
            return True
        seen |= case
    return False


@_memo
def wasmtime_py_work(t: Type) -> int:
    """Calls of wasmtime-py's `add_classes`/`_tagged` that converting one value of `t` may
    make: wasmtime-py recomputes a variant's tagging from its cases' classes at every level
    without caching, so the work doubles with each nested variant/option/result."""
    own = 0
    if isinstance(t, _VariantLike) and not isinstance(t, Enum):
        # _tagged() walks every case's add_classes; an untagged add_classes walks them again.
        per_case = sum(_classes_work(p) for _, p in t.cases() if p is not None)
        own = 1 + per_case * (1 if is_tagged(t) else 2)
    return own + sum(wasmtime_py_work(c) for c in t.children())


@_memo
def _classes_work(t: Type) -> int:
    """Calls one wasmtime-py `add_classes` of `t` makes."""
    if not isinstance(t, _VariantLike) or isinstance(t, Enum):
        return 1
    per_case = sum(_classes_work(p) for _, p in t.cases() if p is not None)
    return 1 + per_case * (1 if is_tagged(t) else 2)


def ambiguity(t: Type) -> str:
    """Why wasmtime-py's untagged dispatch (first case whose classes pass `isinstance`) can pick
    the wrong case of `t`: "object" when an earlier payload's classes include `object` (a nested
    untagged payload-less case) so it captures every later case, "bool-int" when a later `bool`
    payload is captured by an earlier `int` one; "" when unambiguous."""
    if not isinstance(t, _VariantLike) or isinstance(t, Enum) or is_tagged(t):
        return ""
    earlier: set = set()
    for _, p in t.cases():
        classes = py_classes(p) if p is not None else frozenset()
        if object in earlier:
            return "object"
        if bool in classes and int in earlier:
            return "bool-int"
        earlier |= classes
    return ""


def ambiguities(types) -> set[str]:
    """Every ambiguity kind found anywhere in these types."""
    from itfuzz.model.types import walk
    return {a for t in types for n in walk(t) if (a := ambiguity(n))}


Conv = Callable[[Any], Any]


def to_wasmtime(t: Type, handle: Callable[[AnyHandle], Conv] | None = None) -> Conv:
    """A converter from model values of `t` to wasmtime-py values; `handle(h)` converts the
    handles of type `h` (default: handles in the host's table, `engines.resources`, or made by
    the guest, `engines.guest_handles`)."""
    if isinstance(t, Prim) or isinstance(t, Enum):
        return lambda v: v
    if isinstance(t, AnyHandle) and handle is not None:
        return handle(t)
    if isinstance(t, GuestHandle):
        from itfuzz.engines.guest_handles import guest_to_wasmtime
        return guest_to_wasmtime(t)
    if isinstance(t, Handle):
        from itfuzz.engines.resources import handle_to_wasmtime
        return handle_to_wasmtime(t)
    if isinstance(t, Map):  # wasmtime-py has no map values: the host sees list<tuple<K, V>>
        return to_wasmtime(List(t.elem), handle)
    if isinstance(t, List):
        if t.elem.kind == "u8":
            return bytes
        elem = to_wasmtime(t.elem, handle)
        return lambda v: [elem(x) for x in v]
    if isinstance(t, Record):
        convs = [(name, to_wasmtime(ft, handle)) for name, ft in t.fields]

        def record(v):
            r = WRecord()
            for (name, conv), x in zip(convs, v):
                setattr(r, name, conv(x))
            return r
        return record
    if isinstance(t, Tuple):
        convs = [to_wasmtime(e, handle) for e in t.elems]
        return lambda v: tuple(c(x) for c, x in zip(convs, v))
    if isinstance(t, Flags):
        return set
    cases = {name: (to_wasmtime(p, handle) if p is not None else None) for name, p in t.cases()}
    if is_tagged(t):
        def tagged(v):
            conv = cases[v[0]]
            return WVariant(v[0], conv(v[1]) if conv else None)
        return tagged

    def untagged(v):
        conv = cases[v[0]]
        return conv(v[1]) if conv else None
    return untagged


def _expect(x: Any, cls: type, path: str) -> None:
    if type(x) is not cls:
        raise ShapeError(f"{path}: expected a {cls.__name__}, got {type(x).__name__} {x!r}")


def from_wasmtime(t: Type, path: str = "value") -> Conv:
    """A converter from wasmtime-py values back to the model; raises `ShapeError`."""
    if isinstance(t, Prim) or isinstance(t, Enum):
        return lambda x: x
    if isinstance(t, AnyHandle):
        from itfuzz.engines.guest_handles import guest_from_wasmtime
        from itfuzz.engines.resources import ResourceShapeError, handle_from_wasmtime
        conv = (guest_from_wasmtime(t, path) if isinstance(t, GuestHandle)
                else handle_from_wasmtime(t, path))  # type: ignore[arg-type]

        def handle(x):
            try:
                return conv(x)
            except ResourceShapeError as e:
                raise ShapeError(str(e)) from None
        return handle
    if isinstance(t, Map):
        return from_wasmtime(List(t.elem), path)
    if isinstance(t, List):
        if t.elem.kind == "u8":
            def byte_list(x):
                _expect(x, bytes, path)
                return list(x)
            return byte_list
        elem = from_wasmtime(t.elem, path + "[]")

        def lst(x):
            _expect(x, list, path)
            return [elem(e) for e in x]
        return lst
    if isinstance(t, Record):
        convs = [(name, from_wasmtime(ft, f"{path}.{name}")) for name, ft in t.fields]
        names = {name for name, _ in t.fields}

        def record(x):
            _expect(x, WRecord, path)
            got = set(vars(x))
            if got != names:
                raise ShapeError(f"{path}: record fields {sorted(got)} != {sorted(names)}")
            return tuple(conv(getattr(x, name)) for name, conv in convs)
        return record
    if isinstance(t, Tuple):
        convs = [from_wasmtime(e, f"{path}.{i}") for i, e in enumerate(t.elems)]

        def tup(x):
            _expect(x, tuple, path)
            if len(x) != len(convs):
                raise ShapeError(f"{path}: tuple of {len(x)} elements, expected {len(convs)}")
            return tuple(c(e) for c, e in zip(convs, x))
        return tup
    if isinstance(t, Flags):
        def flags(x):
            _expect(x, set, path)
            return frozenset(x)
        return flags
    cases = [(name, p, from_wasmtime(p, f"{path}<{name}>") if p is not None else None)
             for name, p in t.cases()]
    if is_tagged(t):
        by_name = {name: conv for name, _, conv in cases}

        def tagged(x):
            _expect(x, WVariant, path)
            if x.tag not in by_name:
                raise ShapeError(f"{path}: unknown case {x.tag!r}")
            conv = by_name[x.tag]
            if conv is None:
                if x.payload is not None:
                    raise ShapeError(f"{path}: payload {x.payload!r} on payload-less case")
                return (x.tag, None)
            return (x.tag, conv(x.payload))
        return tagged
    # Untagged: the case is the first whose classes fit, as wasmtime-py decides when lowering.
    matchers = [(name, conv, tuple(py_classes(p)) if p is not None else None)
                for name, p, conv in cases]

    def untagged(x):
        for name, conv, classes in matchers:
            if classes is None:
                if x is None:
                    return (name, None)
            elif isinstance(x, classes):
                return (name, conv(x))
        raise ShapeError(f"{path}: {x!r} fits no case")
    return untagged
