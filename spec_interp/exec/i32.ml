(** 32-bit integer operations on [Int32] values (two's complement, wrapping). *)

let clz x =
  if x = 0l then 32l
  else begin
    let n = ref 0 and v = ref x in
    while Int32.logand !v 0x80000000l = 0l do incr n; v := Int32.shift_left !v 1 done;
    Int32.of_int !n
  end

let ctz x =
  if x = 0l then 32l
  else begin
    let n = ref 0 and v = ref x in
    while Int32.logand !v 1l = 0l do incr n; v := Int32.shift_right_logical !v 1 done;
    Int32.of_int !n
  end

let popcnt x =
  let n = ref 0 and v = ref x in
  while !v <> 0l do
    v := Int32.logand !v (Int32.sub !v 1l); incr n
  done;
  Int32.of_int !n

let extend8_s x = Int32.shift_right (Int32.shift_left x 24) 24
let extend16_s x = Int32.shift_right (Int32.shift_left x 16) 16

let div_s a b =
  if b = 0l then Trap.trap "integer divide by zero"
  else if a = Int32.min_int && b = -1l then Trap.trap "integer overflow"
  else Int32.div a b

let div_u a b =
  if b = 0l then Trap.trap "integer divide by zero" else Int32.unsigned_div a b

let rem_s a b =
  if b = 0l then Trap.trap "integer divide by zero"
  else if b = -1l then 0l
  else Int32.rem a b

let rem_u a b =
  if b = 0l then Trap.trap "integer divide by zero" else Int32.unsigned_rem a b

let[@inline] shl a b = Int32.shift_left a (Int32.to_int b land 31)
let[@inline] shr_s a b = Int32.shift_right a (Int32.to_int b land 31)
let[@inline] shr_u a b = Int32.shift_right_logical a (Int32.to_int b land 31)

let rotl a b =
  let k = Int32.to_int b land 31 in
  if k = 0 then a
  else Int32.logor (Int32.shift_left a k) (Int32.shift_right_logical a (32 - k))

let rotr a b =
  let k = Int32.to_int b land 31 in
  if k = 0 then a
  else Int32.logor (Int32.shift_right_logical a k) (Int32.shift_left a (32 - k))

