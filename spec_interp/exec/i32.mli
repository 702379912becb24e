(** 32-bit integer operations (spec: Execution, Numerics) on [Int32] values (two's
    complement, wrapping); the operations OCaml's [Int32] has already (add, comparisons, ...)
    are used directly. Division and remainder trap (via [Trap.trap]) as the spec says.

    [I32], [I64], [F32] and [F64] are separate modules of the same shape, not one functor
    applied per width, on purpose: ocamlopt without flambda compiles a functor body once and
    calls the argument's operations through closures on boxed values, never inlined (an
    [Int32] add/shl/xor loop ran about 8x slower through a functor, OCaml 4.13). *)

val clz : int32 -> int32
val ctz : int32 -> int32
val popcnt : int32 -> int32
val extend8_s : int32 -> int32
val extend16_s : int32 -> int32

val div_s : int32 -> int32 -> int32
val div_u : int32 -> int32 -> int32
val rem_s : int32 -> int32 -> int32
val rem_u : int32 -> int32 -> int32

(** Shift and rotate counts are taken modulo 32. *)
val shl : int32 -> int32 -> int32
val shr_s : int32 -> int32 -> int32
val shr_u : int32 -> int32 -> int32
val rotl : int32 -> int32 -> int32
val rotr : int32 -> int32 -> int32
