"""Component text of a hostile-guest case (`itfuzz.generators.hostile`).

The text depends only on the direction and the signature, never on the values: the input's
memory image, flat values and realloc answers reach the guest at run time through
``init(image: string, flat: string, answers: string)`` (hex strings, which Wasmtime passes in bulk;
a `list<u8>` of 64 KiB costs wasmtime-py ~35 ms). So value mutations reuse the compiled component.

Two core memories in `$Libc`: ``memory`` (one page, no growth: the guest memory under test) and
``scratch`` (the harness's: hex buffers, the flat values, the realloc answer table and log, the
flat params `f` received, and the report). ``report: func() -> string`` returns, hex-encoded,
the scratch bytes from `REPORT_START` to `REPORT_END`: the realloc call count, the flat params,
the realloc log, then a copy of the whole guest memory.
"""
from __future__ import annotations

import textwrap

from itfuzz.generators.components import func_type
from itfuzz.generators.hostile import BASE, MEMORY_SIZE, handed_types
from itfuzz.model.case import Signature

SCRATCH_PAGES = 16
COUNT_AT = 16          # u32: realloc calls so far
ANSWERS_N_AT = 20      # u32: answers in the table
PARAMS_AT = 64         # u64 × 16: the flat params `f` received (lower-args)
LOG_AT = 256           # 5 × u32 per realloc call: old, old size, align, new size, answer
MAX_LOG = 1024
ANSWERS_AT = 32768     # u32 per realloc call
FLAT_AT = 49152        # u64 × 16: the flat values the guest hands over (lift)
MEMORY_COPY_AT = 65536  # the guest memory, copied for the report
REPORT_START, REPORT_END = COUNT_AT, MEMORY_COPY_AT + MEMORY_SIZE
HEX_AT = 131072        # the report's hex text
HEAP_AT = 524288       # bump heap for init's strings


def _sig(params, results) -> str:
    p = f" (param {' '.join(params)})" if params else ""
    r = f" (result {' '.join(results)})" if results else ""
    return p + r


LIBC = f"""  (core module $Libc
    (memory (export "memory") {MEMORY_SIZE // 65536} {MEMORY_SIZE // 65536})
    (memory $scratch (export "scratch") {SCRATCH_PAGES} {SCRATCH_PAGES})
    (global $heap (mut i32) (i32.const {HEAP_AT}))
    (func (export "scratch_realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $p) (local.get 3)))
      (if (i32.gt_u (global.get $heap) (i32.const {SCRATCH_PAGES * 65536})) (then unreachable))
      (local.get $p))
    (func $nibble (param $c i32) (result i32)
      (select (i32.sub (local.get $c) (i32.const 48)) (i32.sub (local.get $c) (i32.const 87))
              (i32.le_u (local.get $c) (i32.const 57))))
    (func $unhex (param $src i32) (param $len i32) (param $dst i32)
      (local $i i32)
      (block $done (loop $next
        (br_if $done (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $len)))
        (i32.store8 $scratch (i32.add (local.get $dst) (i32.shr_u (local.get $i) (i32.const 1)))
          (i32.or (i32.shl (call $nibble (i32.load8_u $scratch (i32.add (local.get $src) (local.get $i))))
                           (i32.const 4))
                  (call $nibble (i32.load8_u $scratch (i32.add (local.get $src)
                                                               (i32.add (local.get $i) (i32.const 1)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $next))))
    (func $hexdigit (param $n i32) (result i32)
      (select (i32.add (local.get $n) (i32.const 48)) (i32.add (local.get $n) (i32.const 87))
              (i32.lt_u (local.get $n) (i32.const 10))))
    (func (export "init") (param $img i32) (param $imglen i32) (param $flat i32) (param $flatlen i32)
                          (param $ans i32) (param $anslen i32)
      (call $unhex (local.get $img) (local.get $imglen) (i32.const {MEMORY_COPY_AT}))
      (memory.copy 0 $scratch (i32.const {BASE}) (i32.const {MEMORY_COPY_AT})
                   (i32.shr_u (local.get $imglen) (i32.const 1)))
      (call $unhex (local.get $flat) (local.get $flatlen) (i32.const {FLAT_AT}))
      (call $unhex (local.get $ans) (local.get $anslen) (i32.const {ANSWERS_AT}))
      (i32.store $scratch (i32.const {COUNT_AT}) (i32.const 0))
      (i32.store $scratch (i32.const {ANSWERS_N_AT}) (i32.shr_u (local.get $anslen) (i32.const 3))))
    (func (export "realloc") (param $old i32) (param $osz i32) (param $al i32) (param $nsz i32)
                             (result i32)
      (local $k i32) (local $r i32) (local $n i32) (local $e i32)
      (local.set $k (i32.load $scratch (i32.const {COUNT_AT})))
      (if (i32.lt_u (local.get $k) (i32.load $scratch (i32.const {ANSWERS_N_AT})))
        (then (local.set $r (i32.load $scratch (i32.add (i32.const {ANSWERS_AT})
                                                        (i32.shl (local.get $k) (i32.const 2)))))))
      (if (i32.lt_u (local.get $k) (i32.const {MAX_LOG}))
        (then
          (local.set $e (i32.add (i32.const {LOG_AT}) (i32.mul (local.get $k) (i32.const 20))))
          (i32.store $scratch (local.get $e) (local.get $old))
          (i32.store $scratch offset=4 (local.get $e) (local.get $osz))
          (i32.store $scratch offset=8 (local.get $e) (local.get $al))
          (i32.store $scratch offset=12 (local.get $e) (local.get $nsz))
          (i32.store $scratch offset=16 (local.get $e) (local.get $r))))
      (i32.store $scratch (i32.const {COUNT_AT}) (i32.add (local.get $k) (i32.const 1)))
      (local.set $n (select (local.get $osz) (local.get $nsz)
                            (i32.lt_u (local.get $osz) (local.get $nsz))))
      (if (i32.and
            (i32.and (i32.ne (local.get $old) (i32.const 0)) (i32.ne (local.get $r) (local.get $old)))
            (i32.and (i32.ne (local.get $n) (i32.const 0))
              (i32.and
                (i64.le_u (i64.add (i64.extend_i32_u (local.get $old)) (i64.extend_i32_u (local.get $n)))
                          (i64.const {MEMORY_SIZE}))
                (i64.le_u (i64.add (i64.extend_i32_u (local.get $r)) (i64.extend_i32_u (local.get $n)))
                          (i64.const {MEMORY_SIZE})))))
        (then (memory.copy 0 0 (local.get $r) (local.get $old) (local.get $n))))
      (local.get $r))
    (func (export "report") (result i32)
      (local $i i32) (local $b i32)
      (memory.copy $scratch 0 (i32.const {MEMORY_COPY_AT}) (i32.const 0) (i32.const {MEMORY_SIZE}))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const {REPORT_END - REPORT_START})))
        (local.set $b (i32.load8_u $scratch (i32.add (i32.const {REPORT_START}) (local.get $i))))
        (i32.store8 $scratch (i32.add (i32.const {HEX_AT}) (i32.shl (local.get $i) (i32.const 1)))
                    (call $hexdigit (i32.shr_u (local.get $b) (i32.const 4))))
        (i32.store8 $scratch (i32.add (i32.const {HEX_AT + 1}) (i32.shl (local.get $i) (i32.const 1)))
                    (call $hexdigit (i32.and (local.get $b) (i32.const 15))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (i32.store $scratch (i32.const 0) (i32.const {HEX_AT}))
      (i32.store $scratch (i32.const 4) (i32.const {2 * (REPORT_END - REPORT_START)}))
      (i32.const 0)))
  (core instance $libc (instantiate $Libc))"""

LOAD = {"i32": "i32.load", "i64": "i64.load", "f32": "f32.load", "f64": "f64.load"}
STORE_AS_U64 = {"i32": "(i64.extend_i32_u (local.get {i}))", "i64": "(local.get {i})",
                "f32": "(i64.extend_i32_u (i32.reinterpret_f32 (local.get {i})))",
                "f64": "(i64.reinterpret_f64 (local.get {i}))"}


def _loads(types: tuple[str, ...]) -> str:
    return " ".join(f"({LOAD[t]} $scratch (i32.const {FLAT_AT + 8 * i}))"
                    for i, t in enumerate(types))


def main_module(sig: Signature, direction: str) -> str:
    """The core module that hands over the flat values (lift, and the caller of ``adapter``) or
    records them (lower, and the callee of ``adapter``, which first tells the host it ran)."""
    types = handed_types(sig, direction)
    head = ("  (core module $Main\n"
            f'    (import "libc" "memory" (memory {MEMORY_SIZE // 65536} {MEMORY_SIZE // 65536}))\n'
            f'    (import "libc" "scratch" (memory $scratch {SCRATCH_PAGES} {SCRATCH_PAGES}))\n')
    if direction == "lift-result":
        return head + f'    (func (export "f"){_sig((), types)} {_loads(types)}))'
    if direction in ("lift-args", "adapter-caller"):
        return (head + f'    (import "host" "g" (func $g{_sig(types, ())}))\n'
                f'    (func (export "run") {_loads(types)} (call $g)))')
    stores = " ".join(f"(i64.store $scratch (i32.const {PARAMS_AT + 8 * i}) "
                      f"{STORE_AS_U64[t].format(i=i)})" for i, t in enumerate(types))
    if direction == "adapter-callee":
        return (head + '    (import "host" "entered" (func $entered))\n'
                f'    (func (export "f"){_sig(types, ())} (call $entered) {stores}))')
    return head + f'    (func (export "f"){_sig(types, ())} {stores}))'


MEM = '(memory (core memory $libc "memory"))'
SCRATCH = '(memory (core memory $libc "scratch"))'
INIT = ('  (func $init (param "image" string) (param "flat" string) (param "answers" string)\n'
        f'    (canon lift (core func $libc "init") {SCRATCH}\n'
        '      (realloc (core func $libc "scratch_realloc"))))\n'
        '  (export "init" (func $init))')
REPORT = (f'  (func $report (result string) (canon lift (core func $libc "report") {SCRATCH}))\n'
          '  (export "report" (func $report))')


def _instance(host: str) -> str:
    return f'  (core instance $main (instantiate $Main (with "libc" (instance $libc)){host}))'


def _body(sig: Signature, direction: str, encoding: str) -> list[str]:
    """One component's body: types, imports, `$Libc`, `$Main` and the lifted exports."""
    enc = f"string-encoding={encoding}"
    lines = [sig.names.component_decls()]
    if direction in ("lift-args", "adapter-caller"):
        lines += [f'  (import "g" (func $g {func_type(sig)}))', LIBC,
                  f"  (core func $g_low (canon lower (func $g) {MEM} {enc}))",
                  main_module(sig, direction),
                  _instance('\n      (with "host" (instance (export "g" (func $g_low))))'),
                  INIT, '  (func $run (canon lift (core func $main "run")))',
                  '  (export "run" (func $run))']
    elif direction == "lift-result":
        lines += [LIBC, main_module(sig, direction), _instance(""), INIT,
                  f'  (func $f {func_type(sig)} (canon lift (core func $main "f") {MEM} {enc}))',
                  '  (export "f" (func $f))']
    else:  # lower-args, adapter-callee
        entered = direction == "adapter-callee"
        if entered:
            lines.append('  (import "entered" (func $entered))')
        lines.append(LIBC)
        if entered:
            lines.append("  (core func $entered_low (canon lower (func $entered)))")
        lines += [main_module(sig, direction),
                  _instance('\n      (with "host" (instance (export "entered" (func $entered_low))))'
                            if entered else ""),
                  INIT, REPORT,
                  f'  (func $f {func_type(sig)}\n    (canon lift (core func $main "f") {MEM} '
                  f'(realloc (core func $libc "realloc")) {enc}))',
                  '  (export "f" (func $f))']
    return [line for line in lines if line]


def _adapter(sig: Signature) -> list[str]:
    """Caller and callee components: the caller's `run` calls the callee's `f` through
    Wasmtime's fused adapter (caller encoding `sig.encoding`, callee `sig.callee_encoding`)."""
    types = "".join(f' (with "{n}" (type ${n}))' for n in (sig.names.ref(t) for t in sig.names.order))
    lines = [sig.names.component_decls(), '  (import "entered" (func $entered))']
    for name, role, enc in (("$Callee", "adapter-callee", sig.callee_encoding),
                            ("$Caller", "adapter-caller", sig.encoding)):
        body = "\n".join(_body(sig, role, enc or "utf8"))
        lines += [f"  (component {name}", textwrap.indent(body, "  "), "  )"]
    lines += [f'  (instance $callee (instantiate $Callee{types} (with "entered" (func $entered))))',
              f'  (instance $caller (instantiate $Caller{types} (with "g" (func $callee "f"))))']
    for inst, name, export in (("$caller", "run", "run"), ("$caller", "init", "caller-init"),
                               ("$callee", "init", "callee-init"),
                               ("$callee", "report", "callee-report")):
        alias = "$" + export.replace("-", "_")
        lines += [f'  (alias export {inst} "{name}" (func {alias}))',
                  f'  (export "{export}" (func {alias}))']
    return lines


def hostile_component_text(sig: Signature, direction: str) -> str:
    """The whole component for this direction and signature."""
    body = _adapter(sig) if direction == "adapter" else _body(sig, direction, sig.encoding)
    return "\n".join(["(component", *body, ")"])
