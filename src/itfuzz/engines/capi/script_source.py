"""Source text of the C-API lane's standalone scripts (used by `ops/capi_script.py`).

The scripts call Wasmtime's component C API through wasmtime-py's own ctypes bindings, so their
text uses wasmtime-py internals and lives here, with the rest of the code that touches them.
"""

IMPORTS = "import base64\nimport ctypes\nimport sys\n\nimport wasmtime\n" \
          "from wasmtime import _bindings as b\nfrom wasmtime.component import Component\n"

# The encoding's builder, for the script (the format is lane.c's; written again here in Python
# over wasmtime-py's ctypes types, since the script must not need itfuzz).
BUILDER = r'''SCALAR_SIZE = [1, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8, 4]  # bool .. char: raw little-endian bytes
VECS = {13: ("list", "vallist"), 15: ("tuple", "valtuple"), 14: ("record", "valrecord"),
        20: ("flags", "valflags"), 22: ("map", "valmap")}


def take_name(data, pos):
    n = int.from_bytes(data[pos:pos + 4], "little")
    return pos + 4 + n, data[pos + 4:pos + 4 + n]


def new_name(out, raw):
    """`out` (a wasm_name_t) holds a copy of `raw`, allocated by Wasmtime."""
    buf = (ctypes.c_uint8 * max(len(raw), 1)).from_buffer_copy(raw or b"\0")
    b.wasm_byte_vec_new(ctypes.byref(out), len(raw), ctypes.cast(buf, ctypes.POINTER(b.wasm_byte_t)))


def boxed(data, pos):
    tmp = b.wasmtime_component_val_t()
    pos = build(data, pos, tmp)
    return pos, b.wasmtime_component_val_new(ctypes.byref(tmp))


def build(data, pos, v):
    """Build the value encoded at `pos` into `v` (a wasmtime_component_val_t); the next pos."""
    ctypes.memset(ctypes.addressof(v), 0, ctypes.sizeof(v))  # `v` may be uninitialized memory
    kind = data[pos]
    pos += 1
    v.kind = kind
    if kind < len(SCALAR_SIZE):
        raw = data[pos:pos + SCALAR_SIZE[kind]]
        if kind == 0:
            raw = bytes([raw[0] != 0])
        ctypes.memmove(ctypes.addressof(v.of), raw, len(raw))
        return pos + len(raw)
    if kind in (12, 17):  # string, enum
        pos, raw = take_name(data, pos)
        new_name(v.of.string, raw)
        return pos
    if kind in VECS:
        field, vec = VECS[kind]
        n = int.from_bytes(data[pos:pos + 4], "little")
        pos += 4
        target = getattr(v.of, field)
        getattr(b, f"wasmtime_component_{vec}_new_uninit")(ctypes.byref(target), n)
        for i in range(n):
            item = target.data[i]
            if kind == 14:
                pos, raw = take_name(data, pos)
                new_name(item.name, raw)
                pos = build(data, pos, item.val)
            elif kind == 20:
                pos, raw = take_name(data, pos)
                new_name(item, raw)
            elif kind == 22:
                pos = build(data, build(data, pos, item.key), item.value)
            else:
                pos = build(data, pos, item)
        return pos
    if kind == 16:  # variant
        pos, raw = take_name(data, pos)
        new_name(v.of.variant.discriminant, raw)
        has = data[pos]
        pos += 1
        if has:
            pos, v.of.variant.val = boxed(data, pos)
        return pos
    if kind == 18:  # option
        has = data[pos]
        pos += 1
        if has:
            pos, v.of.option = boxed(data, pos)
        return pos
    if kind == 19:  # result
        v.of.result.is_ok, has = bool(data[pos]), data[pos + 1]
        pos += 2
        if has:
            pos, v.of.result.val = boxed(data, pos)
        return pos
    raise ValueError(f"unknown value kind {kind}")


def build_all(data, n):
    vals = (b.wasmtime_component_val_t * max(n, 1))()
    pos = 0
    for i in range(n):
        pos = build(data, pos, vals[i])
    return vals


def error_text(err):
    return str(wasmtime.WasmtimeError._from_ptr(err)).splitlines()[0]


def instantiate_with_g(engine, store, component, g):
    """(kept, instance, error): a linker defining the host import `g` (a C callback made from
    the Python function `g`) instantiates the component; `kept` must stay alive meanwhile."""
    callback = b.wasmtime_component_func_callback_t(g)
    linker = b.wasmtime_component_linker_new(engine.ptr())
    root = b.wasmtime_component_linker_root(linker)
    err = b.wasmtime_component_linker_instance_add_func(
        root, b"g", 1, callback, None, ctypes.CFUNCTYPE(None, ctypes.c_void_p)())
    b.wasmtime_component_linker_instance_delete(root)
    assert not err, error_text(err)
    inst = b.wasmtime_component_instance_t()
    err = b.wasmtime_component_linker_instantiate(linker, store._context(), component.ptr(),
                                                  ctypes.byref(inst))
    return (callback, linker), inst, err


def get_func(inst, store, name):
    raw = name.encode()
    index = b.wasmtime_component_instance_get_export_index(ctypes.byref(inst), store._context(),
                                                           None, raw, len(raw))
    func = b.wasmtime_component_func_t()
    assert index and b.wasmtime_component_instance_get_func(ctypes.byref(inst), store._context(),
                                                            index, ctypes.byref(func)), name
    return func
'''

BODY = r'''

def main():
    engine = make_engine()
    store = wasmtime.Store(engine)
    component = Component(engine, COMPONENT)
    ran = [0]

    def g(env, ctx, ty, args, nargs, results, nresults):
        ran[0] += 1
        pos = 0
        for i in range(nresults):
            pos = build(RET, pos, results[i])  # Wasmtime takes these values over
        return 0

    kept, inst, err = instantiate_with_g(engine, store, component, g)
    assert not err, error_text(err)
    func = get_func(inst, store, "f")
    print(f"misuse: {DESCRIPTION}", flush=True)
    args = build_all(ARGS, NARGS)
    results = (b.wasmtime_component_val_t * max(NRESULTS, 1))()
    err = b.wasmtime_component_func_call(ctypes.byref(func), store._context(), args, NARGS,
                                         results, NRESULTS)
    if err and not (WHERE != "ret" and ran[0]):
        print(f"OK: the C API returned an error: {error_text(err)}")
        return 0
    what = "the host ran with it" if WHERE != "ret" and ran[0] else "f completed"
    print(f"FAIL[capi-misuse-accepted|{KIND}]: Wasmtime's C API accepted an invalid value: {what}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
'''

# Reading values back (round-trip scripts): the encoding of a value tree, with every NaN made
# one NaN and flags sorted (any NaN equals any NaN; flags are a set), so equal values compare
# equal as bytes.
DUMPER = r'''NAN = {9: (0x7FC00000).to_bytes(4, "little"), 10: (0x7FF8000000000000).to_bytes(8, "little")}


def is_nan(kind, raw):
    bits = int.from_bytes(raw, "little")
    exp, frac = ((0x7F800000, 0x7FFFFF) if kind == 9 else (0x7FF0000000000000, (1 << 52) - 1))
    return bits & exp == exp and bits & frac != 0


def put_name(out, vec):
    raw = ctypes.string_at(vec.data, vec.size) if vec.size else b""
    out += len(raw).to_bytes(4, "little") + raw


def dump(v, out):
    """Append the canonical encoding of `v` (a wasmtime_component_val_t) to `out`."""
    kind = v.kind
    out.append(kind)
    if kind < len(SCALAR_SIZE):
        raw = ctypes.string_at(ctypes.addressof(v.of), SCALAR_SIZE[kind])
        if kind == 0:
            raw = bytes([raw[0] != 0])
        out += NAN[kind] if kind in NAN and is_nan(kind, raw) else raw
    elif kind in (12, 17):
        put_name(out, v.of.string)
    elif kind in VECS:
        field, _ = VECS[kind]
        vec = getattr(v.of, field)
        out += vec.size.to_bytes(4, "little")
        items = [vec.data[i] for i in range(vec.size)]
        if kind == 20:
            names = sorted(ctypes.string_at(n.data, n.size) if n.size else b"" for n in items)
            for raw in names:
                out += len(raw).to_bytes(4, "little") + raw
        for item in items if kind != 20 else ():
            if kind == 14:
                put_name(out, item.name)
                dump(item.val, out)
            elif kind == 22:
                dump(item.key, out)
                dump(item.value, out)
            else:
                dump(item, out)
    elif kind == 16:
        put_name(out, v.of.variant.discriminant)
        dump_box(v.of.variant.val, out)
    elif kind == 18:
        dump_box(v.of.option, out)
    elif kind == 19:
        out.append(int(v.of.result.is_ok))
        dump_box(v.of.result.val, out)
    else:
        out += b"?"


def dump_box(ptr, out):
    out.append(1 if ptr else 0)
    if ptr:
        dump(ptr.contents, out)


def canonical(vals, n):
    out = bytearray()
    for i in range(n):
        dump(vals[i], out)
    return bytes(out)
'''

ROUNDTRIP_BODY = r'''

def c_error(text):
    """A wasmtime_error_t for the host callback to return (as the callback's integer)."""
    return ctypes.cast(b.wasmtime_error_new(text.encode()), ctypes.c_void_p).value



def call_u32(func, store):
    out = (b.wasmtime_component_val_t * 1)()
    err = b.wasmtime_component_func_call(ctypes.byref(func), store._context(), None, 0, out, 1)
    assert not err, error_text(err)
    b.wasmtime_component_func_post_return(ctypes.byref(func), store._context())
    return out[0].of.u32


def fail(check, detail, what):
    print(f"FAIL[{check}]" + (f" {detail}" if detail else "") + f": {what}")
    return 1


def main():
    engine = make_engine()
    store = wasmtime.Store(engine)
    component = Component(engine, COMPONENT)
    state = {"want": b"", "ret": b"", "count": 0, "failure": None}

    def g(env, ctx, ty, args, nargs, results, nresults):
        state["count"] += 1
        if state["count"] > 1:
            state["failure"] = ("host-call-count", "more-than-once", "the host ran twice")
            return c_error("host ran twice")
        got = canonical(args, nargs)
        if nargs != NARGS or got != state["want"]:
            state["failure"] = ("host-arg-mismatch", "",
                                f"the host saw {got.hex()}, expected {state['want'].hex()}")
            return c_error("host saw different arguments")
        pos = 0
        for i in range(nresults):
            pos = build(state["ret"], pos, results[i])  # Wasmtime takes these values over
        return 0

    kept, inst, err = instantiate_with_g(engine, store, component, g)
    if err:
        return fail("instantiate-error", "", error_text(err))
    f = get_func(inst, store, "f")
    counters = [(name, get_func(inst, store, name)) for name in COUNTERS]
    for n, (args_enc, ret_enc) in enumerate(CALLS, 1):
        print(f"call {n}: arguments {args_enc.hex()}, the host returns {ret_enc.hex()}", flush=True)
        state.update(want=canonical(build_all(args_enc, NARGS), NARGS), ret=ret_enc, count=0,
                     failure=None)
        args = build_all(args_enc, NARGS)
        results = (b.wasmtime_component_val_t * max(NRESULTS, 1))()
        err = b.wasmtime_component_func_call(ctypes.byref(f), store._context(), args, NARGS,
                                             results, NRESULTS)
        if state["failure"]:
            return fail(*state["failure"])
        if err:
            return fail("call-error", "", error_text(err))
        if state["count"] != 1:
            return fail("host-call-count", f"count={state['count']}", "the host did not run once")
        got, want = canonical(results, NRESULTS), canonical(build_all(ret_enc, NRESULTS), NRESULTS)
        if got != want:
            return fail("result-mismatch", "", f"f returned {got.hex()}, expected {want.hex()}")
        b.wasmtime_component_func_post_return(ctypes.byref(f), store._context())
        for name, counter in counters:
            if call_u32(counter, store) != n:
                return fail("post-return-count", name, f"{name} is not {n} after {n} call(s)")
    print(f"OK: {len(CALLS)} call(s) round-tripped exactly through the C API")
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''
