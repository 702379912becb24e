/* Types of the itfuzz C-API lane: Wasmtime's component value types as its C API documents them
 * (wasmtime/component/val.h: a one-byte kind and a union; vectors are size + data), and the
 * lane's per-component state. Checked against wasmtime-py's ctypes at start-up (layout.py). */
#ifndef ITFUZZ_LANE_H
#define ITFUZZ_LANE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct { size_t size; uint8_t *data; } itl_name;          /* wasm_name_t */
typedef struct { size_t size; void *data; } itl_vec;              /* the *_vallist_t family */
struct itl_val;
typedef struct { itl_name discriminant; struct itl_val *val; } itl_variant;
typedef struct { bool is_ok; struct itl_val *val; } itl_result;
typedef union {
    bool boolean; int8_t s8; uint8_t u8; int16_t s16; uint16_t u16; int32_t s32; uint32_t u32;
    int64_t s64; uint64_t u64; float f32; double f64; uint32_t character;
    itl_name string;      /* also enumeration */
    itl_vec vec;          /* list, record, tuple, flags, map */
    itl_variant variant;
    struct itl_val *option;
    itl_result result;
    void *resource;
} itl_valunion;
typedef struct itl_val { uint8_t kind; itl_valunion of; } itl_val;
typedef struct { itl_name name; itl_val val; } itl_entry;         /* record entry */
/* wasmtime_component_func_t and _instance_t: only passed by pointer, sizes checked. */
typedef struct { uint64_t store_id; uint32_t private1; } itl_store_ref;
typedef struct { itl_store_ref ref; uint32_t private2; void *private3; } itl_func;
typedef struct { uint64_t store_id; uint32_t private1; } itl_instance;

typedef void *(*itl_host_fn)(void *, void *, const void *, itl_val *, size_t, itl_val *, size_t);

/* statuses of itl_call and friends; the host's failures are kept in itl_state.failure */
enum {
    ITL_OK, ITL_ERROR, ITL_BAD_ENCODING, ITL_HOST_ARG, ITL_HOST_COUNTS, ITL_HOST_TWICE,
    ITL_HOST_COUNT, ITL_RESULT, ITL_POST_RETURN_ERROR, ITL_COUNTER, ITL_HANDLES,
};
enum {
    ITL_FAULT_NONE, ITL_FAULT_TRUNCATE, ITL_FAULT_SWAP,
    /* resource faults (the first handle built): another rep, an extra own kept as sent / as a
       received borrow */
    ITL_FAULT_REP, ITL_FAULT_KEEP_OWN, ITL_FAULT_KEEP_BORROW,
    /* destructor faults: each host destructor run logged twice; one run logged while `g` runs;
       the first own<gr> the host lent is dropped after the call, before the lender checks */
    ITL_FAULT_DTOR_TWICE, ITL_FAULT_DTOR_EXTRA, ITL_FAULT_LENT_DROPPED,
};
/* the failed handle check after a call (status ITL_HANDLES; itl_state.check); `fail_index` is
   the record (itl_state.handles) it concerns, `check_got` what was seen (a count, a rep, a rep
   sum mod 2**32); GR_*: the guest's `gr` */
enum {
    ITL_CK_NONE, ITL_CK_GR_INCALL_COUNT, ITL_CK_GR_INCALL_REPS, ITL_CK_GR_NOT_MOVED,
    ITL_CK_GR_LENDER_LOST, ITL_CK_GR_LENDER_REP, ITL_CK_GR_DROP_REFUSED,
    ITL_CK_GR_HOSTDROP_COUNT, ITL_CK_GR_HOSTDROP_REPS, ITL_CK_NOT_MOVED, ITL_CK_BORROW_OUTLIVED,
    ITL_CK_DTOR_WITHOUT_DROP, ITL_CK_CONSUME_DTOR, ITL_CK_CALL_ERROR,
};
/* what a handle record says (itl_handle.what); ITL_GR_*: the guest's resource `gr` (own sent,
   own lent as a borrow, own received; `clone` names the handle, `type` is ITL_GR_TYPE) */
enum { ITL_SENT = 1, ITL_BORROWED = 2, ITL_RECEIVED = 3, ITL_GR_SENT = 4, ITL_GR_LENT = 5,
       ITL_GR_RECEIVED = 6 };

/* A resource handle that crossed during a call: an own the host made and sent (SENT: `clone`
 * names it, it must be gone after the call), a borrow the host got (BORROWED: `clone`, it must
 * have ended), an own the host got and took out of its table (RECEIVED). `val_any` is the
 * handle in the value tree (looked up when dumping); `type` is the host type, or
 * 0xffffffff when Wasmtime refused to convert it. */
typedef struct {
    int what; bool own; uint32_t resource, type, rep;
    const void *val_any; void *clone;
} itl_handle;
enum { ITL_FAULT_IN_ARGS = 1, ITL_FAULT_IN_RESULT = 2 };

typedef struct {
    /* during a call: what the host must see and return */
    const uint8_t *args; size_t args_len; size_t nargs;
    const uint8_t *ret; size_t ret_len; size_t nresults;
    int count;          /* host runs in this call */
    int failure;        /* the host's failed check (ITL_HOST_*), or ITL_OK */
    size_t fail_index;  /* which argument (or the count the host got) */
    /* dumped values (args the host saw, results f gave) or an error message */
    uint8_t *out; size_t out_len; size_t out_cap;
    int fault; int fault_where;  /* planted faults (tests) */
    /* post-return counters checked after each completed call: counter i must equal calls_done
       (ITL_COUNTER: fail_index is the counter, count its value) */
    const itl_func *counter[2]; size_t ncounters; uint32_t calls_done;
    /* resource handles: host types are type_base + N for `rN`; the handles of the last call
       (their clones are released at the next call) */
    void *ctx; uint32_t type_base;
    itl_handle *handles; size_t nhandles, handles_cap;
    size_t handles_from; /* the records of the values alive now (the host's args, f's results) */
    /* the guest resource `gr` in f's types: its `gr-new` and `gr-rep` exports (NULL: none);
       what `g` must see when that differs from f's arguments, and what f must return when
       that differs from what `g` returns (`g` has the reps as u32; NULL: the same) */
    const itl_func *gr_new, *gr_rep;
    const uint8_t *host_args; size_t host_args_len;
    const uint8_t *f_ret; size_t f_ret_len;
    /* the handle checks after each completed call of itl_call: on when `check_handles`; `gr`'s
       destructor counters (NULL: no `gr`), its state before the call and the owns sent; the
       host destructors' runs (resource, rep) since the call began; the `consume-rN` exports
       of `consume_inst`, looked up when first needed (has_consume: 0 not yet, 1 found, 2 not
       there) */
    bool check_handles;
    const itl_func *gr_count, *gr_sum;
    uint32_t gr_before_count, gr_before_sum, gr_owns, gr_owns_sum;
    uint32_t *dtors; size_t ndtors, dtors_cap;
    itl_instance consume_inst; itl_func *consume; uint8_t *has_consume; size_t nconsume;
    int check; uint32_t check_got;
} itl_state;

const char *itl_open(const char *path);
void itl_layout(size_t *out);
void *itl_linker(const void *engine, itl_state *st);
void itl_linker_delete(void *linker);
int itl_instantiate(const void *linker, void *ctx, const void *component, itl_instance *out,
                    itl_state *st);
int itl_get_func(const itl_instance *inst, void *ctx, const char *name, size_t len,
                 itl_func *out);
int itl_call(itl_state *st, const itl_func *f, void *ctx, const uint8_t *args, size_t args_len,
             size_t nargs, const uint8_t *ret, size_t ret_len, size_t nresults);
int itl_counter(const itl_func *f, void *ctx, uint32_t *out, itl_state *st);
void itl_state_free_out(itl_state *st);
/* resource support: whether the library has the resource functions */
bool itl_has_resources(void);
/* host resources `rN` (type type_base + N) for N < n in the linker's root, their destructors
   logging into `st`; the `consume-rN` exports of an instance (looked up once per instance) */
int itl_add_resources(void *linker, itl_state *st, uint32_t n);
void itl_use_consumers(itl_state *st, const itl_instance *inst, uint32_t n);
/* the benchmark's baseline: `g` a bare u32 echo; one call with no encoding and no checks */
void *itl_bare_linker(const void *engine, itl_state *st);
int itl_bare_call(const itl_func *f, void *ctx, uint32_t v, uint32_t *out);
#endif
