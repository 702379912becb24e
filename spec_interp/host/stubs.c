/* C glue between the OCaml spec interpreter and Python (cffi API mode).
 *
 * Only bytes cross this layer (see PROTOCOL.md): Python hands a request to a function the OCaml
 * side registered with Callback.register and gets a malloc'd copy of the response back. Wasm
 * values travel inside those bytes as raw 64-bit patterns, never as C floats. The caller must
 * serialise every entry (the OCaml 4 runtime is not reentrant across threads). */
#define CAML_NAME_SPACE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <caml/alloc.h>
#include <caml/callback.h>
#include <caml/fail.h>
#include <caml/memory.h>
#include <caml/mlvalues.h>
#include <caml/printexc.h>

enum { ITF_TRAP = 4, ITF_INTERNAL = 6 };

/* Where a host callback leaves its response (set with itf_reply_set). */
typedef struct itf_reply {
  uint8_t *data;
  size_t len;
} itf_reply;

typedef void (*itf_host_fn)(uint32_t host_id, const uint8_t *args, size_t len, itf_reply *reply);

static itf_host_fn itf_host;
static int itf_started;

/* Starts the OCaml runtime once. OCaml installs a SIGSEGV handler (stack-overflow detection)
 * that does not chain; if a handler was already installed (Wasmtime's, whose traps need it, or
 * Python's faulthandler), that one is put back: the interpreter bounds its own call depth, so
 * it does not need OCaml's. Returns 1 if OCaml's handler is active. */
int itf_init(void) {
  static char progname[] = "itfuzz-spec";
  static char *argv[] = {progname, NULL};
  static int ocaml_segv;
  if (!itf_started) {
    struct sigaction before;
    sigaction(SIGSEGV, NULL, &before);
    caml_startup(argv);
    itf_started = 1;
    ocaml_segv = !(before.sa_flags & SA_SIGINFO) &&
                 (before.sa_handler == SIG_DFL || before.sa_handler == SIG_IGN);
    if (!ocaml_segv) sigaction(SIGSEGV, &before, NULL);
  }
  return ocaml_segv;
}

void itf_free(void *p) { free(p); }

void itf_set_host(itf_host_fn fn) { itf_host = fn; }

/* malloc'd "status byte + message" response. */
static uint8_t *status_msg(uint8_t status, const char *msg, size_t *out_len) {
  size_t n = strlen(msg);
  uint8_t *buf = malloc(n + 1);
  if (buf == NULL) return NULL;
  buf[0] = status;
  memcpy(buf + 1, msg, n);
  *out_len = n + 1;
  return buf;
}

/* Calls the OCaml function registered as `name` on the request bytes. On return 0, *resp holds a
 * malloc'd response (free it with itf_free); an OCaml exception becomes an internal-error
 * response. Returns -1 only when memory for the response cannot be allocated. */
int itf_call(const char *name, const uint8_t *req, size_t len, uint8_t **resp, size_t *resp_len) {
  CAMLparam0();
  CAMLlocal2(arg, res);
  const value *fn = caml_named_value(name);
  uint8_t *out;
  if (!itf_started || fn == NULL) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s", itf_started ? "no OCaml function registered" : "runtime not started", name);
    out = status_msg(ITF_INTERNAL, msg, resp_len);
  } else {
    arg = caml_alloc_initialized_string(len, (const char *)req);
    res = caml_callback_exn(*fn, arg);
    if (Is_exception_result(res)) {
      res = Extract_exception(res);
      char *text = caml_format_exception(res);
      char msg[1024];
      snprintf(msg, sizeof msg, "uncaught OCaml exception in %s: %s", name, text);
      caml_stat_free(text);
      out = status_msg(ITF_INTERNAL, msg, resp_len);
    } else {
      size_t n = caml_string_length(res);
      out = malloc(n ? n : 1);
      if (out != NULL) {
        memcpy(out, String_val(res), n);
        *resp_len = n;
      }
    }
  }
  *resp = out;
  CAMLreturnT(int, out == NULL ? -1 : 0);
}

/* Called by the host callback to hand back its response (copied). Returns -1 on OOM. */
int itf_reply_set(itf_reply *reply, const uint8_t *data, size_t len) {
  uint8_t *buf = malloc(len ? len : 1);
  if (buf == NULL) return -1;
  memcpy(buf, data, len);
  free(reply->data);
  reply->data = buf;
  reply->len = len;
  return 0;
}

/* OCaml `external itf_host_call : int -> string -> string`: forwards a host-function call to
 * Python. The callback may re-enter OCaml, so the argument bytes are copied out first. */
value itf_stub_host_call(value id, value args) {
  CAMLparam2(id, args);
  CAMLlocal1(out);
  size_t len = caml_string_length(args);
  uint8_t *copy = malloc(len ? len : 1);
  if (copy == NULL) caml_raise_out_of_memory();
  memcpy(copy, String_val(args), len);
  itf_reply reply = {NULL, 0};
  if (itf_host != NULL) itf_host((uint32_t)Long_val(id), copy, len, &reply);
  free(copy);
  if (reply.data == NULL) {
    static const char fallback[] = "\x04host function gave no result";
    out = caml_alloc_initialized_string(sizeof fallback - 1, fallback);
  } else {
    out = caml_alloc_initialized_string(reply.len, (const char *)reply.data);
    free(reply.data);
  }
  CAMLreturn(out);
}
