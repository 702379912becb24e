"""Component text for a signature: the export `f` forwards to the host import `g`.

Single shape (the calling convention of CanonicalABI.md in the WebAssembly/component-model
repository: §Flattening, §`canon lift`, §`canon lower`): a `libc` core module (memory, bump
`realloc` that honours alignment and grows memory, `reset` as post-return), `canon lower` of `g`,
a core module that forwards the flat params (or the spill pointer) and a return pointer when the
result does not fit flat, and `canon lift` of `f`. Named types are defined, then imported with `eq`.

Composed shape (Wasmtime's `component_api` fuzzer): the same forwarder twice as nested
components, each with its own `libc` memory and realloc. The callee imports the host's `g`; the
caller imports the callee's `f`; the outer component exports the caller's `f`. Each side has its
own string encoding, so the caller-to-callee call is a fused adapter that may transcode.

With `sig.count_post_return`, `reset` also counts its runs in a global, lifted as
`post-return-count: func() -> u32` (the callee's is re-exported as `callee-post-return-count`).

An engine configuration with custom page sizes runs the same text with one-byte pages
(`for_config`, `byte_pages`).
"""
from __future__ import annotations

import re
import textwrap

from itfuzz.generators import resource_code as rc
from itfuzz.model.case import Signature
from itfuzz.model.engine_config import EngineConfig
from itfuzz.model.resources import guest_as_u32, has_guest
from itfuzz.model.types import align_to

RETBUF = 16  # return area of `f`/`g`, 8-aligned; the heap starts after it
COUNT_EXPORT = "post-return-count"
CALLEE_COUNT_EXPORT = "callee-post-return-count"
COUNTER_GLOBAL = """
    (global $count (mut i32) (i32.const 0))
    (func (export "count") (result i32) (global.get $count))"""
COUNTER_BUMP = """
      (global.set $count (i32.add (global.get $count) (i32.const 1)))"""


def heap_base(sig: Signature) -> int:
    size = sig.result.size if sig.uses_retptr and sig.result is not None else 0
    return max(1024, align_to(RETBUF + size, 16))


def libc_module(sig: Signature) -> str:
    """The `libc` core module and its instance (the counter only with `count_post_return`)."""
    base = heap_base(sig)
    pages = base // 65536 + 1
    reset_params = " ".join(core_results(sig))
    reset_params = f" (param {reset_params})" if reset_params else ""
    return f"""  (core module $Libc
    (memory (export "memory") {pages})
    (global $top (mut i32) (i32.const {base})){COUNTER_GLOBAL if sig.count_post_return else ""}
    (func (export "realloc") (param $old i32) (param $osz i32) (param $al i32) (param $nsz i32) (result i32)
      (local $p i32)
      (if (i32.and (i32.ne (local.get $old) (i32.const 0)) (i32.le_u (local.get $nsz) (local.get $osz)))
        (then (return (local.get $old))))
      (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get $al) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $al))))
      (global.set $top (i32.add (local.get $p) (local.get $nsz)))
      (if (i32.lt_u (global.get $top) (local.get $p)) (then unreachable))
      (block $fits
        (loop $grow
          (br_if $fits (i32.le_u (global.get $top)
                                 (i32.shl (memory.size) (i32.const 16))))
          (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
          (br $grow)))
      (if (local.get $old)
        (then (memory.copy (local.get $p) (local.get $old) (local.get $osz))))
      (local.get $p))
    (func (export "reset"){reset_params}
      (global.set $top (i32.const {base})){COUNTER_BUMP if sig.count_post_return else ""}))
  (core instance $libc (instantiate $Libc))"""


def core_params(sig: Signature) -> tuple[str, ...]:
    return ("i32",) if sig.spills_params else sig.flat_params


def core_results(sig: Signature) -> tuple[str, ...]:
    return ("i32",) if sig.uses_retptr else sig.flat_results


def _core_sig(params, results) -> str:
    p = f" (param {' '.join(params)})" if params else ""
    r = f" (result {' '.join(results)})" if results else ""
    return p + r


def main_module(sig: Signature) -> str:
    params = core_params(sig)
    g_params = params + (("i32",) if sig.uses_retptr else ())
    g_results = () if sig.uses_retptr else sig.flat_results
    w = rc.Walker(sig.flat_params, len(params))
    body = rc.guest_params(sig, w)
    body += [f"(local.get {i})" for i in range(len(params))]
    if sig.uses_retptr:
        body.append(f"(i32.const {RETBUF})")
    body.append("(call $g)")
    body += rc.borrow_drops(sig, w)  # `g`'s result stays on the stack meanwhile
    body += rc.guest_result(sig, w, RETBUF)
    if sig.uses_retptr:
        body.append(f"(i32.const {RETBUF})")
    return f"""  (core module $Main
    (import "libc" "memory" (memory 1))
    (import "host" "g" (func $g{_core_sig(g_params, g_results)})){rc.drop_imports(sig)}{rc.guest_imports(sig)}
    (func (export "f"){_core_sig(params, core_results(sig))}{w.decl()}
      {' '.join(body)}){rc.consume_core_funcs(sig)}{rc.guest_take(sig)})"""


def func_type(sig: Signature, host: bool = False, g: bool = False) -> str:
    """The type of `f` and `g`; `host`: the host-facing form (`Signature.host_type`); `g`: with
    u32 for `gr` handles (`Signature.g_type`)."""
    names = sig.names
    form = sig.host_type if host else (lambda t: t)
    if g:
        form = sig.g_type if host else guest_as_u32
    parts = [f'(param "{n}" {form(t).comp(names)})' for n, t in sig.params]
    if sig.result is not None:
        parts.append(f"(result {form(sig.result).comp(names)})")
    return " ".join(parts)


def options(sig: Signature, encoding: str | None = None) -> str:
    return ('(memory (core memory $libc "memory")) (realloc (core func $libc "realloc")) '
            f"string-encoding={encoding or sig.encoding}")


def forwarder(sig: Signature, encoding: str, host_import: bool = False,
              host_export: bool = False) -> list[str]:
    """The body of a component that imports `g` and exports `f` forwarding to it; `host_import`
    / `host_export`: that side has the host-facing type (maps as lists; same canonical ABI)."""
    lines = [
        *rc.resource_imports(sig),
        sig.names.component_decls(has_guest),
        f'  (import "g" (func $g {func_type(sig, host_import, g=True)}))',
        libc_module(sig),
        f"  (core func $g_low (canon lower (func $g) {options(sig, encoding)}))",
        *rc.drop_funcs(sig),
        main_module(sig),
        f"""  (core instance $main (instantiate $Main
      (with "libc" (instance $libc))
      (with "host" (instance (export "g" (func $g_low)){rc.drop_exports(sig)}{rc.guest_exports(sig)}))))""",
        f'  (func $f {func_type(sig, host_export)}\n'
        f'    (canon lift (core func $main "f") {options(sig, encoding)}\n'
        f'      (post-return (core func $libc "reset"))))',
        '  (export "f" (func $f))',
        *rc.consume_exports(sig),
    ]
    if sig.count_post_return:
        lines += ['  (func $count (result u32) (canon lift (core func $libc "count")))',
                  f'  (export "{COUNT_EXPORT}" (func $count))']
    return lines


def composed(sig: Signature) -> list[str]:
    """The outer component's body: callee and caller forwarders, linked and re-exported."""
    caller, callee = sig.encoding_pair
    resources = [f"r{i}" for i in rc.resources(sig)]
    types = "".join(f' (with "{n}" (type ${n}))'
                    for n in resources + [sig.names.ref(t) for t in sig.names.order])
    lines = [*rc.resource_imports(sig), sig.names.component_decls(),
             f'  (import "g" (func $g {func_type(sig, True)}))']
    # The callee lowers the host's `g` and lifts `f` with the inner types; the caller lowers
    # those and lifts the host-facing `f`: maps cross the fused adapter only.
    for name, enc, host_side in (("$Callee", callee, (True, False)),
                                 ("$Caller", caller, (False, True))):
        body = "\n".join(filter(None, forwarder(sig, enc, *host_side)))
        lines += [f"  (component {name}", textwrap.indent(body, "  "), "  )"]
    lines += [f'  (instance $callee (instantiate $Callee{types} (with "g" (func $g))))',
              f'  (instance $caller (instantiate $Caller{types} (with "g" (func $callee "f"))))',
              '  (alias export $caller "f" (func $f))',
              '  (export "f" (func $f))']
    for name in (rc.CONSUME.format(i) for i in rc.resources(sig)):
        lines += [f'  (alias export $caller "{name}" (func ${name}))',
                  f'  (export "{name}" (func ${name}))']
    if sig.count_post_return:
        lines += [f'  (alias export $caller "{COUNT_EXPORT}" (func $count))',
                  f'  (export "{COUNT_EXPORT}" (func $count))',
                  f'  (alias export $callee "{COUNT_EXPORT}" (func $callee_count))',
                  f'  (export "{CALLEE_COUNT_EXPORT}" (func $callee_count))']
    return lines


def component_text(sig: Signature) -> str:
    """The whole component as WAT text (with the guest resource `gr` when a single-shape
    signature uses resources)."""
    body = composed(sig) if sig.shape == "composed" else forwarder(sig, sig.encoding)
    if sig.shape == "single" and (rc.resources(sig) or sig.guest):
        body = rc.guest_definition() + body + rc.guest_funcs()
    return "\n".join(filter(None, ["(component", *body, ")"]))


# The generated `libc` forms `byte_pages` rewrites (each must occur once per libc module).
_LIBC_MEMORY = re.compile(r'\(memory \(export "memory"\) (\d+)\)')
_PAGE_FORMS = (('(import "libc" "memory" (memory 1))',
                '(import "libc" "memory" (memory 1 (pagesize 1)))'),
               ("(i32.shl (memory.size) (i32.const 16))", "(memory.size)"),
               ("(memory.grow (i32.const 1))",
                "(memory.grow (i32.sub (global.get $top) (memory.size)))"))


def byte_pages(wat: str) -> str:
    """The same component with every `libc` memory in pages of one byte (the custom-page-sizes
    proposal, `(pagesize 1)`): same initial bytes, and `realloc` grows by exactly the bytes it
    lacks. Raises ValueError on text that is not a generated component."""
    n = len(_LIBC_MEMORY.findall(wat))
    if n == 0 or any(wat.count(old) != n for old, _ in _PAGE_FORMS):
        raise ValueError("not a generated component: its libc memories are not recognized")
    wat = _LIBC_MEMORY.sub(lambda m: f'(memory (export "memory") {int(m[1]) * 65536} (pagesize 1))',
                           wat)
    for old, new in _PAGE_FORMS:
        wat = wat.replace(old, new)
    return wat


def for_config(wat: str, config: EngineConfig | None) -> str:
    """The component text a configuration runs: byte-sized pages with custom page sizes on."""
    return byte_pages(wat) if config is not None and config.custom_page_sizes else wat
