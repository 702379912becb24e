(** 64-bit integer operations on [Int64] values (two's complement, wrapping). *)

let clz x =
  if x = 0L then 64L
  else begin
    let n = ref 0 and v = ref x in
    while Int64.logand !v 0x8000000000000000L = 0L do incr n; v := Int64.shift_left !v 1 done;
    Int64.of_int !n
  end

let ctz x =
  if x = 0L then 64L
  else begin
    let n = ref 0 and v = ref x in
    while Int64.logand !v 1L = 0L do incr n; v := Int64.shift_right_logical !v 1 done;
    Int64.of_int !n
  end

let popcnt x =
  let n = ref 0 and v = ref x in
  while !v <> 0L do
    v := Int64.logand !v (Int64.sub !v 1L); incr n
  done;
  Int64.of_int !n

let extend8_s x = Int64.shift_right (Int64.shift_left x 56) 56
let extend16_s x = Int64.shift_right (Int64.shift_left x 48) 48
let extend32_s x = Int64.shift_right (Int64.shift_left x 32) 32

let div_s a b =
  if b = 0L then Trap.trap "integer divide by zero"
  else if a = Int64.min_int && b = -1L then Trap.trap "integer overflow"
  else Int64.div a b

let div_u a b =
  if b = 0L then Trap.trap "integer divide by zero" else Int64.unsigned_div a b

let rem_s a b =
  if b = 0L then Trap.trap "integer divide by zero"
  else if b = -1L then 0L
  else Int64.rem a b

let rem_u a b =
  if b = 0L then Trap.trap "integer divide by zero" else Int64.unsigned_rem a b

let[@inline] shl a b = Int64.shift_left a (Int64.to_int b land 63)
let[@inline] shr_s a b = Int64.shift_right a (Int64.to_int b land 63)
let[@inline] shr_u a b = Int64.shift_right_logical a (Int64.to_int b land 63)

let rotl a b =
  let k = Int64.to_int b land 63 in
  if k = 0 then a
  else Int64.logor (Int64.shift_left a k) (Int64.shift_right_logical a (64 - k))

let rotr a b =
  let k = Int64.to_int b land 63 in
  if k = 0 then a
  else Int64.logor (Int64.shift_right_logical a k) (Int64.shift_left a (64 - k))

