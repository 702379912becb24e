(** Execution. A machine runs compiled bodies ([Code]) with an explicit operand stack and
    frame list, so wasm calls do not recurse in OCaml; only host functions re-enter
    [invoke]. Stack slot [i] holds a number as raw bits in bytes [8i..8i+7] of [nums]
    (unboxed, no allocation per operation) or a reference in [refs.(i)]; locals of a frame
    sit below its operands. Call depth and an optional fuel budget end in
    [Trap.Exhaustion]. Assumes a little-endian host (the stack and memories are accessed
    with native-endian primitives). *)

open Types
open Ast
open Instance

let () = assert (not Sys.big_endian)

external get32 : Bytes.t -> int -> int32 = "%caml_bytes_get32"
external set32 : Bytes.t -> int -> int32 -> unit = "%caml_bytes_set32"
external get64 : Bytes.t -> int -> int64 = "%caml_bytes_get64"
external set64 : Bytes.t -> int -> int64 -> unit = "%caml_bytes_set64"
external get16 : Bytes.t -> int -> int = "%caml_bytes_get16"
external set16 : Bytes.t -> int -> int -> unit = "%caml_bytes_set16"

(** Settings, changed through [Api]. *)
let max_depth = ref 300
let fuel_on = ref false
let fuel = ref 0
let fault_i32_rem_s = ref false
let fault_i64_rem_s = ref false

(** Executions per opcode index (see [Code.opcode_index]). *)
let counts = Array.make Code.num_opcodes 0

(** Calls a host function: host id, its type, arguments; returns its results. *)
let host_call : (int -> functype -> value array -> value array) ref =
  ref (fun _ _ _ -> Trap.trap "no host")

let depth = ref 0

type frame = { fcode : Code.t; fpc : int; ffp : int; fbase : int; finst : instance }

type machine = {
  mutable nums : Bytes.t;
  mutable refs : value array;
  mutable sp : int;
  mutable fp : int;  (** first local *)
  mutable base : int;  (** first operand *)
  mutable pc : int;
  mutable cur : Code.t;
  mutable inst : instance;
  mutable frames : frame list;
}

let crash () = failwith "ill-typed operand (validation bug)"

(* Slot access *)
let[@inline] gi32 m i = get32 m.nums (i lsl 3)
let[@inline] si32 m i v = set32 m.nums (i lsl 3) v
let[@inline] gi64 m i = get64 m.nums (i lsl 3)
let[@inline] si64 m i v = set64 m.nums (i lsl 3) v
let[@inline] gu32 m i = Int32.to_int (get32 m.nums (i lsl 3)) land 0xffffffff
let[@inline] sbool m i b = set32 m.nums (i lsl 3) (if b then 1l else 0l)

let read_slot m t i =
  match t with
  | Num I32T -> I32 (gi32 m i) | Num I64T -> I64 (gi64 m i)
  | Num F32T -> F32 (gi32 m i) | Num F64T -> F64 (gi64 m i)
  | Ref _ -> m.refs.(i)

let write_slot m i v =
  match v with
  | I32 x | F32 x -> si32 m i x
  | I64 x | F64 x -> si64 m i x
  | Null | FuncRef _ | ExternRef _ -> m.refs.(i) <- v

(* Moves [n] slots from [src] to [dst] (references too if [refs]). *)
let move m src dst n refs =
  Bytes.blit m.nums (src lsl 3) m.nums (dst lsl 3) (n lsl 3);
  if refs then Array.blit m.refs src m.refs dst n

let f32f = Int32.float_of_bits
let f64f = Int64.float_of_bits

let convert m i op =
  match op with
  | I32WrapI64 -> si32 m i (Int64.to_int32 (gi64 m i))
  | I64ExtendI32S -> si64 m i (Int64.of_int32 (gi32 m i))
  | I64ExtendI32U -> si64 m i (Int64.logand (Int64.of_int32 (gi32 m i)) 0xffffffffL)
  | I32TruncF32S -> si32 m i (Convert.i32_trunc_s (f32f (gi32 m i)))
  | I32TruncF32U -> si32 m i (Convert.i32_trunc_u (f32f (gi32 m i)))
  | I32TruncF64S -> si32 m i (Convert.i32_trunc_s (f64f (gi64 m i)))
  | I32TruncF64U -> si32 m i (Convert.i32_trunc_u (f64f (gi64 m i)))
  | I64TruncF32S -> si64 m i (Convert.i64_trunc_s (f32f (gi32 m i)))
  | I64TruncF32U -> si64 m i (Convert.i64_trunc_u (f32f (gi32 m i)))
  | I64TruncF64S -> si64 m i (Convert.i64_trunc_s (f64f (gi64 m i)))
  | I64TruncF64U -> si64 m i (Convert.i64_trunc_u (f64f (gi64 m i)))
  | I32TruncSatF32S -> si32 m i (Convert.i32_trunc_sat_s (f32f (gi32 m i)))
  | I32TruncSatF32U -> si32 m i (Convert.i32_trunc_sat_u (f32f (gi32 m i)))
  | I32TruncSatF64S -> si32 m i (Convert.i32_trunc_sat_s (f64f (gi64 m i)))
  | I32TruncSatF64U -> si32 m i (Convert.i32_trunc_sat_u (f64f (gi64 m i)))
  | I64TruncSatF32S -> si64 m i (Convert.i64_trunc_sat_s (f32f (gi32 m i)))
  | I64TruncSatF32U -> si64 m i (Convert.i64_trunc_sat_u (f32f (gi32 m i)))
  | I64TruncSatF64S -> si64 m i (Convert.i64_trunc_sat_s (f64f (gi64 m i)))
  | I64TruncSatF64U -> si64 m i (Convert.i64_trunc_sat_u (f64f (gi64 m i)))
  | F32ConvertI32S -> si32 m i (Convert.f32_convert_i32_s (gi32 m i))
  | F32ConvertI32U -> si32 m i (Convert.f32_convert_i32_u (gi32 m i))
  | F32ConvertI64S -> si32 m i (Convert.f32_convert_i64_s (gi64 m i))
  | F32ConvertI64U -> si32 m i (Convert.f32_convert_i64_u (gi64 m i))
  | F32DemoteF64 -> si32 m i (Convert.f32_demote_f64 (gi64 m i))
  | F64ConvertI32S -> si64 m i (Convert.f64_convert_i32_s (gi32 m i))
  | F64ConvertI32U -> si64 m i (Convert.f64_convert_i32_u (gi32 m i))
  | F64ConvertI64S -> si64 m i (Convert.f64_convert_i64_s (gi64 m i))
  | F64ConvertI64U -> si64 m i (Convert.f64_convert_i64_u (gi64 m i))
  | F64PromoteF32 -> si64 m i (Convert.f64_promote_f32 (gi32 m i))
  | I32ReinterpretF32 | F32ReinterpretI32 | I64ReinterpretF64 | F64ReinterpretI64 -> ()

let load m (mem : Memory.t) op i addr =
  let d = mem.data in
  let chk n = Memory.check mem addr n in
  match op with
  | I32Load | F32Load -> chk 4; si32 m i (get32 d addr)
  | I64Load | F64Load -> chk 8; si64 m i (get64 d addr)
  | I32Load8S -> chk 1; si32 m i (Int32.of_int (Bytes.get_int8 d addr))
  | I32Load8U -> chk 1; si32 m i (Int32.of_int (Bytes.get_uint8 d addr))
  | I32Load16S -> chk 2; si32 m i (Int32.of_int ((get16 d addr lsl 47) asr 47))
  | I32Load16U -> chk 2; si32 m i (Int32.of_int (get16 d addr))
  | I64Load8S -> chk 1; si64 m i (Int64.of_int (Bytes.get_int8 d addr))
  | I64Load8U -> chk 1; si64 m i (Int64.of_int (Bytes.get_uint8 d addr))
  | I64Load16S -> chk 2; si64 m i (Int64.of_int ((get16 d addr lsl 47) asr 47))
  | I64Load16U -> chk 2; si64 m i (Int64.of_int (get16 d addr))
  | I64Load32S -> chk 4; si64 m i (Int64.of_int32 (get32 d addr))
  | I64Load32U -> chk 4; si64 m i (Int64.logand (Int64.of_int32 (get32 d addr)) 0xffffffffL)

let store m (mem : Memory.t) op i addr =
  let d = mem.data in
  let chk n = Memory.check mem addr n in
  match op with
  | I32Store | F32Store -> chk 4; set32 d addr (gi32 m i)
  | I64Store | F64Store -> chk 8; set64 d addr (gi64 m i)
  | I32Store8 -> chk 1; Bytes.set_int8 d addr (Int32.to_int (gi32 m i))
  | I32Store16 -> chk 2; set16 d addr (Int32.to_int (gi32 m i) land 0xffff)
  | I64Store8 -> chk 1; Bytes.set_int8 d addr (Int64.to_int (gi64 m i))
  | I64Store16 -> chk 2; set16 d addr (Int64.to_int (gi64 m i) land 0xffff)
  | I64Store32 -> chk 4; set32 d addr (Int64.to_int32 (gi64 m i))

let[@inline] ult32 a b = Int32.sub a Int32.min_int < Int32.sub b Int32.min_int
let[@inline] ult64 a b = Int64.sub a Int64.min_int < Int64.sub b Int64.min_int

let[@inline] bin32 m f =
  let b = m.sp - 1 in let a = b - 1 in si32 m a (f (gi32 m a) (gi32 m b)); m.sp <- b
let[@inline] bin64 m f =
  let b = m.sp - 1 in let a = b - 1 in si64 m a (f (gi64 m a) (gi64 m b)); m.sp <- b
(* Pops one of two operands; returns the slot of the other, which receives the result. *)
let[@inline] pop1 m = let b = m.sp - 1 in m.sp <- b; b - 1

(** Executes one non-control instruction. *)
let plain m (i : Ast.instr) =
  let sp = m.sp in
  let a = sp - 2 and b = sp - 1 in  (* operands of a binary instruction *)
  match i with
  | Unreachable -> Trap.trap "unreachable executed"
  | Drop -> m.sp <- b
  | Select _ -> if gi32 m b = 0l then si64 m (sp - 3) (gi64 m a); m.sp <- a
  | LocalGet x -> si64 m sp (gi64 m (m.fp + x)); m.sp <- sp + 1
  | LocalSet x -> si64 m (m.fp + x) (gi64 m b); m.sp <- b
  | LocalTee x -> si64 m (m.fp + x) (gi64 m b)
  | GlobalGet x -> write_slot m sp m.inst.globals.(x).value; m.sp <- sp + 1
  | GlobalSet x ->
    let g = m.inst.globals.(x) in
    g.value <- read_slot m g.gtype.gtype b; m.sp <- b
  | I32Const n | F32Const n -> si32 m sp n; m.sp <- sp + 1
  | I64Const n | F64Const n -> si64 m sp n; m.sp <- sp + 1
  | I32Binary op ->
    let x = gi32 m a and y = gi32 m b in
    (match op with
     | Add -> si32 m a (Int32.add x y)
     | Sub -> si32 m a (Int32.sub x y)
     | Mul -> si32 m a (Int32.mul x y)
     | DivS -> si32 m a (I32.div_s x y)
     | DivU -> si32 m a (I32.div_u x y)
     | RemS ->
       let r = I32.rem_s x y in si32 m a (if !fault_i32_rem_s then Int32.add r 1l else r)
     | RemU -> si32 m a (I32.rem_u x y)
     | And -> si32 m a (Int32.logand x y)
     | Or -> si32 m a (Int32.logor x y)
     | Xor -> si32 m a (Int32.logxor x y)
     | Shl -> si32 m a (I32.shl x y)
     | ShrS -> si32 m a (I32.shr_s x y)
     | ShrU -> si32 m a (I32.shr_u x y)
     | Rotl -> si32 m a (I32.rotl x y)
     | Rotr -> si32 m a (I32.rotr x y));
    m.sp <- b
  | I64Binary op ->
    let x = gi64 m a and y = gi64 m b in
    (match op with
     | Add -> si64 m a (Int64.add x y)
     | Sub -> si64 m a (Int64.sub x y)
     | Mul -> si64 m a (Int64.mul x y)
     | DivS -> si64 m a (I64.div_s x y)
     | DivU -> si64 m a (I64.div_u x y)
     | RemS ->
       let r = I64.rem_s x y in si64 m a (if !fault_i64_rem_s then Int64.add r 1L else r)
     | RemU -> si64 m a (I64.rem_u x y)
     | And -> si64 m a (Int64.logand x y)
     | Or -> si64 m a (Int64.logor x y)
     | Xor -> si64 m a (Int64.logxor x y)
     | Shl -> si64 m a (I64.shl x y)
     | ShrS -> si64 m a (I64.shr_s x y)
     | ShrU -> si64 m a (I64.shr_u x y)
     | Rotl -> si64 m a (I64.rotl x y)
     | Rotr -> si64 m a (I64.rotr x y));
    m.sp <- b
  | F32Binary op ->
    let x = gi32 m a and y = gi32 m b in
    (match op with
     | FAdd -> si32 m a (F32.add x y) | FSub -> si32 m a (F32.sub x y)
     | FMul -> si32 m a (F32.mul x y) | FDiv -> si32 m a (F32.div x y)
     | FMin -> si32 m a (F32.min x y) | FMax -> si32 m a (F32.max x y)
     | FCopysign -> si32 m a (F32.copysign x y));
    m.sp <- b
  | F64Binary op ->
    let x = gi64 m a and y = gi64 m b in
    (match op with
     | FAdd -> si64 m a (F64.add x y) | FSub -> si64 m a (F64.sub x y)
     | FMul -> si64 m a (F64.mul x y) | FDiv -> si64 m a (F64.div x y)
     | FMin -> si64 m a (F64.min x y) | FMax -> si64 m a (F64.max x y)
     | FCopysign -> si64 m a (F64.copysign x y));
    m.sp <- b
  | I32Compare op ->
    let x = gi32 m a and y = gi32 m b in
    sbool m a (match op with
        | Eq -> x = y | Ne -> x <> y
        | LtS -> x < y | LtU -> ult32 x y | GtS -> x > y | GtU -> ult32 y x
        | LeS -> x <= y | LeU -> not (ult32 y x) | GeS -> x >= y | GeU -> not (ult32 x y));
    m.sp <- b
  | I64Compare op ->
    let x = gi64 m a and y = gi64 m b in
    sbool m a (match op with
        | Eq -> x = y | Ne -> x <> y
        | LtS -> x < y | LtU -> ult64 x y | GtS -> x > y | GtU -> ult64 y x
        | LeS -> x <= y | LeU -> not (ult64 y x) | GeS -> x >= y | GeU -> not (ult64 x y));
    m.sp <- b
  | F32Compare op ->
    let x = gi32 m a and y = gi32 m b in
    sbool m a (match op with
        | FEq -> F32.eq x y | FNe -> F32.ne x y | FLt -> F32.lt x y
        | FGt -> F32.gt x y | FLe -> F32.le x y | FGe -> F32.ge x y);
    m.sp <- b
  | F64Compare op ->
    let x = gi64 m a and y = gi64 m b in
    sbool m a (match op with
        | FEq -> F64.eq x y | FNe -> F64.ne x y | FLt -> F64.lt x y
        | FGt -> F64.gt x y | FLe -> F64.le x y | FGe -> F64.ge x y);
    m.sp <- b
  | I32Unary op ->
    let x = gi32 m b in
    si32 m b (match op with
        | Clz -> I32.clz x | Ctz -> I32.ctz x | Popcnt -> I32.popcnt x
        | Extend8S -> I32.extend8_s x | Extend16S -> I32.extend16_s x | Extend32S -> crash ())
  | I64Unary op ->
    let x = gi64 m b in
    si64 m b (match op with
        | Clz -> I64.clz x | Ctz -> I64.ctz x | Popcnt -> I64.popcnt x
        | Extend8S -> I64.extend8_s x | Extend16S -> I64.extend16_s x
        | Extend32S -> I64.extend32_s x)
  | F32Unary op ->
    let x = gi32 m b in
    si32 m b (match op with
        | Abs -> F32.abs x | Neg -> F32.neg x | Sqrt -> F32.sqrt x | Ceil -> F32.ceil x
        | Floor -> F32.floor x | Trunc -> F32.trunc x | Nearest -> F32.nearest x)
  | F64Unary op ->
    let x = gi64 m b in
    si64 m b (match op with
        | Abs -> F64.abs x | Neg -> F64.neg x | Sqrt -> F64.sqrt x | Ceil -> F64.ceil x
        | Floor -> F64.floor x | Trunc -> F64.trunc x | Nearest -> F64.nearest x)
  | I32Eqz -> sbool m b (gi32 m b = 0l)
  | I64Eqz -> sbool m b (gi64 m b = 0L)
  | Convert op -> convert m b op
  | Load (op, ma) -> load m m.inst.mems.(0) op b (gu32 m b + ma.offset)
  | Store (op, ma) -> store m m.inst.mems.(0) op b (gu32 m a + ma.offset); m.sp <- a
  | MemorySize -> si32 m sp (Int32.of_int (Memory.size m.inst.mems.(0))); m.sp <- sp + 1
  | MemoryGrow ->
    si32 m b (match Memory.grow m.inst.mems.(0) (gu32 m b) with
        | Some old -> Int32.of_int old | None -> -1l)
  | MemoryFill ->
    m.sp <- sp - 3;
    Memory.fill m.inst.mems.(0) (gu32 m (sp - 3)) (Int32.to_int (gi32 m a)) (gu32 m b)
  | MemoryCopy ->
    m.sp <- sp - 3;
    Memory.copy m.inst.mems.(0) (gu32 m (sp - 3)) (gu32 m a) (gu32 m b)
  | MemoryInit x ->
    m.sp <- sp - 3;
    Memory.init m.inst.mems.(0) (gu32 m (sp - 3)) m.inst.data_segs.(x) (gu32 m a) (gu32 m b)
  | DataDrop x -> m.inst.data_segs.(x) <- ""
  | RefNull _ -> m.refs.(sp) <- Null; m.sp <- sp + 1
  | RefIsNull -> sbool m b (match m.refs.(b) with Null -> true | _ -> false)
  | RefFunc x -> m.refs.(sp) <- FuncRef m.inst.funcs.(x); m.sp <- sp + 1
  | TableGet x -> m.refs.(b) <- Table.get m.inst.tables.(x) (gu32 m b)
  | TableSet x -> m.sp <- a; Table.set m.inst.tables.(x) (gu32 m a) m.refs.(b)
  | TableSize x -> si32 m sp (Int32.of_int (Table.size m.inst.tables.(x))); m.sp <- sp + 1
  | TableGrow x ->
    si32 m a (match Table.grow m.inst.tables.(x) (gu32 m b) m.refs.(a) with
        | Some old -> Int32.of_int old | None -> -1l);
    m.sp <- b
  | TableFill x ->
    m.sp <- sp - 3;
    Table.fill m.inst.tables.(x) (gu32 m (sp - 3)) m.refs.(a) (gu32 m b)
  | TableCopy (x, y) ->
    m.sp <- sp - 3;
    Table.copy m.inst.tables.(x) (gu32 m (sp - 3)) m.inst.tables.(y) (gu32 m a) (gu32 m b)
  | TableInit (x, y) ->
    m.sp <- sp - 3;
    Table.init m.inst.tables.(x) (gu32 m (sp - 3)) m.inst.elem_segs.(y) (gu32 m a) (gu32 m b)
  | ElemDrop y -> m.inst.elem_segs.(y) <- [||]
  | Nop | Block _ | Loop _ | If _ | Else | End | Br _ | BrIf _ | BrTable _ | Return
  | Call _ | CallIndirect _ -> crash ()

(* Makes room for [n] more slots above [used]. *)
let reserve m used n =
  let cap = Array.length m.refs in
  if used + n > cap then begin
    let cap' = max (used + n) (2 * cap) in
    let nums = Bytes.make (cap' lsl 3) '\000' and refs = Array.make cap' Null in
    Bytes.blit m.nums 0 nums 0 (used lsl 3);
    Array.blit m.refs 0 refs 0 used;
    m.nums <- nums;
    m.refs <- refs
  end

(** Enters wasm code [c] of [inst]; its arguments are the top of the stack. *)
let enter m inst (c : Code.t) =
  if !depth >= !max_depth then raise (Trap.Exhaustion "call stack exhausted");
  incr depth;
  let np = Array.length c.params in
  let fp = m.sp - np in
  let nl = Array.length c.locals in
  let base = fp + np + nl in
  reserve m m.sp (nl + c.max_height + 1);
  for i = 0 to nl - 1 do
    let s = fp + np + i in
    match c.locals.(i) with
    | Num _ -> si64 m s 0L
    | Ref _ -> m.refs.(s) <- Null
  done;
  m.frames <- { fcode = m.cur; fpc = m.pc; ffp = m.fp; fbase = m.base; finst = m.inst }
              :: m.frames;
  m.fp <- fp; m.base <- base; m.sp <- base; m.cur <- c; m.pc <- 0; m.inst <- inst

let return m =
  let c = m.cur in
  let n = Array.length c.results in
  move m (m.sp - n) m.fp n c.ref_results;
  m.sp <- m.fp + n;
  decr depth;
  match m.frames with
  | f :: rest ->
    m.frames <- rest; m.cur <- f.fcode; m.pc <- f.fpc; m.fp <- f.ffp; m.base <- f.fbase;
    m.inst <- f.finst
  | [] -> crash ()

let branch m (t : Code.target) =
  if t.pc < 0 then return m
  else begin
    let dst = m.base + t.height in
    move m (m.sp - t.arity) dst t.arity t.refs;
    m.sp <- dst + t.arity;
    m.pc <- t.pc
  end

let call_host m id (ft : functype) =
  let np = Array.length ft.params in
  let sp = m.sp - np in
  let args = Array.mapi (fun i t -> read_slot m t (sp + i)) ft.params in
  m.sp <- sp;
  let res = !host_call id ft args in
  reserve m sp (Array.length res);
  Array.iteri (fun i v -> write_slot m (sp + i) v) res;
  m.sp <- sp + Array.length res

let call m (f : func) =
  match f.kind with
  | Wasm (inst, c) -> enter m inst c
  | Host id ->
    if !depth >= !max_depth then raise (Trap.Exhaustion "call stack exhausted");
    incr depth;
    Fun.protect ~finally:(fun () -> decr depth) (fun () -> call_host m id f.ftype)

let run m =
  while m.pc >= 0 do
    let pc = m.pc in
    let c = m.cur in
    let op = c.ops.(pc) in
    counts.(op) <- counts.(op) + 1;
    if !fuel_on then begin
      decr fuel;
      if !fuel < 0 then raise (Trap.Exhaustion "fuel exhausted")
    end;
    m.pc <- pc + 1;
    match c.code.(pc) with
    | Code.Skip -> ()
    | Code.Plain i -> plain m i
    | Code.Jump t -> m.pc <- t
    | Code.JumpIfZero t ->
      m.sp <- m.sp - 1;
      if gi32 m m.sp = 0l then m.pc <- t
    | Code.Br t -> branch m t
    | Code.BrIf t ->
      m.sp <- m.sp - 1;
      if gi32 m m.sp <> 0l then branch m t
    | Code.BrTable (ts, d) ->
      m.sp <- m.sp - 1;
      let i = gu32 m m.sp in
      branch m (if i < Array.length ts then ts.(i) else d)
    | Code.Return -> return m
    | Code.Call x -> call m m.inst.funcs.(x)
    | Code.CallIndirect (x, y) ->
      m.sp <- m.sp - 1;
      let i = gu32 m m.sp in
      let tab = m.inst.tables.(y) in
      if i >= Array.length tab.elems then Trap.trap (Printf.sprintf "undefined element %d" i);
      (match tab.elems.(i) with
       | FuncRef f ->
         if f.ftype <> m.inst.types.(x) then Trap.trap "indirect call type mismatch";
         call m f
       | _ -> Trap.trap (Printf.sprintf "uninitialized element %d" i))
    | Code.LocalGetRef x -> m.refs.(m.sp) <- m.refs.(m.fp + x); m.sp <- m.sp + 1
    | Code.LocalSetRef x -> m.sp <- m.sp - 1; m.refs.(m.fp + x) <- m.refs.(m.sp)
    | Code.LocalTeeRef x -> m.refs.(m.fp + x) <- m.refs.(m.sp - 1)
    | Code.SelectRef ->
      let sp = m.sp in
      if gi32 m (sp - 1) = 0l then m.refs.(sp - 3) <- m.refs.(sp - 2);
      m.sp <- sp - 2
    | Code.LocalGet x -> let sp = m.sp in si64 m sp (gi64 m (m.fp + x)); m.sp <- sp + 1
    | Code.LocalSet x -> let sp = m.sp - 1 in si64 m (m.fp + x) (gi64 m sp); m.sp <- sp
    | Code.LocalTee x -> si64 m (m.fp + x) (gi64 m (m.sp - 1))
    | Code.Const32 n -> let sp = m.sp in si32 m sp n; m.sp <- sp + 1
    | Code.Const64 n -> let sp = m.sp in si64 m sp n; m.sp <- sp + 1
    | Code.I32Add -> bin32 m Int32.add
    | Code.I32Sub -> bin32 m Int32.sub
    | Code.I32Mul -> bin32 m Int32.mul
    | Code.I32And -> bin32 m Int32.logand
    | Code.I32Or -> bin32 m Int32.logor
    | Code.I32Xor -> bin32 m Int32.logxor
    | Code.I32Shl -> bin32 m I32.shl
    | Code.I32ShrS -> bin32 m I32.shr_s
    | Code.I32ShrU -> bin32 m I32.shr_u
    | Code.I32Eqz -> let b = m.sp - 1 in sbool m b (gi32 m b = 0l)
    | Code.I32Eq -> let a = pop1 m in sbool m a (gi32 m a = gi32 m (a + 1))
    | Code.I32Ne -> let a = pop1 m in sbool m a (gi32 m a <> gi32 m (a + 1))
    | Code.I32LtS -> let a = pop1 m in sbool m a (gi32 m a < gi32 m (a + 1))
    | Code.I32LtU -> let a = pop1 m in sbool m a (ult32 (gi32 m a) (gi32 m (a + 1)))
    | Code.I32GtS -> let a = pop1 m in sbool m a (gi32 m a > gi32 m (a + 1))
    | Code.I32GtU -> let a = pop1 m in sbool m a (ult32 (gi32 m (a + 1)) (gi32 m a))
    | Code.I32LeS -> let a = pop1 m in sbool m a (gi32 m a <= gi32 m (a + 1))
    | Code.I32LeU -> let a = pop1 m in sbool m a (not (ult32 (gi32 m (a + 1)) (gi32 m a)))
    | Code.I32GeS -> let a = pop1 m in sbool m a (gi32 m a >= gi32 m (a + 1))
    | Code.I32GeU -> let a = pop1 m in sbool m a (not (ult32 (gi32 m a) (gi32 m (a + 1))))
    | Code.I64Add -> bin64 m Int64.add
    | Code.I64Sub -> bin64 m Int64.sub
    | Code.I32Load off ->
      let b = m.sp - 1 in
      let mem = m.inst.mems.(0) in
      let addr = gu32 m b + off in
      Memory.check mem addr 4;
      si32 m b (get32 mem.data addr)
    | Code.I32Load8U off ->
      let b = m.sp - 1 in
      let mem = m.inst.mems.(0) in
      let addr = gu32 m b + off in
      Memory.check mem addr 1;
      si32 m b (Int32.of_int (Bytes.get_uint8 mem.data addr))
    | Code.I32Store8 off ->
      let a = m.sp - 2 in
      let mem = m.inst.mems.(0) in
      let addr = gu32 m a + off in
      Memory.check mem addr 1;
      Bytes.set_int8 mem.data addr (Int32.to_int (gi32 m (a + 1)));
      m.sp <- a
    | Code.I32Store off ->
      let a = m.sp - 2 in
      let mem = m.inst.mems.(0) in
      let addr = gu32 m a + off in
      Memory.check mem addr 4;
      set32 mem.data addr (gi32 m (a + 1));
      m.sp <- a
  done

(** Invokes a function with arguments of the right types; returns its results. *)
let invoke (f : func) (args : value array) : value array =
  let saved = !depth in
  try
    let res =
      match f.kind with
      | Host id ->
        if !depth >= !max_depth then raise (Trap.Exhaustion "call stack exhausted");
        incr depth;
        !host_call id f.ftype args
      | Wasm (inst, c) ->
        let n = Array.length args + 64 in
        let m = { nums = Bytes.make (n lsl 3) '\000'; refs = Array.make n Null; sp = 0; fp = 0;
                  base = 0; pc = -1; cur = c; inst; frames = [] } in
        Array.iteri (write_slot m) args;
        m.sp <- Array.length args;
        enter m inst c;
        run m;
        Array.mapi (fun i t -> read_slot m t i) c.results
    in
    depth := saved;
    res
  with e -> depth := saved; raise e

(** Value of a constant expression. *)
let eval_const (inst : instance) (e : Ast.const_expr) : value =
  let v = ref Null in
  Array.iter (function
      | I32Const n -> v := I32 n | I64Const n -> v := I64 n
      | F32Const n -> v := F32 n | F64Const n -> v := F64 n
      | RefNull _ -> v := Null
      | RefFunc x -> v := FuncRef inst.funcs.(x)
      | GlobalGet x -> v := inst.globals.(x).value
      | _ -> crash ()) e;
  !v
