/* itfuzz C-API lane: component values built, compared and dumped in C.
 *
 * Written from the documentation of Wasmtime's C API (wasmtime/component/val.h, func.h,
 * linker.h, instance.h). libwasmtime is not linked: `itl_open` takes the functions from the
 * library wasmtime-py already loaded (dlopen of the same path gives the same copy), so stores,
 * engines and components made by wasmtime-py can be handed to this code.
 *
 * Values travel as a compact pre-order byte encoding (little endian), made once per call by
 * Python (itfuzz.engines.capi.encoding):
 *   kind u8 (the C API's wasmtime_component_valkind_t), then
 *   bool/s8/u8: 1 byte; s16/u16: 2; s32/u32/char/f32: 4; s64/u64/f64: 8 (floats as bits);
 *   string, enum: name; list, tuple: u32 count + values; record: u32 count + (name value)*;
 *   variant: name + u8 has-payload + [value]; option: u8 is-some + [value];
 *   result: u8 is-ok + u8 has-payload + [value]; flags: u32 count + name*;
 *   map: u32 count + (key value)*;
 *   resource (own/borrow of host resource rN): u8 own + u32 N + u32 rep; the host makes it
 *   (type type_base + N) when building, converts it back and checks type, ownership and rep
 *   when comparing; dumped as u8 own + u32 host type (0xffffffff: not convertible) + u32 rep;
 *   a handle of the guest's `gr`: u8 (2 | own) + u32 0 + u32 rep, made by `gr-new(rep)` (an
 *   own, lent for a borrow), read by `gr-rep`; dumped with type GR_TYPE;
 *   name = u32 length + bytes (not checked here: invalid UTF-8 is the misuse twin's business).
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lane.h"

enum {
    K_BOOL, K_S8, K_U8, K_S16, K_U16, K_S32, K_U32, K_S64, K_U64, K_F32, K_F64, K_CHAR,
    K_STRING, K_LIST, K_RECORD, K_TUPLE, K_VARIANT, K_ENUM, K_OPTION, K_RESULT, K_FLAGS,
    K_RESOURCE, K_MAP,
};

/* ---- the library's functions, found by name ---------------------------------------------- */
static struct {
    void (*byte_vec_new)(itl_name *, size_t, const uint8_t *);
    void (*byte_vec_delete)(itl_name *);
    void (*list_uninit)(itl_vec *, size_t);
    void (*record_uninit)(itl_vec *, size_t);
    void (*tuple_uninit)(itl_vec *, size_t);
    void (*flags_uninit)(itl_vec *, size_t);
    itl_val *(*val_new)(itl_val *);
    void (*val_delete)(itl_val *);
    void *(*error_new)(const char *);
    void (*error_message)(const void *, itl_name *);
    void (*error_delete)(void *);
    void *(*linker_new)(const void *);
    void *(*linker_root)(void *);
    void *(*linker_add_func)(void *, const char *, size_t, itl_host_fn, void *, void (*)(void *));
    void (*linker_instance_delete)(void *);
    void *(*linker_instantiate)(const void *, void *, const void *, itl_instance *);
    void (*linker_delete)(void *);
    void *(*export_index)(const itl_instance *, void *, const void *, const char *, size_t);
    void (*export_index_delete)(void *);
    bool (*instance_get_func)(const itl_instance *, void *, const void *, itl_func *);
    void *(*func_call)(const itl_func *, void *, const itl_val *, size_t, itl_val *, size_t);
    void *(*func_post_return)(const itl_func *, void *);
    void (*map_uninit)(itl_vec *, size_t); /* optional: releases without map<K, V> */
    /* optional: resource handles (every release from 39 has them; checked, not assumed) */
    void *(*res_host_new)(bool, uint32_t, uint32_t);
    void *(*res_host_to_any)(void *, const void *, void **);
    void *(*res_any_to_host)(void *, const void *, void **);
    uint32_t (*res_host_rep)(const void *);
    uint32_t (*res_host_type)(const void *);
    bool (*res_host_owned)(const void *);
    void (*res_host_delete)(void *);
    void *(*res_any_clone)(const void *);
    bool (*res_any_owned)(const void *);
    void (*res_any_delete)(void *);
    void *(*res_any_drop)(void *, const void *);
    void *(*res_type_new_host)(uint32_t);
    void (*res_type_delete)(void *);
    void *(*linker_add_resource)(void *, const char *, size_t, const void *,
                                 void *(*)(void *, void *, uint32_t), void *, void (*)(void *));
} W;

static const char *const NAMES[] = {
    "wasm_byte_vec_new", "wasm_byte_vec_delete", "wasmtime_component_vallist_new_uninit",
    "wasmtime_component_valrecord_new_uninit", "wasmtime_component_valtuple_new_uninit",
    "wasmtime_component_valflags_new_uninit", "wasmtime_component_val_new",
    "wasmtime_component_val_delete", "wasmtime_error_new", "wasmtime_error_message",
    "wasmtime_error_delete", "wasmtime_component_linker_new", "wasmtime_component_linker_root",
    "wasmtime_component_linker_instance_add_func", "wasmtime_component_linker_instance_delete",
    "wasmtime_component_linker_instantiate", "wasmtime_component_linker_delete",
    "wasmtime_component_instance_get_export_index", "wasmtime_component_export_index_delete",
    "wasmtime_component_instance_get_func", "wasmtime_component_func_call",
    "wasmtime_component_func_post_return", "wasmtime_component_valmap_new_uninit",
    "wasmtime_component_resource_host_new", "wasmtime_component_resource_host_to_any",
    "wasmtime_component_resource_any_to_host", "wasmtime_component_resource_host_rep",
    "wasmtime_component_resource_host_type", "wasmtime_component_resource_host_owned",
    "wasmtime_component_resource_host_delete", "wasmtime_component_resource_any_clone",
    "wasmtime_component_resource_any_owned", "wasmtime_component_resource_any_delete",
    "wasmtime_component_resource_any_drop", "wasmtime_component_resource_type_new_host",
    "wasmtime_component_resource_type_delete", "wasmtime_component_linker_instance_add_resource",
};
#define OPTIONAL_FROM 22  /* NAMES from this index on may be missing */
#define RESOURCES_FROM 23 /* ...and from here on they are the resource functions */
#define NO_TYPE 0xffffffffu
#define GR_TYPE 0xfffffffeu /* a handle of the guest's `gr` */
#define GUEST 2             /* the flag of a `gr` handle in the encoding's own byte */

const char *itl_open(const char *path) {
    void *lib = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (!lib)
        lib = dlopen(path, RTLD_NOW);
    if (!lib)
        return "dlopen failed";
    void **slots = (void **)&W;
    for (size_t i = 0; i < sizeof(NAMES) / sizeof(NAMES[0]); i++) {
        slots[i] = dlsym(lib, NAMES[i]);
        if (!slots[i] && i < OPTIONAL_FROM)
            return NAMES[i];
    }
    return NULL;
}

bool itl_has_resources(void) {
    void **slots = (void **)&W;
    for (size_t i = RESOURCES_FROM; i < sizeof(NAMES) / sizeof(NAMES[0]); i++)
        if (!slots[i])
            return false;
    return true;
}

void itl_layout(size_t *out) {
    size_t v[] = {
        sizeof(itl_val), offsetof(itl_val, of), sizeof(itl_valunion), sizeof(itl_name),
        sizeof(itl_vec), offsetof(itl_vec, data), sizeof(itl_entry), offsetof(itl_entry, val),
        sizeof(itl_variant), offsetof(itl_variant, val), sizeof(itl_result),
        offsetof(itl_result, val), sizeof(itl_func), sizeof(itl_instance),
    };
    memcpy(out, v, sizeof(v));
}

int itl_counter(const itl_func *f, void *ctx, uint32_t *out, itl_state *st);

/* Allocation for the lane's small per-call arrays: running out of memory there is no finding
 * and no state to go on from, so it ends the process with a message. */
static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("itfuzz C-API lane: out of memory\n", stderr);
        abort();
    }
    return q;
}

/* ---- reading the encoding ------------------------------------------------------------------ */
typedef struct {
    const uint8_t *p, *end;
    itl_state *st; /* the call's state (its store context, for resource handles) */
    int where;     /* building ITL_FAULT_IN_ARGS or _IN_RESULT (planted faults), 0: reading */
    bool planted;  /* a resource fault was planted in this build */
} cursor;

static int take(cursor *c, void *dst, size_t n) {
    if ((size_t)(c->end - c->p) < n)
        return -1;
    memcpy(dst, c->p, n);
    c->p += n;
    return 0;
}

static int take_name(cursor *c, const uint8_t **data, uint32_t *len) {
    if (take(c, len, 4) || (size_t)(c->end - c->p) < *len)
        return -1;
    *data = c->p;
    c->p += *len;
    return 0;
}

/* A count of elements that each need at least one more byte of input (bounds allocations). */
static int take_count(cursor *c, uint32_t *n) {
    if (take(c, n, 4) || *n > (size_t)(c->end - c->p))
        return -1;
    return 0;
}

static const size_t SCALAR_SIZE[] = {1, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8, 4};

/* ---- resource handles ---------------------------------------------------------------------- */
static void take_error(itl_state *st, void *err);

static itl_handle *record(itl_state *st, int what, bool own, uint32_t resource, uint32_t type,
                          uint32_t rep, const void *val_any, void *clone) {
    if (st->nhandles == st->handles_cap) {
        st->handles_cap = st->handles_cap ? 2 * st->handles_cap : 16;
        st->handles = xrealloc(st->handles, st->handles_cap * sizeof(itl_handle));
    }
    itl_handle *h = &st->handles[st->nhandles++];
    *h = (itl_handle){what, own, resource, type, rep, val_any, clone};
    return h;
}

/* Releases the records' clones and forgets the records (of the last call). */
static void forget_handles(itl_state *st) {
    for (size_t i = 0; i < st->nhandles; i++)
        if (st->handles[i].clone)
            W.res_any_delete(st->handles[i].clone);
    st->nhandles = st->handles_from = 0;
}

/* A host handle as a resource_any of the store (NULL with the error in `st`). */
static void *host_any(itl_state *st, bool own, uint32_t type, uint32_t rep) {
    void *any = NULL, *h = W.res_host_new(own, rep, type);
    void *err = W.res_host_to_any(st->ctx, h, &any);
    W.res_host_delete(h);
    if (err) {
        take_error(st, err);
        st->failure = ITL_ERROR;
        return NULL;
    }
    return any;
}

static int build_guest(itl_state *st, bool own, uint32_t rep, itl_val *out);

/* Planted resource faults (tests): the first handle built gets another rep, or an extra own
 * is made and recorded as sent (still held) / as a received borrow (still alive; host
 * resources only). */
static void plant_handle(itl_state *st, bool guest, uint32_t resource, uint32_t type,
                         uint32_t *rep) {
    int fault = st->fault;
    if (fault == ITL_FAULT_REP) {
        *rep += 1;
        return;
    }
    if (guest && fault == ITL_FAULT_KEEP_OWN) {
        itl_val extra;
        memset(&extra, 0, sizeof(extra));
        if (build_guest(st, true, *rep ^ 0x5a5a, &extra) == 0) /* recorded with a clone */
            W.val_delete(&extra);
        return;
    }
    if (guest || (fault != ITL_FAULT_KEEP_OWN && fault != ITL_FAULT_KEEP_BORROW))
        return;
    void *extra = host_any(st, true, type, *rep ^ 0x5a5a);
    if (!extra)
        return;
    record(st, fault == ITL_FAULT_KEEP_OWN ? ITL_SENT : ITL_BORROWED, true, resource, type,
           *rep ^ 0x5a5a, NULL, extra);
}

/* Calls `gr-new(rep)` or `gr-rep(handle)` (u32 in or resource in, one result): 0 or -1 with
 * the error in `st` (`quiet`: the error is dropped, `out` and the failure left alone). */
static int call_gr(itl_state *st, const itl_func *f, const itl_val *arg, itl_val *res,
                   bool quiet) {
    void *err = W.func_call(f, st->ctx, arg, 1, res, 1);
    if (!err && W.func_post_return)
        err = W.func_post_return(f, st->ctx);
    if (err && quiet) {
        W.error_delete(err);
        return -1;
    }
    if (err) {
        take_error(st, err);
        st->failure = ITL_ERROR;
        return -1;
    }
    return 0;
}

/* A new own `gr` handle from `gr-new(rep)`, recorded as sent (own) or lent (borrow). */
static int build_guest(itl_state *st, bool own, uint32_t rep, itl_val *out) {
    itl_val arg, res;
    memset(&arg, 0, sizeof(arg));
    memset(&res, 0, sizeof(res));
    arg.kind = K_U32;
    arg.of.u32 = rep;
    if (!st->gr_new || call_gr(st, st->gr_new, &arg, &res, false))
        return -1;
    if (res.kind != K_RESOURCE) {
        W.val_delete(&res);
        return -1;
    }
    out->kind = K_RESOURCE;
    out->of.resource = res.of.resource; /* the value's box moves to `out` */
    record(st, own ? ITL_GR_SENT : ITL_GR_LENT, true, 0, GR_TYPE, rep, out->of.resource,
           W.res_any_clone(out->of.resource));
    return 0;
}

static int build_handle(cursor *c, itl_val *out) {
    uint8_t own;
    uint32_t resource, rep;
    itl_state *st = c->st;
    if (take(c, &own, 1) || take(c, &resource, 4) || take(c, &rep, 4) || !W.res_host_new)
        return -1;
    uint32_t type = st->type_base + resource;
    if ((own & GUEST) && (own & 1) && c->where == ITL_FAULT_IN_ARGS) { /* dropped by f */
        st->gr_owns++;
        st->gr_owns_sum += rep;
    }
    if (st->fault >= ITL_FAULT_REP && st->fault <= ITL_FAULT_KEEP_BORROW
        && st->fault_where == c->where && !c->planted) {
        c->planted = true;
        plant_handle(st, own & GUEST, resource, type, &rep);
    }
    if (own & GUEST)
        return build_guest(st, own & 1, rep, out);
    void *any = host_any(st, own != 0, type, rep);
    if (!any)
        return -1;
    out->kind = K_RESOURCE;
    out->of.resource = any;
    if (own) /* ownership moves with the call: the clone must be dead after it */
        record(st, ITL_SENT, true, resource, type, rep, any, W.res_any_clone(any));
    return 0;
}

/* The handle `v` as the host sees it (recorded once: an own is taken out of the host's table,
 * a borrow's clone is kept); NULL-free: a refused conversion has type NO_TYPE. */
static const itl_handle *received(itl_state *st, const itl_val *v, uint32_t resource) {
    for (size_t i = st->handles_from; i < st->nhandles; i++) /* freed values' addresses recur */
        if (st->handles[i].val_any == v->of.resource && st->handles[i].what != ITL_SENT)
            return &st->handles[i];
    bool own = W.res_any_owned(v->of.resource);
    void *h = NULL, *err = W.res_any_to_host(st->ctx, v->of.resource, &h);
    if (err) { /* not a host resource: maybe the guest's `gr` */
        W.error_delete(err);
        itl_val res;
        memset(&res, 0, sizeof(res));
        /* quiet: a refused gr-rep's message is no dump (it may be running) and no failure */
        if (own && st->gr_rep && call_gr(st, st->gr_rep, v, &res, true) == 0
            && res.kind == K_U32)
            return record(st, ITL_GR_RECEIVED, true, 0, GR_TYPE, res.of.u32, v->of.resource,
                          W.res_any_clone(v->of.resource));
        W.val_delete(&res);
        return record(st, ITL_RECEIVED, own, resource, NO_TYPE, 0, v->of.resource, NULL);
    }
    uint32_t type = W.res_host_type(h), rep = W.res_host_rep(h);
    bool host_own = W.res_host_owned(h);
    W.res_host_delete(h);
    return record(st, own ? ITL_RECEIVED : ITL_BORROWED, own && host_own, resource, type, rep,
                  v->of.resource, own ? NULL : W.res_any_clone(v->of.resource));
}

static int cmp_handle(cursor *c, const itl_val *v) {
    uint8_t own;
    uint32_t resource, rep;
    if (take(c, &own, 1) || take(c, &resource, 4) || take(c, &rep, 4))
        return -1;
    const itl_handle *h = received(c->st, v, resource);
    uint32_t type = own & GUEST ? GR_TYPE : c->st->type_base + resource;
    return h->type == type && h->own == ((own & 1) != 0) && h->rep == rep ? 0 : 1;
}

/* ---- building values (allocated by the library, released with val_delete) ----------------- */
static int build(cursor *c, itl_val *out);

static int boxed(cursor *c, itl_val **slot) {
    itl_val local;
    memset(&local, 0, sizeof(local));
    int r = build(c, &local);
    *slot = W.val_new(&local);
    return r;
}

static int build_vec(cursor *c, itl_val *out, uint8_t kind) {
    uint32_t n, len;
    const uint8_t *d;
    size_t elem = kind == K_RECORD ? sizeof(itl_entry) : kind == K_FLAGS ? sizeof(itl_name)
                  : kind == K_MAP ? 2 * sizeof(itl_val) : sizeof(itl_val);
    if (take_count(c, &n) || (kind == K_MAP && !W.map_uninit))
        return -1;
    (kind == K_LIST ? W.list_uninit : kind == K_TUPLE ? W.tuple_uninit
     : kind == K_RECORD ? W.record_uninit : kind == K_MAP ? W.map_uninit
     : W.flags_uninit)(&out->of.vec, n);
    if (n)
        memset(out->of.vec.data, 0, n * elem); /* all-zero elements are valid (false, empty) */
    out->kind = kind;
    for (uint32_t i = 0; i < n; i++) {
        if (kind == K_FLAGS) {
            if (take_name(c, &d, &len))
                return -1;
            W.byte_vec_new(&((itl_name *)out->of.vec.data)[i], len, d);
        } else if (kind == K_RECORD) {
            itl_entry *e = &((itl_entry *)out->of.vec.data)[i];
            if (take_name(c, &d, &len))
                return -1;
            W.byte_vec_new(&e->name, len, d);
            if (build(c, &e->val))
                return -1;
        } else if (kind == K_MAP) {
            itl_val *pair = &((itl_val *)out->of.vec.data)[2 * i];
            if (build(c, &pair[0]) || build(c, &pair[1]))
                return -1;
        } else if (build(c, &((itl_val *)out->of.vec.data)[i])) {
            return -1;
        }
    }
    return 0;
}

/* Builds one value; on -1 (bad encoding) `out` is still a valid value to delete. */
static int build(cursor *c, itl_val *out) {
    uint8_t kind, flag, has;
    const uint8_t *d;
    uint32_t n;
    memset(out, 0, sizeof(*out));
    if (take(c, &kind, 1))
        return -1;
    if (kind <= K_CHAR) {
        if (take(c, &out->of, SCALAR_SIZE[kind]))
            return -1;
        if (kind == K_BOOL)
            out->of.boolean = out->of.u8 != 0;
        out->kind = kind;
        return 0;
    }
    switch (kind) {
    case K_STRING:
    case K_ENUM:
        if (take_name(c, &d, &n))
            return -1;
        W.byte_vec_new(&out->of.string, n, d);
        out->kind = kind;
        return 0;
    case K_LIST:
    case K_TUPLE:
    case K_RECORD:
    case K_FLAGS:
    case K_MAP:
        return build_vec(c, out, kind);
    case K_VARIANT:
        if (take_name(c, &d, &n) || take(c, &has, 1))
            return -1;
        W.byte_vec_new(&out->of.variant.discriminant, n, d);
        out->kind = kind;
        return has ? boxed(c, &out->of.variant.val) : 0;
    case K_OPTION:
        if (take(c, &has, 1))
            return -1;
        out->kind = kind;
        return has ? boxed(c, &out->of.option) : 0;
    case K_RESULT:
        if (take(c, &flag, 1) || take(c, &has, 1))
            return -1;
        out->kind = kind;
        out->of.result.is_ok = flag != 0;
        return has ? boxed(c, &out->of.result.val) : 0;
    case K_RESOURCE:
        return build_handle(c, out);
    }
    return -1;
}

/* ---- comparing a value with its encoding (0 equal, 1 different, -1 bad encoding) ---------- */
static int same_name(cursor *c, const itl_name *have) {
    const uint8_t *d;
    uint32_t n;
    if (take_name(c, &d, &n))
        return -1;
    return have->size == n && (n == 0 || memcmp(have->data, d, n) == 0) ? 0 : 1;
}

static int cmp(cursor *c, const itl_val *v);

static int cmp_box(cursor *c, uint8_t has, const itl_val *v) {
    if ((has != 0) != (v != NULL))
        return 1;
    return has ? cmp(c, v) : 0;
}

static int cmp_float(uint64_t want, uint64_t have, int bits) {
    uint64_t exp = bits == 32 ? 0x7f800000u : 0x7ff0000000000000u;
    uint64_t frac = bits == 32 ? 0x007fffffu : 0x000fffffffffffffu;
    bool nan_w = (want & exp) == exp && (want & frac), nan_h = (have & exp) == exp && (have & frac);
    if (nan_w || nan_h) /* any NaN equals any NaN (itfuzz.model.values) */
        return nan_w && nan_h ? 0 : 1;
    return want == have ? 0 : 1;
}

static int cmp(cursor *c, const itl_val *v) {
    uint8_t kind, a, b;
    uint32_t n;
    int r;
    if (take(c, &kind, 1))
        return -1;
    if (kind != v->kind)
        return 1;
    if (kind <= K_CHAR) {
        uint64_t want = 0, have = 0;
        if (take(c, &want, SCALAR_SIZE[kind]))
            return -1;
        if (kind == K_BOOL)
            return (want != 0) != v->of.boolean;
        memcpy(&have, &v->of, SCALAR_SIZE[kind]);
        if (kind == K_F32 || kind == K_F64)
            return cmp_float(want, have, kind == K_F32 ? 32 : 64);
        return want != have;
    }
    switch (kind) {
    case K_STRING:
    case K_ENUM:
        return same_name(c, &v->of.string);
    case K_LIST:
    case K_TUPLE:
    case K_RECORD:
    case K_MAP:
        if (take(c, &n, 4))
            return -1;
        if (n != v->of.vec.size)
            return 1;
        for (uint32_t i = 0; i < n; i++) {
            if (kind == K_RECORD) {
                const itl_entry *e = &((const itl_entry *)v->of.vec.data)[i];
                if ((r = same_name(c, &e->name)) || (r = cmp(c, &e->val)))
                    return r;
            } else if (kind == K_MAP) {
                const itl_val *pair = &((const itl_val *)v->of.vec.data)[2 * i];
                if ((r = cmp(c, &pair[0])) || (r = cmp(c, &pair[1])))
                    return r;
            } else if ((r = cmp(c, &((const itl_val *)v->of.vec.data)[i]))) {
                return r;
            }
        }
        return 0;
    case K_FLAGS: { /* a set: every expected label present, no others */
        const itl_name *have = v->of.vec.data;
        if (take(c, &n, 4))
            return -1;
        if (n != v->of.vec.size)
            return 1;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *d;
            uint32_t len;
            bool found = false;
            if (take_name(c, &d, &len))
                return -1;
            for (size_t j = 0; j < n && !found; j++)
                found = have[j].size == len && (len == 0 || memcmp(have[j].data, d, len) == 0);
            if (!found)
                return 1;
        }
        return 0;
    }
    case K_VARIANT:
        if ((r = same_name(c, &v->of.variant.discriminant)))
            return r;
        if (take(c, &a, 1))
            return -1;
        return cmp_box(c, a, v->of.variant.val);
    case K_OPTION:
        if (take(c, &a, 1))
            return -1;
        return cmp_box(c, a, v->of.option);
    case K_RESULT:
        if (take(c, &a, 1) || take(c, &b, 1))
            return -1;
        if ((a != 0) != v->of.result.is_ok)
            return 1;
        return cmp_box(c, b, v->of.result.val);
    case K_RESOURCE:
        return cmp_handle(c, v);
    }
    return -1;
}

/* ---- dumping a value back into the encoding (for reports) ---------------------------------- */
static void put(itl_state *st, const void *src, size_t n) {
    if (st->out_len + n > st->out_cap) {
        size_t cap = st->out_cap ? st->out_cap : 256;
        while (cap < st->out_len + n)
            cap *= 2;
        st->out = realloc(st->out, cap);
        st->out_cap = cap;
    }
    memcpy(st->out + st->out_len, src, n);
    st->out_len += n;
}

static void put_u8(itl_state *st, uint8_t b) { put(st, &b, 1); }

static void put_u32(itl_state *st, size_t n) {
    uint32_t v = (uint32_t)n;
    put(st, &v, 4);
}

static void put_name(itl_state *st, const itl_name *n) {
    put_u32(st, n->size);
    put(st, n->data, n->size);
}

static void dump(itl_state *st, const itl_val *v);

static void dump_box(itl_state *st, const itl_val *v) {
    put_u8(st, v != NULL);
    if (v)
        dump(st, v);
}

static void dump(itl_state *st, const itl_val *v) {
    put_u8(st, v->kind);
    if (v->kind <= K_CHAR) {
        put(st, &v->of, SCALAR_SIZE[v->kind]);
        return;
    }
    switch (v->kind) {
    case K_STRING:
    case K_ENUM:
        put_name(st, &v->of.string);
        return;
    case K_LIST:
    case K_TUPLE:
    case K_RECORD:
    case K_FLAGS:
    case K_MAP:
        put_u32(st, v->of.vec.size);
        for (size_t i = 0; i < v->of.vec.size; i++) {
            if (v->kind == K_MAP) {
                dump(st, &((const itl_val *)v->of.vec.data)[2 * i]);
                dump(st, &((const itl_val *)v->of.vec.data)[2 * i + 1]);
            } else if (v->kind == K_FLAGS) {
                put_name(st, &((const itl_name *)v->of.vec.data)[i]);
            } else if (v->kind == K_RECORD) {
                const itl_entry *e = &((const itl_entry *)v->of.vec.data)[i];
                put_name(st, &e->name);
                dump(st, &e->val);
            } else {
                dump(st, &((const itl_val *)v->of.vec.data)[i]);
            }
        }
        return;
    case K_VARIANT:
        put_name(st, &v->of.variant.discriminant);
        dump_box(st, v->of.variant.val);
        return;
    case K_OPTION:
        dump_box(st, v->of.option);
        return;
    case K_RESULT:
        put_u8(st, v->of.result.is_ok);
        dump_box(st, v->of.result.val);
        return;
    case K_RESOURCE: {
        const itl_handle *h = received(st, v, 0);
        put_u8(st, h->own);
        put_u32(st, h->type);
        put_u32(st, h->rep);
        return;
    }
    }
}

/* ---- planted faults (tests only): the first string shortened / two list elements swapped -- */
static bool plant(itl_val *v, int fault) {
    switch (v->kind) {
    case K_STRING:
        if (fault == ITL_FAULT_TRUNCATE && v->of.string.size > 0) {
            itl_name shorter;
            W.byte_vec_new(&shorter, v->of.string.size - 1, v->of.string.data);
            W.byte_vec_delete(&v->of.string);
            v->of.string = shorter;
            return true;
        }
        return false;
    case K_LIST:
    case K_TUPLE:
        if (fault == ITL_FAULT_SWAP && v->kind == K_LIST && v->of.vec.size >= 2) {
            itl_val *e = v->of.vec.data, t = e[0];
            e[0] = e[1];
            e[1] = t;
            return true;
        }
        for (size_t i = 0; i < v->of.vec.size; i++)
            if (plant(&((itl_val *)v->of.vec.data)[i], fault))
                return true;
        return false;
    case K_RECORD:
        for (size_t i = 0; i < v->of.vec.size; i++)
            if (plant(&((itl_entry *)v->of.vec.data)[i].val, fault))
                return true;
        return false;
    case K_VARIANT:
        return v->of.variant.val && plant(v->of.variant.val, fault);
    case K_OPTION:
        return v->of.option && plant(v->of.option, fault);
    case K_RESULT:
        return v->of.result.val && plant(v->of.result.val, fault);
    }
    return false;
}

/* ---- errors ------------------------------------------------------------------------------- */
static void take_error(itl_state *st, void *err) {
    itl_name msg;
    W.error_message(err, &msg);
    st->out_len = 0;
    put(st, msg.data, msg.size);
    W.byte_vec_delete(&msg);
    W.error_delete(err);
}

/* ---- host resources: destructors that log, the checks after a call ------------------------ */
static void log_dtor(itl_state *st, uint32_t resource, uint32_t rep) {
    if (st->ndtors == st->dtors_cap) {
        st->dtors_cap = st->dtors_cap ? 2 * st->dtors_cap : 8;
        st->dtors = xrealloc(st->dtors, 2 * st->dtors_cap * sizeof(uint32_t));
    }
    st->dtors[2 * st->ndtors] = resource;
    st->dtors[2 * st->ndtors + 1] = rep;
    st->ndtors++;
}

typedef struct { itl_state *st; uint32_t resource; } dtor_env;

static void *host_dtor(void *env, void *ctx, uint32_t rep) {
    dtor_env *e = env;
    (void)ctx;
    log_dtor(e->st, e->resource, rep);
    if (e->st->fault == ITL_FAULT_DTOR_TWICE)
        log_dtor(e->st, e->resource, rep);
    return NULL;
}

int itl_add_resources(void *linker, itl_state *st, uint32_t n) {
    void *root = W.linker_root(linker), *err = NULL;
    for (uint32_t i = 0; i < n && !err; i++) {
        char name[16];
        int len = snprintf(name, sizeof(name), "r%u", i);
        dtor_env *e = xrealloc(NULL, sizeof(*e));
        *e = (dtor_env){st, i};
        void *ty = W.res_type_new_host(st->type_base + i);
        err = W.linker_add_resource(root, name, (size_t)len, ty, host_dtor, e, free);
        W.res_type_delete(ty);
    }
    W.linker_instance_delete(root);
    if (err) {
        take_error(st, err);
        return ITL_ERROR;
    }
    return ITL_OK;
}

void itl_use_consumers(itl_state *st, const itl_instance *inst, uint32_t n) {
    st->consume = xrealloc(st->consume, n * sizeof(itl_func));
    st->has_consume = xrealloc(st->has_consume, n);
    memset(st->has_consume, 0, n ? n : 1);
    st->nconsume = n;
    st->consume_inst = *inst;
}

static int check_failed(itl_state *st, int check, size_t index, uint32_t got) {
    st->check = check;
    st->fail_index = index;
    st->check_got = got;
    return ITL_HANDLES;
}

/* A call the checks make failed (its message in `out`): wasmtime-py's lane would raise it. */
static int call_failed(itl_state *st, const char *why) {
    if (why) {
        st->out_len = 0;
        put(st, why, strlen(why));
    }
    return check_failed(st, ITL_CK_CALL_ERROR, 0, 0);
}

static int gr_state(itl_state *st, void *ctx, uint32_t *count, uint32_t *sum) {
    int r = itl_counter(st->gr_count, ctx, count, st);
    if (r == ITL_OK)
        r = itl_counter(st->gr_sum, ctx, sum, st);
    return r == ITL_RESULT ? call_failed(st, "itfuzz: a gr-dtor counter is not a u32")
           : r != ITL_OK ? call_failed(st, NULL) : ITL_OK;
}

/* Whether a (cloned) host handle still names a live entry of the host's table. */
static bool still_valid(void *ctx, const void *clone) {
    void *h = NULL, *err = W.res_any_to_host(ctx, clone, &h);
    if (err) {
        W.error_delete(err);
        return false;
    }
    W.res_host_delete(h);
    return true;
}

/* Whether the host can drop the handle (false: Wasmtime refused). */
static bool drops(void *ctx, const void *clone) {
    void *err = W.res_any_drop(ctx, clone);
    if (err) {
        W.error_delete(err);
        return false;
    }
    return true;
}

/* The guest drops an own of host resource `rN` through its `consume-rN`. */
static int consume(itl_state *st, void *ctx, uint32_t resource, uint32_t rep) {
    if (resource >= st->nconsume)
        return call_failed(st, "itfuzz: no consume export for this resource");
    if (!st->has_consume[resource]) {
        char name[24];
        int len = snprintf(name, sizeof(name), "consume-r%u", resource);
        bool ok = itl_get_func(&st->consume_inst, ctx, name, (size_t)len,
                               &st->consume[resource]) == ITL_OK;
        st->has_consume[resource] = ok ? 1 : 2;
    }
    if (st->has_consume[resource] != 1)
        return call_failed(st, "itfuzz: no consume export for this resource");
    void *any = host_any(st, true, st->type_base + resource, rep);
    if (!any)
        return call_failed(st, NULL);
    itl_val arg;
    memset(&arg, 0, sizeof(arg));
    arg.kind = K_RESOURCE;
    arg.of.resource = any;
    const itl_func *f = &st->consume[resource];
    void *err = W.func_call(f, ctx, &arg, 1, NULL, 0);
    if (!err && W.func_post_return)
        err = W.func_post_return(f, ctx);
    W.val_delete(&arg);
    if (err) {
        take_error(st, err);
        return call_failed(st, NULL);
    }
    return ITL_OK;
}

#define MAX_CONSUMED 8 /* owns dropped through the guest per call (as wasmtime-py's lane) */

/* The guest resource `gr`'s checks (oracles/guest_handles.py says what each means). */
static int check_gr(itl_state *st, void *ctx) {
    uint32_t count, sum, count2, sum2, want = 0;
    int r = gr_state(st, ctx, &count, &sum);
    if (r)
        return r;
    if (count - st->gr_before_count != st->gr_owns)
        return check_failed(st, ITL_CK_GR_INCALL_COUNT, 0, count - st->gr_before_count);
    if (sum - st->gr_before_sum != st->gr_owns_sum)
        return check_failed(st, ITL_CK_GR_INCALL_REPS, 0, sum - st->gr_before_sum);
    for (size_t i = 0; i < st->nhandles; i++)
        if (st->handles[i].what == ITL_GR_SENT && drops(ctx, st->handles[i].clone))
            return check_failed(st, ITL_CK_GR_NOT_MOVED, i, 0);
    if (st->fault == ITL_FAULT_LENT_DROPPED)
        for (size_t i = 0; i < st->nhandles; i++)
            if (st->handles[i].what == ITL_GR_LENT) {
                drops(ctx, st->handles[i].clone);
                break;
            }
    for (size_t i = 0; i < st->nhandles; i++) {
        itl_handle *h = &st->handles[i];
        if (h->what != ITL_GR_LENT)
            continue;
        itl_val arg, res;
        memset(&arg, 0, sizeof(arg));
        memset(&res, 0, sizeof(res));
        arg.kind = K_RESOURCE;
        arg.of.resource = h->clone; /* lent again (not deleted here) */
        if (!st->gr_rep)
            return call_failed(st, "itfuzz: no gr-rep export");
        if (call_gr(st, st->gr_rep, &arg, &res, false))
            return check_failed(st, ITL_CK_GR_LENDER_LOST, i, 0);
        uint32_t got = res.of.u32;
        bool u32 = res.kind == K_U32;
        W.val_delete(&res);
        if (!u32)
            return call_failed(st, "itfuzz: gr-rep did not return a u32");
        if (got != h->rep)
            return check_failed(st, ITL_CK_GR_LENDER_REP, i, got);
    }
    size_t n = 0;
    for (int pass = ITL_GR_LENT; pass <= ITL_GR_RECEIVED; pass++) /* lent, then received */
        for (size_t i = 0; i < st->nhandles; i++) {
            itl_handle *h = &st->handles[i];
            if (h->what != pass)
                continue;
            if (!drops(ctx, h->clone))
                return check_failed(st, ITL_CK_GR_DROP_REFUSED, i, 0);
            n++;
            want += h->rep;
        }
    if ((r = gr_state(st, ctx, &count2, &sum2)))
        return r;
    if (count2 - count != n)
        return check_failed(st, ITL_CK_GR_HOSTDROP_COUNT, 0, count2 - count);
    if (sum2 - sum != want)
        return check_failed(st, ITL_CK_GR_HOSTDROP_REPS, 0, sum2 - sum);
    return ITL_OK;
}

/* After a completed call (oracles/resources.py and oracles/guest_handles.py say what each
 * check means; wasmtime-py's lane runs the same checks in the same order). */
static int check_handles(itl_state *st, void *ctx) {
    int r;
    if (st->gr_count && (r = check_gr(st, ctx)))
        return r;
    for (size_t i = 0; i < st->nhandles; i++) {
        itl_handle *h = &st->handles[i];
        if (h->what == ITL_SENT && still_valid(ctx, h->clone))
            return check_failed(st, ITL_CK_NOT_MOVED, i, 0);
    }
    for (size_t i = 0; i < st->nhandles; i++) {
        itl_handle *h = &st->handles[i];
        if (h->what == ITL_BORROWED && h->clone && still_valid(ctx, h->clone))
            return check_failed(st, ITL_CK_BORROW_OUTLIVED, i, 0);
    }
    if (st->ndtors)
        return check_failed(st, ITL_CK_DTOR_WITHOUT_DROP, 0, (uint32_t)st->ndtors);
    size_t consumed = 0;
    for (size_t i = 0; i < st->nhandles && consumed < MAX_CONSUMED; i++) {
        itl_handle *h = &st->handles[i];
        if (h->what != ITL_RECEIVED)
            continue;
        consumed++;
        st->ndtors = 0;
        if ((r = consume(st, ctx, h->resource, h->rep)))
            return r;
        if (st->ndtors != 1 || st->dtors[0] != h->resource || st->dtors[1] != h->rep)
            return check_failed(st, ITL_CK_CONSUME_DTOR, i, (uint32_t)st->ndtors);
    }
    st->ndtors = 0;
    return ITL_OK;
}

/* ---- the host function `g` ------------------------------------------------------------------ */
static void *host_g(void *env, void *ctx, const void *ty, itl_val *args, size_t nargs,
                    itl_val *results, size_t nresults) {
    itl_state *st = env;
    cursor c = {st->args, st->args + st->args_len, st, 0, false};
    if (st->host_args)
        c.end = (c.p = st->host_args) + st->host_args_len;
    (void)ty;
    st->ctx = ctx; /* handles are converted in the host's store context */
    st->handles_from = st->nhandles;
    st->out_len = 0;
    if (st->fault == ITL_FAULT_DTOR_EXTRA)
        log_dtor(st, 0, 0x5a5a);
    if (++st->count > 1) {
        st->failure = ITL_HOST_TWICE;
        return W.error_new("itfuzz: host ran more than once");
    }
    if (nargs != st->nargs || nresults != st->nresults) {
        st->failure = ITL_HOST_COUNTS;
        st->fail_index = nargs;
        return W.error_new("itfuzz: wrong argument or result count");
    }
    for (size_t i = 0; i < nargs; i++) {
        int r = cmp(&c, &args[i]);
        if (r) {
            st->failure = r < 0 ? ITL_BAD_ENCODING : ITL_HOST_ARG;
            st->fail_index = i;
            for (size_t j = 0; j < nargs; j++)
                dump(st, &args[j]);
            return W.error_new("itfuzz: host saw a different argument");
        }
    }
    c.p = st->ret;
    c.end = st->ret + st->ret_len;
    c.where = ITL_FAULT_IN_RESULT;
    for (size_t i = 0; i < nresults; i++) {
        if (build(&c, &results[i])) {
            if (st->failure != ITL_ERROR)
                st->failure = ITL_BAD_ENCODING;
            return W.error_new("itfuzz: bad result encoding");
        }
        if (st->fault_where == ITL_FAULT_IN_RESULT)
            plant(&results[i], st->fault);
    }
    return NULL;
}

/* ---- linker, instance, calls ---------------------------------------------------------------- */
/* A linker whose root defines the host import `g` as `fn` (with `env`); NULL with the error
 * in `st` when Wasmtime refuses it. */
static void *linker_with_g(const void *engine, itl_state *st, itl_host_fn fn, void *env) {
    void *linker = W.linker_new(engine);
    void *root = W.linker_root(linker);
    void *err = W.linker_add_func(root, "g", 1, fn, env, NULL);
    W.linker_instance_delete(root);
    if (err) {
        take_error(st, err);
        W.linker_delete(linker);
        return NULL;
    }
    return linker;
}

void *itl_linker(const void *engine, itl_state *st) {
    return linker_with_g(engine, st, host_g, st);
}

void itl_linker_delete(void *linker) { W.linker_delete(linker); }

int itl_instantiate(const void *linker, void *ctx, const void *component, itl_instance *out,
                    itl_state *st) {
    void *err = W.linker_instantiate(linker, ctx, component, out);
    if (err) {
        take_error(st, err);
        return ITL_ERROR;
    }
    return ITL_OK;
}

int itl_get_func(const itl_instance *inst, void *ctx, const char *name, size_t len,
                 itl_func *out) {
    void *index = W.export_index(inst, ctx, NULL, name, len);
    if (!index)
        return ITL_ERROR;
    bool ok = W.instance_get_func(inst, ctx, index, out);
    W.export_index_delete(index);
    return ok ? ITL_OK : ITL_ERROR;
}

static void delete_vals(itl_val *vals, size_t n) {
    for (size_t i = 0; i < n; i++)
        W.val_delete(&vals[i]);
    free(vals);
}

int itl_call(itl_state *st, const itl_func *f, void *ctx, const uint8_t *args, size_t args_len,
             size_t nargs, const uint8_t *ret, size_t ret_len, size_t nresults) {
    cursor c = {args, args + args_len, st, ITL_FAULT_IN_ARGS, false};
    itl_val *argv = calloc(nargs ? nargs : 1, sizeof(itl_val));
    itl_val *resv = calloc(nresults ? nresults : 1, sizeof(itl_val));
    st->args = args;
    st->args_len = args_len;
    st->ret = ret;
    st->ret_len = ret_len;
    st->nargs = nargs;
    st->nresults = nresults;
    st->count = 0;
    st->failure = ITL_OK;
    st->out_len = 0;
    st->ctx = ctx;
    forget_handles(st);
    st->ndtors = 0;
    st->check = ITL_CK_NONE;
    st->gr_owns = st->gr_owns_sum = 0;
    if (st->check_handles && st->gr_count) {
        int r = gr_state(st, ctx, &st->gr_before_count, &st->gr_before_sum);
        if (r) {
            free(argv);
            free(resv);
            return r;
        }
    }
    for (size_t i = 0; i < nargs; i++) {
        if (build(&c, &argv[i])) {
            delete_vals(argv, nargs);
            free(resv);
            return st->failure == ITL_ERROR ? ITL_ERROR : ITL_BAD_ENCODING;
        }
        if (st->fault_where == ITL_FAULT_IN_ARGS)
            plant(&argv[i], st->fault);
    }
    void *err = W.func_call(f, ctx, argv, nargs, resv, nresults);
    st->ctx = ctx;
    delete_vals(argv, nargs);
    if (err) {
        free(resv);
        if (st->failure != ITL_OK) {
            W.error_delete(err);
            return st->failure;
        }
        take_error(st, err);
        return ITL_ERROR;
    }
    /* post-return first, as wasmtime-py's lane does (and `gr-rep` may need to enter the instance
       while the results are compared) */
    if (W.func_post_return && (err = W.func_post_return(f, ctx))) {
        delete_vals(resv, nresults);
        take_error(st, err);
        return ITL_POST_RETURN_ERROR;
    }
    int status = ITL_OK;
    if (st->count != 1) {
        status = ITL_HOST_COUNT;
    } else {
        c.p = st->f_ret ? st->f_ret : ret;
        c.end = st->f_ret ? st->f_ret + st->f_ret_len : ret + ret_len;
        c.where = 0;
        st->handles_from = st->nhandles;
        for (size_t i = 0; i < nresults && status == ITL_OK; i++) {
            int r = cmp(&c, &resv[i]);
            if (r) {
                status = r < 0 ? ITL_BAD_ENCODING : ITL_RESULT;
                for (size_t j = 0; j < nresults; j++)
                    dump(st, &resv[j]);
            }
        }
    }
    delete_vals(resv, nresults);
    if (status == ITL_OK) {
        st->calls_done++;
        for (size_t i = 0; i < st->ncounters; i++) {
            uint32_t got;
            int r = itl_counter(st->counter[i], ctx, &got, st);
            if (r != ITL_OK)
                return r == ITL_RESULT ? ITL_COUNTER : ITL_POST_RETURN_ERROR;
            if (got != st->calls_done) {
                st->fail_index = i;
                st->count = (int)got;
                return ITL_COUNTER;
            }
        }
        if (st->check_handles)
            status = check_handles(st, ctx);
    }
    return status;
}

int itl_counter(const itl_func *f, void *ctx, uint32_t *out, itl_state *st) {
    itl_val res;
    memset(&res, 0, sizeof(res));
    void *err = W.func_call(f, ctx, NULL, 0, &res, 1);
    if (err) {
        take_error(st, err);
        return ITL_ERROR;
    }
    int status = res.kind == K_U32 ? ITL_OK : ITL_RESULT;
    *out = res.of.u32;
    W.val_delete(&res);
    if (status == ITL_OK && W.func_post_return && (err = W.func_post_return(f, ctx))) {
        take_error(st, err);
        return ITL_POST_RETURN_ERROR;
    }
    return status;
}

void itl_state_free_out(itl_state *st) {
    free(st->out);
    st->out = NULL;
    st->out_len = st->out_cap = 0;
    forget_handles(st);
    free(st->handles);
    st->handles = NULL;
    st->handles_cap = 0;
    free(st->dtors);
    st->dtors = NULL;
    st->ndtors = st->dtors_cap = 0;
    free(st->consume);
    free(st->has_consume);
    st->consume = NULL;
    st->has_consume = NULL;
    st->nconsume = 0;
}

/* ---- the benchmark's baseline: a bare u32 echo (no encoding, no checks) ------------------- */
static void *host_bare_echo(void *env, void *ctx, const void *ty, itl_val *args, size_t nargs,
                            itl_val *results, size_t nresults) {
    (void)env, (void)ctx, (void)ty;
    if (nargs == 1 && nresults == 1)
        results[0] = args[0]; /* a u32: nothing owned */
    return NULL;
}

void *itl_bare_linker(const void *engine, itl_state *st) {
    return linker_with_g(engine, st, host_bare_echo, NULL);
}

int itl_bare_call(const itl_func *f, void *ctx, uint32_t v, uint32_t *out) {
    itl_val arg, res;
    memset(&arg, 0, sizeof(arg));
    memset(&res, 0, sizeof(res));
    arg.kind = K_U32;
    arg.of.u32 = v;
    void *err = W.func_call(f, ctx, &arg, 1, &res, 1);
    if (err) {
        W.error_delete(err);
        return ITL_ERROR;
    }
    *out = res.of.u32;
    if (W.func_post_return && (err = W.func_post_return(f, ctx))) {
        W.error_delete(err);
        return ITL_ERROR;
    }
    return ITL_OK;
}
