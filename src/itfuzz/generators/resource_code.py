"""Component text for host resources (`itfuzz.model.resources`): the pieces the forwarder adds.

- Each resource `rN` the signature uses is imported as `(import "rN" (type $rN (sub resource)))`,
  and the guest gets `resource.drop` of it.
- Borrows end when the call returns (CanonicalABI.md §`canon lift`: a task that returns with
  borrowed handles outstanding traps), so after calling `g` the guest's `f` drops every borrow it
  received: the code walks the flat params (discriminants decide the variant cases; list
  elements are walked in memory) or, when params spill, the parameter tuple in memory.
- `consume-rN: func(x: own<rN>)` drops an owned handle, so the host's destructor runs.

The guest-defined resource `gr` (single shape): defined and exported before the types (named
types holding it are exported, not imported), reachable through `gr-*` exports, and inside `f`'s
types: `g` takes and returns u32 reps where `f` has `gr` handles (`Signature.g_type`), so `f`
turns each own it receives into its rep (dropping it) and each rep `g` returns into a new own.
"""
from __future__ import annotations

from collections.abc import Callable

from itfuzz.model.case import Signature
from itfuzz.model.resources import GuestHandle, Handle, has_guest
from itfuzz.model.types import Type, _VariantLike, align_to, discriminant_size, walk

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


def borrow_drops(sig: Signature, w: Walker) -> list[str]:
    """Code of `f`'s core function that drops the (host) borrows it received."""
    return _params(sig, w, _host_borrow)


def _params(sig: Signature, w: Walker, act: Act) -> list[str]:
    """`act`'s code at the params' handles: in the spilled parameter tuple, or in flat locals."""
    w.act = act
    if sig.spills_params:
        return w.mem(sig.param_tuple, "0", 0)
    code, k = [], 0
    for _, t in sig.params:
        code += w.flat(t, k)
        k += len(t.flat)
    return code


# What the walker does at a handle: (core function, whether its result replaces the handle), or
# None to pass it by.
Act = Callable[[Type], "tuple[str, bool] | None"]


def _host_borrow(t: Type) -> tuple[str, bool] | None:
    return (f"$drop_r{t.resource}", False) if isinstance(t, Handle) and not t.own else None


class Walker:
    """Emits the code of `act` at the handles of a type, from flat locals or from memory; one
    walker per core function (it hands out that function's extra locals)."""

    def __init__(self, flat_types: tuple[str, ...], first_local: int) -> None:
        self.flat_types = flat_types
        self.first_local = first_local  # the core function's parameter count
        self.locals: list[int] = []
        self.act: Act = _host_borrow

    def decl(self) -> str:
        """The declaration of the locals handed out."""
        return f" (local {' '.join(['i32'] * len(self.locals))})" if self.locals else ""

    def local(self) -> int:
        n = self.first_local + len(self.locals)
        self.locals.append(n)
        return n

    def get(self, k: int) -> str:
        if self.flat_types[k] == "i64":
            return f"(i32.wrap_i64 (local.get {k}))"
        return f"(local.get {k})"

    def put(self, k: int, value: str) -> str:
        """Sets flat local `k` (i32, or an i64 variant slot: zero-extended) to an i32."""
        if self.flat_types[k] == "i64":
            value = f"(i64.extend_i32_u {value})"
        return f"(local.set {k} {value})"

    def wants(self, t: Type) -> bool:
        return any(self.act(n) for n in walk(t))

    def flat(self, t: Type, k: int) -> list[str]:
        if not self.wants(t):
            return []
        act = self.act(t)
        if act is not None:
            call = f"(call {act[0]} {self.get(k)})"
            return [self.put(k, call) if act[1] else call]
        if t.kind in ("list", "map"):
            return self._loop(self.get(k), self.get(k + 1), t.elem)  # type: ignore[attr-defined]
        if isinstance(t, _VariantLike):
            out = []
            for i, (_, p) in enumerate(t.cases()):
                if p is not None and self.wants(p):
                    inner = " ".join(self.flat(p, k + 1))
                    out.append(f"(if (i32.eq {self.get(k)} (i32.const {i})) (then {inner}))")
            return out
        out, j = [], k  # record, tuple
        for c in t.children():
            out += self.flat(c, j)
            j += len(c.flat)
        return out

    def mem(self, t: Type, base: str, off: int) -> list[str]:
        if not self.wants(t):
            return []
        at = f"offset={off} (local.get {base})"
        act = self.act(t)
        if act is not None:
            call = f"(call {act[0]} (i32.load {at}))"
            return [f"(i32.store {at} {call})" if act[1] else call]
        if t.kind in ("list", "map"):
            return self._loop(f"(i32.load {at})", f"(i32.load offset={off + 4} (local.get {base}))",
                              t.elem)  # type: ignore[attr-defined]
        if isinstance(t, _VariantLike):
            load = {1: "i32.load8_u", 2: "i32.load16_u", 4: "i32.load"}[
                discriminant_size(len(t.cases()))]
            out = []
            for i, (_, p) in enumerate(t.cases()):
                if p is not None and self.wants(p):
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
GUEST_EXPORTS = ("gr-new", "gr-rep", "gr-echo", "gr-dtor-count", "gr-dtor-last", "gr-dtor-sum")


def guest_definition() -> list[str]:
    """The resource `gr` the component defines (rep i32) and exports, before the types that may
    name it, with a destructor that counts its runs, keeps the last rep and sums the reps
    (wrapping), and the core functions `resource.new`/`.rep`/`.drop` of it."""
    return ["""  (core module $GrDtor
    (global $n (mut i32) (i32.const 0))
    (global $last (mut i32) (i32.const -1))
    (global $sum (mut i32) (i32.const 0))
    (func (export "dtor") (param i32)
      (global.set $n (i32.add (global.get $n) (i32.const 1)))
      (global.set $sum (i32.add (global.get $sum) (local.get 0)))
      (global.set $last (local.get 0)))
    (func (export "count") (result i32) (global.get $n))
    (func (export "last") (result i32) (global.get $last))
    (func (export "sum") (result i32) (global.get $sum)))
  (core instance $grd (instantiate $GrDtor))
  (type $GR (resource (rep i32) (dtor (core func $grd "dtor"))))
  (core func $gr_new (canon resource.new $GR))
  (core func $gr_rep (canon resource.rep $GR))
  (core func $gr_drop (canon resource.drop $GR))
  (export $gr "gr" (type $GR))"""]


def guest_imports(sig: Signature) -> str:
    """The main core module's imports of `gr`'s functions, and `$gr_take`: an own handle's rep,
    the handle dropped (so the destructor runs, in `f`, once per own `gr` param)."""
    if not sig.guest:
        return ""
    return """
    (import "host" "gr-new" (func $gr_new (param i32) (result i32)))
    (import "host" "gr-rep" (func $gr_rep (param i32) (result i32)))
    (import "host" "gr-drop" (func $gr_drop (param i32)))"""


def guest_take(sig: Signature) -> str:
    if not sig.guest:
        return ""
    return """
    (func $gr_take (param i32) (result i32) (local i32)
      (local.set 1 (call $gr_rep (local.get 0))) (call $gr_drop (local.get 0)) (local.get 1))"""


def guest_exports(sig: Signature) -> str:
    """`gr`'s functions in the `host` instance the main module is instantiated with."""
    if not sig.guest:
        return ""
    return (' (export "gr-new" (func $gr_new)) (export "gr-rep" (func $gr_rep))'
            ' (export "gr-drop" (func $gr_drop))')


def _own_to_rep(t: Type) -> tuple[str, bool] | None:
    return ("$gr_take", True) if isinstance(t, GuestHandle) and t.own else None


def _rep_to_own(t: Type) -> tuple[str, bool] | None:
    return ("$gr_new", True) if isinstance(t, GuestHandle) else None


def guest_params(sig: Signature, w: Walker) -> list[str]:
    """Code of `f` before it calls `g`: each own `gr` param becomes its rep (`g` takes a u32
    there) and is dropped. A borrow of `gr` arrives as its rep already (CanonicalABI.md
    `lower_borrow`: the resource's implementation is the current instance)."""
    return _params(sig, w, _own_to_rep) if sig.guest else []


def guest_result(sig: Signature, w: Walker, retbuf: int) -> list[str]:
    """Code of `f` after `g` returned: each rep at a `gr` position of the result becomes a new
    own handle (`resource.new`), in the return area or on the stack (a result of one flat value
    that holds a handle is that handle)."""
    if sig.result is None or not has_guest(sig.result):
        return []
    if not sig.uses_retptr:
        return ["(call $gr_new)"]
    w.act = _rep_to_own
    p = w.local()
    return [f"(local.set {p} (i32.const {retbuf}))", *w.mem(sig.result, str(p), 0)]


def guest_funcs() -> list[str]:
    """The exports that reach `gr` directly: `gr-new(rep) -> own<gr>` (`resource.new`),
    `gr-rep(borrow<gr>) -> u32` (a borrow of its own resource arrives as the rep), `gr-echo(own<gr>)
    -> own<gr>` (the handle goes in and comes back), `gr-dtor-count`, `gr-dtor-last`,
    `gr-dtor-sum`."""
    return ["""  (core module $GrOps
    (import "r" "new" (func $new (param i32) (result i32)))
    (func (export "new") (param i32) (result i32) (call $new (local.get 0)))
    (func (export "rep") (param i32) (result i32) (local.get 0))
    (func (export "echo") (param i32) (result i32) (local.get 0)))
  (core instance $gro (instantiate $GrOps (with "r" (instance (export "new" (func $gr_new))))))
  (func $gr_new_f (param "rep" u32) (result (own $gr)) (canon lift (core func $gro "new")))
  (export "gr-new" (func $gr_new_f))
  (func $gr_rep_f (param "x" (borrow $gr)) (result u32) (canon lift (core func $gro "rep")))
  (export "gr-rep" (func $gr_rep_f))
  (func $gr_echo_f (param "x" (own $gr)) (result (own $gr)) (canon lift (core func $gro "echo")))
  (export "gr-echo" (func $gr_echo_f))
  (func $gr_count_f (result u32) (canon lift (core func $grd "count")))
  (export "gr-dtor-count" (func $gr_count_f))
  (func $gr_last_f (result u32) (canon lift (core func $grd "last")))
  (export "gr-dtor-last" (func $gr_last_f))
  (func $gr_sum_f (result u32) (canon lift (core func $grd "sum")))
  (export "gr-dtor-sum" (func $gr_sum_f))"""]
