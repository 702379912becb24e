"""Component text for a signature (single shape): the export `f` forwards to the host import `g`.

Layout (shared/reference/canonical-abi.md §6): a `libc` core module (memory, bump `realloc` that
honours alignment and grows memory, `reset` as post-return), `canon lower` of `g`, a core module
that forwards the flat params (or the spill pointer) and a return pointer when the result does
not fit flat, and `canon lift` of `f`. Named types are defined, then imported with `eq`.
"""
from __future__ import annotations

from .case import Signature
from .types import align_to

RETBUF = 16  # return area of `f`/`g`, 8-aligned; the heap starts after it


def heap_base(sig: Signature) -> int:
    size = sig.result.size if sig.uses_retptr else 0
    return max(1024, align_to(RETBUF + size, 16))


def libc_module(sig: Signature) -> str:
    base = heap_base(sig)
    pages = base // 65536 + 1
    reset_params = " ".join(core_results(sig))
    reset_params = f" (param {reset_params})" if reset_params else ""
    return f"""  (core module $Libc
    (memory (export "memory") {pages})
    (global $top (mut i32) (i32.const {base}))
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
      (global.set $top (i32.const {base}))))
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
    body = [f"(local.get {i})" for i in range(len(params))]
    if sig.uses_retptr:
        body.append(f"(i32.const {RETBUF})")
    body.append("(call $g)")
    if sig.uses_retptr:
        body.append(f"(i32.const {RETBUF})")
    return f"""  (core module $Main
    (import "libc" "memory" (memory 1))
    (import "host" "g" (func $g{_core_sig(g_params, g_results)}))
    (func (export "f"){_core_sig(params, core_results(sig))}
      {' '.join(body)}))"""


def func_type(sig: Signature) -> str:
    names = sig.names
    parts = [f'(param "{n}" {t.comp(names)})' for n, t in sig.params]
    if sig.result is not None:
        parts.append(f"(result {sig.result.comp(names)})")
    return " ".join(parts)


def options(sig: Signature) -> str:
    return ('(memory (core memory $libc "memory")) (realloc (core func $libc "realloc")) '
            f"string-encoding={sig.encoding}")


def component_text(sig: Signature) -> str:
    """The whole component as WAT text."""
    decls = sig.names.component_decls()
    return "\n".join(filter(None, [
        "(component",
        decls,
        f'  (import "g" (func $g {func_type(sig)}))',
        libc_module(sig),
        f"  (core func $g_low (canon lower (func $g) {options(sig)}))",
        main_module(sig),
        """  (core instance $main (instantiate $Main
      (with "libc" (instance $libc))
      (with "host" (instance (export "g" (func $g_low))))))""",
        f'  (func $f {func_type(sig)}\n'
        f'    (canon lift (core func $main "f") {options(sig)}\n'
        f'      (post-return (core func $libc "reset"))))',
        '  (export "f" (func $f))',
        ")",
    ]))
