"""Running a component through Wasmtime's C API: the loaded library, a component's linker with
the checking host function `g` (in C), instances and calls.

Components, engines and stores are wasmtime-py's: their pointers are handed to C, which uses the
same copy of libwasmtime (see `itl_open` in lane.c). Host resources (`rN`) are defined in C, with
destructors that log in C, and C checks the handles after each call (`check_handles`); the
instance can be seen through wasmtime-py too (`py_instance`).
"""
from __future__ import annotations

import ctypes
import weakref
from dataclasses import dataclass
from functools import cache
from typing import Any

from itfuzz.engines.capi import layout

# itl_call statuses (lane.h)
(OK, ERROR, BAD_ENCODING, HOST_ARG, HOST_COUNTS, HOST_TWICE, HOST_COUNT, RESULT, POST_RETURN,
 COUNTER, HANDLES) = range(11)
FAULTS = {"truncate": 1, "swap": 2, "rep": 3, "keep-own": 4, "keep-borrow": 5, "dtor-twice": 6,
          "dtor-extra": 7, "lent-dropped": 8}
# the failed handle check of status HANDLES (itl_state.check, lane.h)
(CK_GR_INCALL_COUNT, CK_GR_INCALL_REPS, CK_GR_NOT_MOVED, CK_GR_LENDER_LOST, CK_GR_LENDER_REP,
 CK_GR_DROP_REFUSED, CK_GR_HOSTDROP_COUNT, CK_GR_HOSTDROP_REPS, CK_NOT_MOVED,
 CK_BORROW_OUTLIVED, CK_DTOR_WITHOUT_DROP, CK_CONSUME_DTOR, CK_CALL_ERROR) = range(1, 14)
SENT, BORROWED, RECEIVED, GR_SENT, GR_LENT, GR_RECEIVED = range(1, 7)  # itl_handle.what
FAULT_WHERE = {"args": 1, "result": 2}


class LaneError(Exception):
    """Wasmtime returned an error (its message is the text)."""


@dataclass
class Lib:
    ffi: Any
    lib: Any
    resources: bool = False  # the library has the resource handle functions


@cache
def load() -> tuple[Lib | None, str]:
    """(the lane's library, "") or (None, why the lane is off)."""
    try:
        from itfuzz.engines.capi._capi_lane import ffi, lib  # type: ignore[import-not-found]
    except ImportError as e:
        return None, (f"C-API lane off: its extension is not built ({e}); reinstall "
                      "(./run) or run python src/itfuzz/engines/capi/_build.py")
    return open_library(ffi, lib)


def open_library(ffi, lib, py_layout=None) -> tuple[Lib | None, str]:
    """Check the layout, then find the library's functions (`py_layout`: a test's stand-in for
    wasmtime-py's layout)."""
    try:
        layout.check(layout.c_layout(ffi, lib), py_layout or layout.python_layout())
    except (layout.LayoutMismatch, AttributeError) as e:
        return None, f"C-API lane off: {e}"
    from wasmtime import _ffi
    missing = lib.itl_open(_ffi.dll._name.encode())
    if missing != ffi.NULL:
        return None, f"C-API lane off: libwasmtime lacks {ffi.string(missing).decode()}"
    if not lib.itl_has_resources():
        return Lib(ffi, lib), ("C-API lane: libwasmtime lacks the resource handle functions; "
                               "cases with resources run on wasmtime-py")
    return Lib(ffi, lib, resources=True), ""


def address(ptr) -> int:
    """The address behind a wasmtime-py ctypes pointer."""
    return ctypes.cast(ptr, ctypes.c_void_p).value or 0


@dataclass
class Outcome:
    """What one call gave: a status, the host's failed argument, and the dump or message."""

    status: int
    fail_index: int
    count: int  # host runs
    out: bytes
    check: int = 0  # status HANDLES: the failed check (CK_*) and what it saw
    check_got: int = 0

    @property
    def message(self) -> str:
        return self.out.decode("utf-8", "replace")


class Linker:
    """A C component linker defining `g` as the lane's checking host function and, with
    `resources` = n, the host resources r0…r(n-1) (types `type_base` + N)."""

    def __init__(self, lane: Lib, engine, fault: str = "", fault_where: str = "",
                 bare: bool = False, resources: int = 0, type_base: int = 0) -> None:
        self.ffi, self.lib = lane.ffi, lane.lib
        self.state = self.ffi.new("itl_state *")
        self.state.fault = FAULTS.get(fault, 0)
        self.state.fault_where = FAULT_WHERE.get(fault_where, 0)
        self.state.type_base = type_base
        make = self.lib.itl_bare_linker if bare else self.lib.itl_linker  # bare: benchmarks
        ptr = make(self.ffi.cast("void *", address(engine.ptr())), self.state)
        if ptr == self.ffi.NULL:
            raise LaneError(self._out().decode("utf-8", "replace"))
        weakref.finalize(self, _release, self.lib, ptr, self.state)
        self.ptr = ptr
        if resources and self.lib.itl_add_resources(ptr, self.state, resources) != OK:
            raise LaneError(self._out().decode("utf-8", "replace"))

    def _out(self) -> bytes:
        return bytes(self.ffi.buffer(self.state.out, self.state.out_len)) if self.state.out_len else b""

    def instantiate(self, store, component) -> Instance:
        inst = self.ffi.new("itl_instance *")
        ctx = self.ffi.cast("void *", address(store._context()))
        status = self.lib.itl_instantiate(self.ptr, ctx, self.ffi.cast("void *", address(component.ptr())),
                                          inst, self.state)
        if status != OK:
            raise LaneError(self._out().decode("utf-8", "replace"))
        return Instance(self, store, ctx, inst)


def _release(lib, ptr, state) -> None:
    lib.itl_linker_delete(ptr)
    lib.itl_state_free_out(state)


class Instance:
    """An instance in a wasmtime-py store (kept alive here)."""

    def __init__(self, linker: Linker, store, ctx, inst) -> None:
        self.linker, self.store, self.ctx, self.inst = linker, store, ctx, inst
        self._itl_call = linker.lib.itl_call
        # the linker's state may still name another instance's functions: none until set
        st, null = linker.state, linker.ffi.NULL
        st.check_handles, st.ncounters, st.calls_done = False, 0, 0
        st.gr_new = st.gr_rep = st.gr_count = st.gr_sum = null

    def func(self, name: str):
        """The export's itl_func, or None."""
        f = self.linker.ffi.new("itl_func *")
        raw = name.encode()
        if self.linker.lib.itl_get_func(self.inst, self.ctx, raw, len(raw), f) != OK:
            return None
        return f

    def call(self, f, args: bytes, nargs: int, ret: bytes, nresults: int,
             host_args: bytes | None = None, f_ret: bytes | None = None) -> Outcome | None:
        """Call `f` with the encoded `args`; the host `g` checks its arguments against them (or
        against `host_args`, what `g` sees of them when that differs) and returns `ret`; `f`'s
        results are compared with `ret` (or `f_ret`) (see itl_call). None: all agreed."""
        lk = self.linker
        st, keep = lk.state, []
        if host_args is not None:
            keep.append(lk.ffi.from_buffer(host_args))
            st.host_args, st.host_args_len = keep[-1], len(host_args)
        if f_ret is not None:
            keep.append(lk.ffi.from_buffer(f_ret))
            st.f_ret, st.f_ret_len = keep[-1], len(f_ret)
        try:
            status = self._itl_call(st, f, self.ctx, args, len(args), nargs, ret, len(ret),
                                    nresults)
        finally:
            if keep:
                st.host_args, st.host_args_len = lk.ffi.NULL, 0
                st.f_ret, st.f_ret_len = lk.ffi.NULL, 0
        if status == OK:
            return None
        return Outcome(status, st.fail_index, st.count, lk._out(), st.check, st.check_got)

    def use_guest(self, gr_new, gr_rep) -> None:
        """Make and read `gr` handles with these exports (itl_funcs of this instance)."""
        st = self.linker.state
        self._gr = (gr_new, gr_rep)  # keeps the cdata alive
        st.gr_new = gr_new if gr_new is not None else self.linker.ffi.NULL
        st.gr_rep = gr_rep if gr_rep is not None else self.linker.ffi.NULL

    def check_handles(self, gr_count, gr_sum, resources: int) -> None:
        """After each completed call, C runs the resource checks (status HANDLES): those of
        the guest's `gr` with its destructor counters (itl_funcs; None: no `gr`), those of
        host resources r0…r(`resources`-1) with this instance's `consume-rN` exports."""
        st, null = self.linker.state, self.linker.ffi.NULL
        self._dtor_counters = (gr_count, gr_sum)  # keeps the cdata alive
        st.check_handles = True
        st.gr_count = gr_count if gr_count is not None else null
        st.gr_sum = gr_sum if gr_sum is not None else null
        self.linker.lib.itl_use_consumers(st, self.inst, resources)

    def check_counters(self, funcs: list) -> None:
        """After each completed call, C checks that every counter export in `funcs` (at most
        2) equals the number of calls completed so far on this instance (status COUNTER)."""
        st = self.linker.state
        self._counters = funcs  # keeps the cdata alive
        for i, cf in enumerate(funcs):
            st.counter[i] = cf
        st.ncounters, st.calls_done = len(funcs), 0

    def bare_call(self, f, value: int) -> int:
        """A u32 echo through a `bare` linker (the benchmarks' baseline)."""
        out = self.linker.ffi.new("uint32_t *")
        if self.linker.lib.itl_bare_call(f, self.ctx, value, out) != OK:
            raise LaneError("bare call failed")
        return int(out[0])

    def handles(self) -> list[tuple[int, bool, int, int]]:
        """The handles of the last call: (what, own, resource, rep)."""
        st = self.linker.state
        return [(h.what, bool(h.own), h.resource, h.rep)
                for h in (st.handles[i] for i in range(st.nhandles))]

    def dtors(self) -> list[tuple[int, int]]:
        """The host destructors' runs (resource, rep) the last check saw."""
        st = self.linker.state
        return [(st.dtors[2 * i], st.dtors[2 * i + 1]) for i in range(st.ndtors)]

    def py_instance(self):
        """This instance as a wasmtime-py `component.Instance` (same store)."""
        from wasmtime import _ffi as wffi
        from wasmtime.component import Instance as PyInstance
        raw = wffi.wasmtime_component_instance_t
        data = bytes(self.linker.ffi.buffer(self.inst))[:ctypes.sizeof(raw)]
        return PyInstance._from_raw(raw.from_buffer_copy(data))
