"""The resource part of the standalone scripts: host resources and handles, made at run time.

A script of a signature with resources writes each handle in its values as `own(N, rep)` or
`borrow(N, rep)` (`Call`s from `handle_literals`) and replaces the plain value hooks
(`script_parts.PLAIN_HOOKS`) with `HANDLE_HOOKS` and `CHECK_HOOKS` (round trip) or
`MISUSE_HOOKS`. The linker defines `rN` as `ResourceType.host(TYPE_BASE + N)` with a destructor
that logs `(N, rep)`; `to_wasm` makes each own a `ResourceAny` in the store's table (a clone
kept, to check the move) and each borrow a `ResourceHost` borrow, as `engines/resources.py`
does; `from_wasm` takes every handle that arrives out of the table (`to_host`) and writes it
back as the `own`/`borrow` it names. `after_call` checks what `oracles/resources.py` checks (own
moved, borrow ended, no destructor without a drop, one destructor run per own dropped through
`consume-rN`, the guest resource `gr` once, K24's drop through another store) and names a failed
check by the oracle's finding signature. `make_bad` makes a resource misuse's bad handle as
`engines/resource_misuse.py` does, and `to_wasm` puts it where `Bad(...)` stands.
"""
from __future__ import annotations

from itfuzz.engines.resource_misuse import TYPE_BASE, foreign_rep, substitute
from itfuzz.engines.wasmtime_values import to_wasmtime
from itfuzz.model.resources import (
    GuestHandle,
    Handle,
    guest_as_u32,
    guest_reps,
    handles,
    has_guest,
)
from itfuzz.model.types import walk
from itfuzz.ops.script_parts import Call, Unsupported
from itfuzz.oracles.resources import MAX_CONSUMED

ABOUT_HANDLES = ("",
                 "Host resources: r0 and r1 are host-defined (Linker.add_resource,",
                 "ResourceType.host) with destructors that log their runs; own(N, rep) and",
                 "borrow(N, rep) in the values are made into handles for each call.")
ABOUT = ABOUT_HANDLES + (
    "After each call: every own the host sent is gone from its table, every borrow g got has",
    "ended, no destructor ran, and each own the host got back, dropped in the guest",
    "(consume-rN), runs its destructor once for its rep. own('gr', rep): a handle of the",
    "guest's resource gr (made by gr-new; g sees its rep as u32), checked as itfuzz does.")
ABOUT_MISUSE = ABOUT_HANDLES + (
    "The bad handle is made at run time as itfuzz makes it (make_bad) and put where Bad(...)",
    "stands.")


def handle_literals(sig, guest: bool = False) -> dict:
    """`params_in` / `result_in` converters giving wasmtime-py values whose handles are
    `own(N, rep)` / `borrow(N, rep)` placeholders (`own('gr', rep)` for the guest's resource,
    where `guest` scripts make those)."""
    check_handles(sig, guest)

    def handle(h):
        n = h.resource if isinstance(h, Handle) else "gr"
        return lambda v: Call(h.kind, (n, v.rep))

    def conv(t):
        """f's form of a value of `t`; with gr handles, `Views(f's form, g's form)`."""
        f = to_wasmtime(t, handle)
        if not has_guest(t):
            return f
        g = to_wasmtime(guest_as_u32(t), handle)
        return lambda v: Call("Views", (f(v), g(guest_reps(t, v))))
    return dict(params_in=[conv(t) for _, t in sig.params],
                result_in=conv(sig.result) if sig.result is not None else None)


def check_handles(sig, guest: bool = False) -> None:
    """Refuses handle types the script cannot make: only host resources rN, and the guest's gr
    where `guest`."""
    for h in (n for t in sig.types() for n in walk(t) if n.kind in ("own", "borrow")):
        if type(h) is GuestHandle and guest:
            continue
        if type(h) is not Handle or h.resource not in sig.resources:
            raise Unsupported(f"{h.wit(sig.names)} in f's type: this script makes only handles of "
                              "the host resources rN, not of the guest's resource gr (the "
                              "round-trip script does)")


def roundtrip_hooks(sig, first_args: tuple | None) -> str:
    """The value hooks of a round-trip script with resources, with their constants: the
    resources, whether the component has the guest resource, and the reps its checks use (those
    of the first call's handles, `first_args` as model values, as the oracle's)."""
    reps = [v.rep for (_, t), a in zip(sig.params, first_args or ())
            for _, v in handles(t, a)][:4]
    return (_constants(sig)
            + f"GUEST = {sig.shape == 'single'}  # the component defines and exports resource gr\n"
            f"GUEST_REPS = {reps!r}  # the gr checks' reps: the first call's host handles'\n"
            f"MAX_CONSUMED = {MAX_CONSUMED}  # owns dropped through the guest per call\n\n\n"
            + HANDLE_HOOKS + (GR_HOOKS if sig.guest else "") + CHECK_HOOKS)


def handle_hooks(sig) -> str:
    """The value hooks of a script whose values hold handles, no checks after the call."""
    return _constants(sig) + "\n\n" + HANDLE_HOOKS


def misuse_hooks(case, lit) -> tuple[str, str]:
    """(value hooks, misuse value) of a resource misuse script: the hooks with constants (the
    bad handle's kind and the handle it replaces), and the argument or result as source with
    `Bad(...)` in place of that handle."""
    rm, sig = case.res, case.sig
    conv = handle_literals(sig)
    if case.where == "arg":
        t, v = sig.params[case.index][1], case.call.args[case.index]
        w = conv["params_in"][case.index](v)
    else:
        t, v = sig.result, case.call.ret
        w = conv["result_in"](v)
    h = rm.at.handle
    bad = Call("Bad", (Call(h.kind, (h.resource, rm.at.value.rep)),))
    misuse = lit(substitute(t, v, w, rm.index, bad), 1)
    hooks = (_constants(sig)
             + f"BAD_KIND = {rm.kind!r}\n"
             f"BAD_RESOURCE, BAD_REP = {h.resource}, {rm.at.value.rep}  # the handle it replaces\n"
             f"FOREIGN_REP = {foreign_rep(rm.at.value.rep)}  # other-store, other-engine\n"
             f"OTHER_TYPE = {rm.other:#x}  # other-type\n\n\n"
             + HANDLE_HOOKS + MISUSE_HOOKS)
    return hooks, misuse


def _constants(sig) -> str:
    return (f"TYPE_BASE = {TYPE_BASE:#x}  # host resource rN is ResourceType.host(TYPE_BASE + N)\n"
            f"RESOURCES = {list(sig.resources)!r}\n"
            f"GUEST_IN_F = {sig.guest}  # f's types hold gr handles (g sees their reps as u32)\n")


HANDLE_HOOKS = '''from wasmtime import _ffi as ffi
from wasmtime.component import ResourceAny, ResourceHost, ResourceType

DTORS = []  # destructor runs (N, rep) of the host resources
TRACK = {"sent": [], "borrows": [], "received": []}  # host handles that crossed in this call
GR = {"instance": None, "sent": [], "lent": [], "received": []}  # and gr handles (GUEST_IN_F)


class Handle:
    """own(N, rep) / borrow(N, rep): a handle of host resource rN with that rep."""

    def __init__(self, n, rep, owned):
        self.n, self.rep, self.owned = n, rep, owned

    def __eq__(self, other):
        return (self.n, self.rep, self.owned) == (other.n, other.rep, other.owned)

    def __repr__(self):
        return f"{'own' if self.owned else 'borrow'}({self.n!r}, {self.rep})"


def own(n, rep):
    return Handle(n, rep, True)


def borrow(n, rep):
    return Handle(n, rep, False)


class Bad:
    """Where a misuse puts its bad handle (`handle`, made at run time) instead of `replaced`."""

    handle = None

    def __init__(self, replaced):
        self.replaced = replaced


def clone(x):
    """A second ResourceAny naming the same table entry."""
    return ResourceAny._from_ptr(ffi.wasmtime_component_resource_any_clone(x.ptr()))


def drops(store, x):
    """Whether the host can drop handle x in store (False: Wasmtime refused)."""
    try:
        x.drop(store)
    except wasmtime.WasmtimeError:
        return False
    return True


def usable(store, x):
    """Whether a (cloned) handle still names a live entry of the host's table."""
    try:
        x.to_host(store)
    except wasmtime.WasmtimeError:
        return False
    return True


def call(store, func, *args):
    out = func(store, *args)
    func.post_return(store)  # needed before Wasmtime ran post-return itself; a no-op after
    return out


def define_host(linker):
    with linker.root() as root:
        for n in RESOURCES:
            root.add_resource(f"r{n}", ResourceType.host(TYPE_BASE + n),
                              lambda store, rep, n=n: DTORS.append((n, rep)))


def rebuild(x, fn):
    """x with fn applied to its elements (lists, tuples, records, variants)."""
    if isinstance(x, list):
        return [fn(e) for e in x]
    if isinstance(x, tuple):
        return tuple(fn(e) for e in x)
    if isinstance(x, Record):
        return record(*((k, fn(v)) for k, v in vars(x).items()))
    if isinstance(x, Variant):
        return Variant(x.tag, fn(x.payload))
    return x


def to_wasm(store, x):
    """x with each own() a ResourceAny in the store's table (a clone kept in TRACK["sent"]) and
    each borrow() a ResourceHost borrow."""
    if isinstance(x, Bad):
        to_wasm(store, x.replaced)  # made and left unused, as itfuzz does: table indices match
        return x.handle
    if isinstance(x, Handle) and x.n == "gr":  # made by the guest's gr-new
        h = call(store, GR["instance"].get_func(store, "gr-new"), x.rep)
        GR["sent" if x.owned else "lent"].append((x.rep, clone(h) if x.owned else h))
        return h
    if isinstance(x, Handle):
        ty = TYPE_BASE + x.n
        if not x.owned:
            return ResourceHost.borrow(x.rep, ty)
        h = ResourceHost.own(x.rep, ty).to_any(store)
        TRACK["sent"].append((x, clone(h)))
        return h
    return rebuild(x, lambda e: to_wasm(store, e))


def from_wasm(store, x):
    """x with each ResourceAny taken out of the host's table (to_host) and written as the
    own()/borrow() it names (a clone of each borrow kept in TRACK["borrows"])."""
    if isinstance(x, ResourceAny) and GUEST_IN_F and not is_host(x):  # named by gr-rep
        try:
            rep = call(store, GR["instance"].get_func(store, "gr-rep"), x)
        except wasmtime.WasmtimeError as e:
            return f"<a gr handle that gr-rep refused: {str(e).splitlines()[0]}>"
        GR["received"].append((rep, x))
        return Handle("gr", rep, x.owned)
    if isinstance(x, ResourceAny):
        kept = None if x.owned else clone(x)
        try:
            h = x.to_host(store)
        except wasmtime.WasmtimeError as e:
            return f"<a handle that to_host refused: {str(e).splitlines()[0]}>"
        got = Handle(h.type - TYPE_BASE, h.rep, h.owned)
        if kept is None:
            TRACK["received"].append(got)
        else:
            TRACK["borrows"].append((got, kept))
        return got
    return rebuild(x, lambda e: from_wasm(store, e))


def is_host(x):
    """Whether a ResourceAny is of one of the host resources rN."""
    return any(x.type == ResourceType.host(TYPE_BASE + n) for n in RESOURCES)


class Views:
    """An argument or result with gr handles, which g sees as u32 reps: f's form and g's form
    (the wasmtime-py value of g's type, which may be tagged where f's is not)."""

    def __init__(self, f, g):
        self.f, self.g = f, g


def view(x, who):
    """f's or g's form of the values x (a list of arguments or a result)."""
    if isinstance(x, Views):
        return x.f if who == "f" else x.g
    return [view(e, who) for e in x] if isinstance(x, list) else x  # a call's arguments


def before_call(store, instance):
    TRACK.update(sent=[], borrows=[], received=[])
    GR.update(instance=instance, sent=[], lent=[], received=[])
    if GUEST_IN_F:
        GR["before"] = gr_dtors(store)


'''
CHECK_HOOKS = '''def after_call(store, instance, n, fresh):
    """The resource checks after call #n: (check, what) of the first that fails, else None."""
    if GUEST_IN_F:
        problem = gr_checks(store)
        if problem:
            return problem
    sent, borrows, received = TRACK["sent"], TRACK["borrows"], TRACK["received"]
    for h, kept in sent:
        if usable(store, kept):
            return ("resource-ownership|own:not-moved",
                    f"the host passed {h} but still holds it after the call")
    for h, kept in borrows:
        if usable(store, kept):
            return ("resource-borrow|outlived-call",
                    f"the host's borrow of rep {h.rep} is still usable after the call")
    if DTORS:
        return ("resource-dtor|ran-without-drop",
                f"destructor runs {DTORS} while no handle was dropped")
    for h in received[:MAX_CONSUMED]:
        DTORS.clear()
        call(store, instance.get_func(store, f"consume-r{h.n}"),
             ResourceHost.own(h.rep, TYPE_BASE + h.n))
        if DTORS != [(h.n, h.rep)]:
            detail = f"count={len(DTORS)}" if len(DTORS) != 1 else "wrong-rep"
            return (f"resource-dtor|{detail}", f"dropping {h} in the guest ran the destructor "
                    f"as {DTORS}, expected {[(h.n, h.rep)]}")
    DTORS.clear()
    return guest_checks(store, instance, fresh) if n == 0 and GUEST else None


def guest_checks(store, instance, fresh):
    """The guest resource gr, once: gr-new then gr-rep names the rep; gr-echo moves the own in
    and back; a host drop runs the guest destructor once, a second drop raises; and sometimes
    (as itfuzz) a handle dropped through another store must raise there (K24)."""
    def run(name, *args):
        return call(store, instance.get_func(store, name), *args)

    for rep in GUEST_REPS:
        a = run("gr-new", rep)
        if run("gr-rep", a) != rep:
            return ("guest-resource|rep", f"gr-new({rep}) then gr-rep gave another rep")
        moved = clone(a)
        b = run("gr-echo", a)
        if run("gr-rep", b) != rep:
            return ("guest-resource|echo-rep", f"gr-echo of rep {rep} came back naming another")
        if drops(store, moved):
            return ("guest-resource|moved-still-usable",
                    f"the own of rep {rep} sent to gr-echo could still be dropped by the host")
        count = run("gr-dtor-count")
        dropped = clone(b)
        b.drop(store)
        runs, last = run("gr-dtor-count") - count, run("gr-dtor-last")
        if runs != 1 or last != rep:
            return (f"guest-resource|{f'dtor-count={runs}' if runs != 1 else 'dtor-rep'}",
                    f"dropping rep {rep} ran the guest destructor {runs} time(s), last rep {last}")
        if drops(store, dropped) or run("gr-dtor-count") != count + 1:
            return ("guest-resource|double-drop", f"rep {rep} could be dropped twice")
    if GUEST_REPS and sum(GUEST_REPS) % 16 == 5:
        store1, instance1 = fresh()
        x = call(store1, instance1.get_func(store1, "gr-new"), GUEST_REPS[0])
        store2, instance2 = fresh()
        for i in range(4):
            call(store2, instance2.get_func(store2, "gr-new"), GUEST_REPS[0] + 1 + i)
        if drops(store2, x) or call(store2, instance2.get_func(store2, "gr-dtor-count")) != 0:
            return ("guest-resource|other-store-drop", "a handle of one store, dropped through "
                    "another store, was accepted there and ran the destructor of one of that "
                    "store's resources")
    return None


'''

GR_HOOKS = '''MASK = 0xFFFFFFFF


def gr_dtors(store):
    """(runs, sum of reps mod 2**32) of gr's destructor so far."""
    funcs = [GR["instance"].get_func(store, name) for name in ("gr-dtor-count", "gr-dtor-sum")]
    return tuple(call(store, func) for func in funcs)


def expect_dtors(store, when, before, reps, what):
    count, total = gr_dtors(store)
    runs, got = count - before[0], (total - before[1]) & MASK
    if runs != len(reps):
        return (f"gr-dtor|{when}:count={'more' if runs > len(reps) else 'less'}",
                f"gr's destructor ran {runs} time(s) {what}, expected {len(reps)}")
    if got != sum(reps) & MASK:
        return (f"gr-dtor|{when}:reps",
                f"gr's destructor ran for reps summing to {got} {what}, expected {reps}")
    return None


def gr_checks(store):
    """The gr handles of f's types (as itfuzz): f drops each own it gets, so gr's destructor
    ran once per own sent, for those reps; the owns sent are gone from the host; an own lent as
    a borrow still names its rep; dropping what was lent and got back runs the destructor once
    for each."""
    problem = expect_dtors(store, "in-call", GR["before"], [rep for rep, _ in GR["sent"]],
                           "during the call (f drops each own gr it receives)")
    if problem:
        return problem
    for rep, x in GR["sent"]:
        if drops(store, x):
            return ("gr-ownership|own:not-moved",
                    f"the host passed own<gr> rep {rep} but could still drop it after the call")
    before = gr_dtors(store)
    for rep, x in GR["lent"]:
        try:
            got = call(store, GR["instance"].get_func(store, "gr-rep"), x)
        except wasmtime.WasmtimeError as e:
            return ("gr-borrow|lender:lost", f"the own of rep {rep} the host lent as borrow<gr> "
                    f"is unusable after the call: {e}")
        if got != rep:
            return ("gr-borrow|lender:rep", f"the own of rep {rep} the host lent as borrow<gr> "
                    f"names rep {got} after the call")
    for _, x in GR["lent"] + GR["received"]:
        x.drop(store)
    return expect_dtors(store, "host-drop", before, [rep for rep, _ in GR["lent"] + GR["received"]],
                        "when the host dropped what it lent and got back")


'''

MISUSE_HOOKS = '''KEEP = []  # the other store of an other-store/other-engine handle, alive for the call


def make_bad(store, instance, engine, f, state):
    """The bad handle of this misuse (BAD_KIND) in Bad.handle, as itfuzz makes it; a failed
    earlier call (stale-borrow) returns its (check, what)."""
    TRACK.update(sent=[], borrows=[], received=[])
    rep, ty = BAD_REP, TYPE_BASE + BAD_RESOURCE
    if BAD_KIND in ("moved-own", "moved-clone"):  # moved into the guest, dropped there
        x = ResourceHost.own(rep, ty).to_any(store)
        kept = clone(x)
        call(store, instance.get_func(store, f"consume-r{BAD_RESOURCE}"), x)
        Bad.handle = x if BAD_KIND == "moved-own" else kept
    elif BAD_KIND == "dropped":
        Bad.handle = ResourceHost.own(rep, ty).to_any(store)
        Bad.handle.drop(store)
    elif BAD_KIND == "stale-borrow":  # the borrow g got in an earlier (valid) call
        problem = round_trip(store, f, state, ARGS, RET)
        if problem:
            return problem
        Bad.handle = TRACK["borrows"][0][1]
    elif BAD_KIND in ("other-store", "other-engine"):
        KEEP.append(wasmtime.Store(engine if BAD_KIND == "other-store" else wasmtime.Engine()))
        Bad.handle = ResourceHost.own(FOREIGN_REP, ty).to_any(KEEP[-1])
    elif BAD_KIND == "other-type":
        Bad.handle = ResourceHost.own(rep, OTHER_TYPE).to_any(store)
    elif BAD_KIND == "guest-type":
        Bad.handle = call(store, instance.get_func(store, "gr-new"), rep)
    else:  # borrow-for-own
        Bad.handle = ResourceHost.borrow(rep, ty).to_any(store)
    return None


'''
