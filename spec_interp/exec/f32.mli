(** 32-bit float operations (spec: Execution, Numerics) on raw IEEE bits held in [int32].
    A NaN result is made from bits, never passed through an OCaml float: the first NaN
    operand with the quiet bit set, or the canonical NaN; [abs], [neg] and [copysign] change
    only the sign bit. See [I32] for why the widths are separate modules. *)

val is_nan : int32 -> bool

val add : int32 -> int32 -> int32
val sub : int32 -> int32 -> int32
val mul : int32 -> int32 -> int32
val div : int32 -> int32 -> int32
val min : int32 -> int32 -> int32
val max : int32 -> int32 -> int32
val copysign : int32 -> int32 -> int32

val abs : int32 -> int32
val neg : int32 -> int32
val sqrt : int32 -> int32

(** Rounding to an integral value; a zero result keeps the operand's sign. *)
val ceil : int32 -> int32
val floor : int32 -> int32
val trunc : int32 -> int32
val nearest : int32 -> int32

(** IEEE comparisons: false when either operand is a NaN, except [ne]. *)
val eq : int32 -> int32 -> bool
val ne : int32 -> int32 -> bool
val lt : int32 -> int32 -> bool
val gt : int32 -> int32 -> bool
val le : int32 -> int32 -> bool
val ge : int32 -> int32 -> bool
