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
    assert not err, error_text(err)
    index = b.wasmtime_component_instance_get_export_index(ctypes.byref(inst), store._context(),
                                                           None, b"f", 1)
    func = b.wasmtime_component_func_t()
    assert b.wasmtime_component_instance_get_func(ctypes.byref(inst), store._context(), index,
                                                  ctypes.byref(func))
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
