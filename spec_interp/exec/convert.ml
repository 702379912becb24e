(** Conversions between numeric types: truncation with exact range checks, saturating
    truncation, integer-to-float without double rounding, demotion/promotion keeping NaN
    payloads, and reinterpretation. *)

let two31 = 2147483648.0
let two32 = 4294967296.0
let two63 = 9223372036854775808.0
let two64 = 18446744073709551616.0

let check_nan x = if Float.is_nan x then Trap.trap "invalid conversion to integer"
let overflow () = Trap.trap "integer overflow"

let i32_trunc_s x =
  check_nan x;
  if not (x > -.two31 -. 1.0 && x < two31) then overflow ();
  Int32.of_float x

let i32_trunc_u x =
  check_nan x;
  if not (x > -1.0 && x < two32) then overflow ();
  Int64.to_int32 (Int64.of_float x)

let i64_of_float_u x =
  if x >= two63 then Int64.add (Int64.of_float (x -. two63)) Int64.min_int
  else Int64.of_float x

let i64_trunc_s x =
  check_nan x;
  if not (x >= -.two63 && x < two63) then overflow ();
  Int64.of_float x

let i64_trunc_u x =
  check_nan x;
  if not (x > -1.0 && x < two64) then overflow ();
  i64_of_float_u x

let i32_trunc_sat_s x =
  if Float.is_nan x then 0l
  else if x <= -.two31 then Int32.min_int
  else if x >= two31 then Int32.max_int
  else Int32.of_float x

let i32_trunc_sat_u x =
  if Float.is_nan x || x <= 0.0 then 0l
  else if x >= two32 then -1l
  else Int64.to_int32 (Int64.of_float x)

let i64_trunc_sat_s x =
  if Float.is_nan x then 0L
  else if x <= -.two63 then Int64.min_int
  else if x >= two63 then Int64.max_int
  else Int64.of_float x

let i64_trunc_sat_u x =
  if Float.is_nan x || x <= 0.0 then 0L
  else if x >= two64 then -1L
  else i64_of_float_u x

(* A non-negative int64 as a double that rounds to single precision like the integer
   itself: bits below bit 12 fold into a sticky bit, so the double is exact. *)
let sticky_double x =
  if Int64.compare x 0x20000000000000L < 0 then Int64.to_float x
  else
    let low = Int64.logand x 0x1fffL in
    let hi = Int64.logand x (Int64.lognot 0x1fffL) in
    Int64.to_float (if low <> 0L then Int64.logor hi 0x1000L else hi)

let f32_of_float = Int32.bits_of_float

let f32_convert_i32_s x = f32_of_float (Int32.to_float x)
let f32_convert_i32_u x =
  f32_of_float (Int64.to_float (Int64.logand (Int64.of_int32 x) 0xffffffffL))

let f32_convert_i64_s x =
  if x = Int64.min_int then f32_of_float (-.two63)
  else if Int64.compare x 0L < 0 then f32_of_float (-.(sticky_double (Int64.neg x)))
  else f32_of_float (sticky_double x)

let f32_convert_i64_u x =
  if Int64.compare x 0L >= 0 then f32_of_float (sticky_double x)
  else
    let half = Int64.logor (Int64.shift_right_logical x 1) (Int64.logand x 1L) in
    f32_of_float (2.0 *. sticky_double half)

let f64_of_float = Int64.bits_of_float

let f64_convert_i32_s x = f64_of_float (Int32.to_float x)
let f64_convert_i32_u x =
  f64_of_float (Int64.to_float (Int64.logand (Int64.of_int32 x) 0xffffffffL))
let f64_convert_i64_s x = f64_of_float (Int64.to_float x)

let f64_convert_i64_u x =
  if Int64.compare x 0L >= 0 then f64_of_float (Int64.to_float x)
  else
    let half = Int64.logor (Int64.shift_right_logical x 1) (Int64.logand x 1L) in
    f64_of_float (2.0 *. Int64.to_float half)

let f32_demote_f64 b =
  if F64.is_nan b then
    let sign = Int64.to_int32 (Int64.shift_right_logical b 32) in
    let payload = Int64.to_int32 (Int64.shift_right_logical (Int64.logand b 0xfffffffffffffL) 29) in
    Int32.logor (Int32.logand sign 0x80000000l) (Int32.logor 0x7fc00000l payload)
  else f32_of_float (Int64.float_of_bits b)

let f64_promote_f32 b =
  if F32.is_nan b then
    let sign = Int64.shift_left (Int64.of_int32 (Int32.logand b 0x80000000l)) 32 in
    let sign = Int64.logand sign Int64.min_int in
    let payload = Int64.shift_left (Int64.of_int32 (Int32.logand b 0x7fffffl)) 29 in
    Int64.logor sign (Int64.logor 0x7ff8000000000000L payload)
  else f64_of_float (Int32.float_of_bits b)
