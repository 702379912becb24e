"""Component text for host resources (`itfuzz.model.resources`): the pieces the forwarder adds.

- Each resource `rN` the signature uses is imported as `(import "rN" (type $rN (sub resource)))`,
  and the guest gets `resource.drop` of it.
- Borrows end when the call returns (CanonicalABI.md §`canon lift`: a task that returns with
  borrowed handles outstanding traps), so after calling `g` the guest's `f` drops every borrow it
  received: the code walks the flat params (discriminants decide the variant cases; list
  elements are walked in memory) or, when params spill, the parameter tuple in memory.
- `consume-rN: func(x: own<rN>)` drops an owned handle, so the host's destructor runs.
"""
from __future__ import annotations

from itfuzz.model.case import Signature
from itfuzz.model.resources import Handle, has_borrow
from itfuzz.model.types import Type, _VariantLike, align_to, discriminant_size

CONSUME = "consume-r{}"


def resources(sig: Signature) -> tuple[int, ...]:
    return sig.resources


def resource_imports(sig: Signature) -> list[str]:
    return [f'  (import "r{i}" (type $r{i} (sub resource)))' for i in resources(sig)]


def drop_funcs(sig: Signature) -> list[str]:
    """Component-level `resource.drop` core functions, one per resource."""
    return [f"  (core func $drop_r{i} (canon resource.drop $r{i}))" for i in resources(sig)]


def drop_imports(sig: Signature) -> str:
    """The main core module's imports of the drops."""
    return "".join(f'\n    (import "host" "drop-r{i}" (func $drop_r{i} (param i32)))'
                   for i in resources(sig))


def drop_exports(sig: Signature) -> str:
    """The drops in the `host` instance the main module is instantiated with."""
    return "".join(f' (export "drop-r{i}" (func $drop_r{i}))' for i in resources(sig))


def consume_core_funcs(sig: Signature) -> str:
    return "".join(f'\n    (func (export "{CONSUME.format(i)}") (param i32) '
                   f"(call $drop_r{i} (local.get 0)))" for i in resources(sig))


def consume_exports(sig: Signature) -> list[str]:
    out = []
    for i in resources(sig):
        name = CONSUME.format(i)
        out += [f'  (func $consume_r{i} (param "x" (own $r{i})) '
                f'(canon lift (core func $main "{name}")))',
                f'  (export "{name}" (func $consume_r{i}))']
    return out


def borrow_drops(sig: Signature) -> tuple[str, list[str]]:
    """(local declarations, code) of `f`'s core function that drop the borrows it received."""
    if not any(has_borrow(t) for _, t in sig.params):
        return "", []
    w = _Walker(sig.flat_params, 1 if sig.spills_params else len(sig.flat_params))
    if sig.spills_params:
        code = w.mem(sig.param_tuple, "0", 0)
    else:
        code, k = [], 0
        for _, t in sig.params:
            code += w.flat(t, k)
            k += len(t.flat)
    decl = f" (local {' '.join(['i32'] * len(w.locals))})" if w.locals else ""
    return decl, code


class _Walker:
    """Emits the drops of a type's borrows, from flat locals or from memory."""

    def __init__(self, flat_types: tuple[str, ...], first_local: int) -> None:
        self.flat_types = flat_types
        self.first_local = first_local  # the core function's parameter count
        self.locals: list[int] = []

    def local(self) -> int:
        n = self.first_local + len(self.locals)
        self.locals.append(n)
        return n

    def get(self, k: int) -> str:
        if self.flat_types[k] == "i64":
            return f"(i32.wrap_i64 (local.get {k}))"
        return f"(local.get {k})"

    def flat(self, t: Type, k: int) -> list[str]:
        if not has_borrow(t):
            return []
        if isinstance(t, Handle):
            return [f"(call $drop_r{t.resource} {self.get(k)})"]
        if t.kind in ("list", "map"):
            return self._loop(self.get(k), self.get(k + 1), t.elem)  # type: ignore[attr-defined]
        if isinstance(t, _VariantLike):
            out = []
            for i, (_, p) in enumerate(t.cases()):
                if p is not None and has_borrow(p):
                    inner = " ".join(self.flat(p, k + 1))
                    out.append(f"(if (i32.eq {self.get(k)} (i32.const {i})) (then {inner}))")
            return out
        out, j = [], k  # record, tuple
        for c in t.children():
            out += self.flat(c, j)
            j += len(c.flat)
        return out

    def mem(self, t: Type, base: str, off: int) -> list[str]:
        if not has_borrow(t):
            return []
        at = f"offset={off} (local.get {base})"
        if isinstance(t, Handle):
            return [f"(call $drop_r{t.resource} (i32.load {at}))"]
        if t.kind in ("list", "map"):
            return self._loop(f"(i32.load {at})", f"(i32.load offset={off + 4} (local.get {base}))",
                              t.elem)  # type: ignore[attr-defined]
        if isinstance(t, _VariantLike):
            load = {1: "i32.load8_u", 2: "i32.load16_u", 4: "i32.load"}[
                discriminant_size(len(t.cases()))]
            out = []
            for i, (_, p) in enumerate(t.cases()):
                if p is not None and has_borrow(p):
                    inner = " ".join(self.mem(p, base, off + t.payload_offset))
                    out.append(f"(if (i32.eq ({load} {at}) (i32.const {i})) (then {inner}))")
            return out
        out, pos = [], 0  # record, tuple
        for c in t.children():
            pos = align_to(pos, c.align)
            out += self.mem(c, base, off + pos)
            pos += c.size
        return out

    def _loop(self, ptr: str, length: str, elem: Type) -> list[str]:
        p, n = self.local(), self.local()
        body = " ".join(self.mem(elem, str(p), 0))
        return [f"(local.set {p} {ptr}) (local.set {n} {length})",
                f"(block (loop (br_if 1 (i32.eqz (local.get {n}))) {body} "
                f"(local.set {p} (i32.add (local.get {p}) (i32.const {elem.size}))) "
                f"(local.set {n} (i32.sub (local.get {n}) (i32.const 1))) (br 0)))"]


# -- a guest-defined resource --------------------------------------------------------------------
GUEST_EXPORTS = ("gr-new", "gr-rep", "gr-echo", "gr-dtor-count", "gr-dtor-last")


def guest_resource() -> list[str]:
    """A resource `gr` the component defines (rep i32) and exports, with a destructor that counts
    its runs and keeps the last rep: `gr-new(rep) -> own<gr>` (`resource.new`),
    `gr-rep(borrow<gr>) -> u32` (a borrow of its own resource arrives as the rep), `gr-echo(own<gr>)
    -> own<gr>` (the handle goes in and comes back), `gr-dtor-count`, `gr-dtor-last`."""
    return ["""  (core module $GrDtor
    (global $n (mut i32) (i32.const 0))
    (global $last (mut i32) (i32.const -1))
    (func (export "dtor") (param i32)
      (global.set $n (i32.add (global.get $n) (i32.const 1)))
      (global.set $last (local.get 0)))
    (func (export "count") (result i32) (global.get $n))
    (func (export "last") (result i32) (global.get $last)))
  (core instance $grd (instantiate $GrDtor))
  (type $GR (resource (rep i32) (dtor (core func $grd "dtor"))))
  (core func $gr_new (canon resource.new $GR))
  (core module $GrOps
    (import "r" "new" (func $new (param i32) (result i32)))
    (func (export "new") (param i32) (result i32) (call $new (local.get 0)))
    (func (export "rep") (param i32) (result i32) (local.get 0))
    (func (export "echo") (param i32) (result i32) (local.get 0)))
  (core instance $gro (instantiate $GrOps (with "r" (instance (export "new" (func $gr_new))))))
  (export $gr "gr" (type $GR))
  (func $gr_new_f (param "rep" u32) (result (own $gr)) (canon lift (core func $gro "new")))
  (export "gr-new" (func $gr_new_f))
  (func $gr_rep_f (param "x" (borrow $gr)) (result u32) (canon lift (core func $gro "rep")))
  (export "gr-rep" (func $gr_rep_f))
  (func $gr_echo_f (param "x" (own $gr)) (result (own $gr)) (canon lift (core func $gro "echo")))
  (export "gr-echo" (func $gr_echo_f))
  (func $gr_count_f (result u32) (canon lift (core func $grd "count")))
  (export "gr-dtor-count" (func $gr_count_f))
  (func $gr_last_f (result u32) (canon lift (core func $grd "last")))
  (export "gr-dtor-last" (func $gr_last_f))"""]
