(** 32-bit float operations on raw IEEE bits held in [Int32]. Arithmetic is done in
    double precision and rounded once to single (exact for + - * / sqrt); a NaN result
    takes the first NaN operand's payload with the quiet bit set, or the canonical NaN. *)

let to_float = Int32.float_of_bits
let of_float = Int32.bits_of_float

let canonical_nan = 0x7fc00000l
let is_nan b = Int32.logand b 0x7fffffffl > 0x7f800000l
let quiet b = Int32.logor b 0x00400000l

let nan1 a = if is_nan a then quiet a else canonical_nan
let nan2 a b = if is_nan a then quiet a else if is_nan b then quiet b else canonical_nan

let arith1 f a = let r = f (to_float a) in if Float.is_nan r then nan1 a else of_float r

let[@inline] add a b = let r = to_float a +. to_float b in if r = r then of_float r else nan2 a b
let[@inline] sub a b = let r = to_float a -. to_float b in if r = r then of_float r else nan2 a b
let[@inline] mul a b = let r = to_float a *. to_float b in if r = r then of_float r else nan2 a b
let[@inline] div a b = let r = to_float a /. to_float b in if r = r then of_float r else nan2 a b
let sqrt = arith1 Float.sqrt

let abs a = Int32.logand a 0x7fffffffl
let neg a = Int32.logxor a 0x80000000l
let copysign a b = Int32.logor (abs a) (Int32.logand b 0x80000000l)

let min a b =
  if is_nan a || is_nan b then nan2 a b
  else
    let x = to_float a and y = to_float b in
    if x = 0.0 && y = 0.0 then Int32.logor a b else if x < y then a else b

let max a b =
  if is_nan a || is_nan b then nan2 a b
  else
    let x = to_float a and y = to_float b in
    if x = 0.0 && y = 0.0 then Int32.logand a b else if x > y then a else b

(* Rounding to integral keeps the sign of zero. *)
let round f a =
  if is_nan a then quiet a
  else
    let x = to_float a in
    let r = f x in
    of_float (if r = 0.0 then Float.copy_sign 0.0 x else r)

let nearest_float x =
  if Float.abs x >= 4503599627370496.0 then x
  else
    let fl = Float.floor x in
    let d = x -. fl in
    if d < 0.5 then fl
    else if d > 0.5 then fl +. 1.0
    else if Float.rem fl 2.0 = 0.0 then fl
    else fl +. 1.0

let ceil = round Float.ceil
let floor = round Float.floor
let trunc = round Float.trunc
let nearest = round nearest_float

let[@inline] eq a b = to_float a = to_float b
let[@inline] ne a b = to_float a <> to_float b
let[@inline] lt a b = to_float a < to_float b
let[@inline] gt a b = to_float a > to_float b
let[@inline] le a b = to_float a <= to_float b
let[@inline] ge a b = to_float a >= to_float b
