(** Conversions between numeric types (spec: Execution, Numerics) on the raw bits the
    interpreter keeps (floats as IEEE bits in [Int32]/[Int64]); truncations take an OCaml
    float, which holds every f32 and f64 value exactly. Trapping truncations raise via
    [Trap.trap] ("invalid conversion to integer" for a NaN, "integer overflow" out of
    range); the [_sat] ones saturate. Reinterpretations need no code. *)

val i32_trunc_s : float -> int32
val i32_trunc_u : float -> int32
val i64_trunc_s : float -> int64
val i64_trunc_u : float -> int64
val i32_trunc_sat_s : float -> int32
val i32_trunc_sat_u : float -> int32
val i64_trunc_sat_s : float -> int64
val i64_trunc_sat_u : float -> int64

(** Integer to float, rounded once to the nearest (no double rounding via f64). *)
val f32_convert_i32_s : int32 -> int32
val f32_convert_i32_u : int32 -> int32
val f32_convert_i64_s : int64 -> int32
val f32_convert_i64_u : int64 -> int32
val f64_convert_i32_s : int32 -> int64
val f64_convert_i32_u : int32 -> int64
val f64_convert_i64_s : int64 -> int64
val f64_convert_i64_u : int64 -> int64

(** Demotion and promotion; a NaN keeps its sign and the payload bits that fit, quieted. *)
val f32_demote_f64 : int64 -> int32
val f64_promote_f32 : int32 -> int64
