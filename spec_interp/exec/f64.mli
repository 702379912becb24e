(** 64-bit float operations (spec: Execution, Numerics) on raw IEEE bits held in [int64].
    A NaN result is made from bits, never passed through an OCaml float: the first NaN
    operand with the quiet bit set, or the canonical NaN; [abs], [neg] and [copysign] change
    only the sign bit. See [I32] for why the widths are separate modules. *)

val is_nan : int64 -> bool

val add : int64 -> int64 -> int64
val sub : int64 -> int64 -> int64
val mul : int64 -> int64 -> int64
val div : int64 -> int64 -> int64
val min : int64 -> int64 -> int64
val max : int64 -> int64 -> int64
val copysign : int64 -> int64 -> int64

val abs : int64 -> int64
val neg : int64 -> int64
val sqrt : int64 -> int64

(** Rounding to an integral value; a zero result keeps the operand's sign. *)
val ceil : int64 -> int64
val floor : int64 -> int64
val trunc : int64 -> int64
val nearest : int64 -> int64

(** IEEE comparisons: false when either operand is a NaN, except [ne]. *)
val eq : int64 -> int64 -> bool
val ne : int64 -> int64 -> bool
val lt : int64 -> int64 -> bool
val gt : int64 -> int64 -> bool
val le : int64 -> int64 -> bool
val ge : int64 -> int64 -> bool
