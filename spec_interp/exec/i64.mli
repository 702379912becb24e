(** 64-bit integer operations (spec: Execution, Numerics) on [Int64] values (two's
    complement, wrapping); see [I32] for why the widths are separate modules. *)

val clz : int64 -> int64
val ctz : int64 -> int64
val popcnt : int64 -> int64
val extend8_s : int64 -> int64
val extend16_s : int64 -> int64
val extend32_s : int64 -> int64

val div_s : int64 -> int64 -> int64
val div_u : int64 -> int64 -> int64
val rem_s : int64 -> int64 -> int64
val rem_u : int64 -> int64 -> int64

(** Shift and rotate counts are taken modulo 64. *)
val shl : int64 -> int64 -> int64
val shr_s : int64 -> int64 -> int64
val shr_u : int64 -> int64 -> int64
val rotl : int64 -> int64 -> int64
val rotr : int64 -> int64 -> int64
