(** Execution. A machine runs compiled bodies ([Code]) with one explicit value stack
    (locals of a frame sit below its operands) and an explicit frame list, so wasm calls do
    not recurse in OCaml; only host functions re-enter [invoke]. Call depth and an optional
    fuel budget end in [Trap.Exhaustion]. *)

open Types
open Ast
open Instance

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
  mutable stack : value array;
  mutable sp : int;
  mutable fp : int;  (** first local *)
  mutable base : int;  (** first operand *)
  mutable pc : int;
  mutable cur : Code.t;
  mutable inst : instance;
  mutable frames : frame list;
}

let crash () = failwith "ill-typed operand (validation bug)"

let i32_of = function I32 x -> x | _ -> crash ()

(* Unsigned value of an i32 address or length. *)
let u32 = function I32 x -> Int32.to_int x land 0xffffffff | _ -> crash ()

let one = I32 1l
let zero = I32 0l
let[@inline] bool b = if b then one else zero

let i32_bin op a b =
  match op with
  | Add -> Int32.add a b | Sub -> Int32.sub a b | Mul -> Int32.mul a b
  | DivS -> I32.div_s a b | DivU -> I32.div_u a b
  | RemS -> let r = I32.rem_s a b in if !fault_i32_rem_s then Int32.add r 1l else r
  | RemU -> I32.rem_u a b
  | And -> Int32.logand a b | Or -> Int32.logor a b | Xor -> Int32.logxor a b
  | Shl -> I32.shl a b | ShrS -> I32.shr_s a b | ShrU -> I32.shr_u a b
  | Rotl -> I32.rotl a b | Rotr -> I32.rotr a b

let i64_bin op a b =
  match op with
  | Add -> Int64.add a b | Sub -> Int64.sub a b | Mul -> Int64.mul a b
  | DivS -> I64.div_s a b | DivU -> I64.div_u a b
  | RemS -> let r = I64.rem_s a b in if !fault_i64_rem_s then Int64.add r 1L else r
  | RemU -> I64.rem_u a b
  | And -> Int64.logand a b | Or -> Int64.logor a b | Xor -> Int64.logxor a b
  | Shl -> I64.shl a b | ShrS -> I64.shr_s a b | ShrU -> I64.shr_u a b
  | Rotl -> I64.rotl a b | Rotr -> I64.rotr a b

let i32_un op a =
  match op with
  | Clz -> I32.clz a | Ctz -> I32.ctz a | Popcnt -> I32.popcnt a
  | Extend8S -> I32.extend8_s a | Extend16S -> I32.extend16_s a | Extend32S -> crash ()

let i64_un op a =
  match op with
  | Clz -> I64.clz a | Ctz -> I64.ctz a | Popcnt -> I64.popcnt a
  | Extend8S -> I64.extend8_s a | Extend16S -> I64.extend16_s a
  | Extend32S -> I64.extend32_s a

let i32_rel op a b =
  match op with
  | Eq -> a = b | Ne -> a <> b
  | LtS -> Int32.compare a b < 0 | LtU -> Int32.unsigned_compare a b < 0
  | GtS -> Int32.compare a b > 0 | GtU -> Int32.unsigned_compare a b > 0
  | LeS -> Int32.compare a b <= 0 | LeU -> Int32.unsigned_compare a b <= 0
  | GeS -> Int32.compare a b >= 0 | GeU -> Int32.unsigned_compare a b >= 0

let i64_rel op a b =
  match op with
  | Eq -> a = b | Ne -> a <> b
  | LtS -> Int64.compare a b < 0 | LtU -> Int64.unsigned_compare a b < 0
  | GtS -> Int64.compare a b > 0 | GtU -> Int64.unsigned_compare a b > 0
  | LeS -> Int64.compare a b <= 0 | LeU -> Int64.unsigned_compare a b <= 0
  | GeS -> Int64.compare a b >= 0 | GeU -> Int64.unsigned_compare a b >= 0

let f32_un op a =
  match op with
  | Abs -> F32.abs a | Neg -> F32.neg a | Sqrt -> F32.sqrt a | Ceil -> F32.ceil a
  | Floor -> F32.floor a | Trunc -> F32.trunc a | Nearest -> F32.nearest a

let f64_un op a =
  match op with
  | Abs -> F64.abs a | Neg -> F64.neg a | Sqrt -> F64.sqrt a | Ceil -> F64.ceil a
  | Floor -> F64.floor a | Trunc -> F64.trunc a | Nearest -> F64.nearest a

let f32_bin op a b =
  match op with
  | FAdd -> F32.add a b | FSub -> F32.sub a b | FMul -> F32.mul a b | FDiv -> F32.div a b
  | FMin -> F32.min a b | FMax -> F32.max a b | FCopysign -> F32.copysign a b

let f64_bin op a b =
  match op with
  | FAdd -> F64.add a b | FSub -> F64.sub a b | FMul -> F64.mul a b | FDiv -> F64.div a b
  | FMin -> F64.min a b | FMax -> F64.max a b | FCopysign -> F64.copysign a b

let f32_rel op a b =
  match op with
  | FEq -> F32.eq a b | FNe -> F32.ne a b | FLt -> F32.lt a b
  | FGt -> F32.gt a b | FLe -> F32.le a b | FGe -> F32.ge a b

let f64_rel op a b =
  match op with
  | FEq -> F64.eq a b | FNe -> F64.ne a b | FLt -> F64.lt a b
  | FGt -> F64.gt a b | FLe -> F64.le a b | FGe -> F64.ge a b

let f32f = Int32.float_of_bits
let f64f = Int64.float_of_bits

let convert op v =
  match op, v with
  | I32WrapI64, I64 x -> I32 (Int64.to_int32 x)
  | I64ExtendI32S, I32 x -> I64 (Int64.of_int32 x)
  | I64ExtendI32U, I32 x -> I64 (Int64.logand (Int64.of_int32 x) 0xffffffffL)
  | I32TruncF32S, F32 x -> I32 (Convert.i32_trunc_s (f32f x))
  | I32TruncF32U, F32 x -> I32 (Convert.i32_trunc_u (f32f x))
  | I32TruncF64S, F64 x -> I32 (Convert.i32_trunc_s (f64f x))
  | I32TruncF64U, F64 x -> I32 (Convert.i32_trunc_u (f64f x))
  | I64TruncF32S, F32 x -> I64 (Convert.i64_trunc_s (f32f x))
  | I64TruncF32U, F32 x -> I64 (Convert.i64_trunc_u (f32f x))
  | I64TruncF64S, F64 x -> I64 (Convert.i64_trunc_s (f64f x))
  | I64TruncF64U, F64 x -> I64 (Convert.i64_trunc_u (f64f x))
  | I32TruncSatF32S, F32 x -> I32 (Convert.i32_trunc_sat_s (f32f x))
  | I32TruncSatF32U, F32 x -> I32 (Convert.i32_trunc_sat_u (f32f x))
  | I32TruncSatF64S, F64 x -> I32 (Convert.i32_trunc_sat_s (f64f x))
  | I32TruncSatF64U, F64 x -> I32 (Convert.i32_trunc_sat_u (f64f x))
  | I64TruncSatF32S, F32 x -> I64 (Convert.i64_trunc_sat_s (f32f x))
  | I64TruncSatF32U, F32 x -> I64 (Convert.i64_trunc_sat_u (f32f x))
  | I64TruncSatF64S, F64 x -> I64 (Convert.i64_trunc_sat_s (f64f x))
  | I64TruncSatF64U, F64 x -> I64 (Convert.i64_trunc_sat_u (f64f x))
  | F32ConvertI32S, I32 x -> F32 (Convert.f32_convert_i32_s x)
  | F32ConvertI32U, I32 x -> F32 (Convert.f32_convert_i32_u x)
  | F32ConvertI64S, I64 x -> F32 (Convert.f32_convert_i64_s x)
  | F32ConvertI64U, I64 x -> F32 (Convert.f32_convert_i64_u x)
  | F32DemoteF64, F64 x -> F32 (Convert.f32_demote_f64 x)
  | F64ConvertI32S, I32 x -> F64 (Convert.f64_convert_i32_s x)
  | F64ConvertI32U, I32 x -> F64 (Convert.f64_convert_i32_u x)
  | F64ConvertI64S, I64 x -> F64 (Convert.f64_convert_i64_s x)
  | F64ConvertI64U, I64 x -> F64 (Convert.f64_convert_i64_u x)
  | F64PromoteF32, F32 x -> F64 (Convert.f64_promote_f32 x)
  | I32ReinterpretF32, F32 x -> I32 x
  | I64ReinterpretF64, F64 x -> I64 x
  | F32ReinterpretI32, I32 x -> F32 x
  | F64ReinterpretI64, I64 x -> F64 x
  | _ -> crash ()

let load (mem : Memory.t) op addr =
  let d = mem.data in
  let chk n = Memory.check mem addr n in
  match op with
  | I32Load -> chk 4; I32 (Bytes.get_int32_le d addr)
  | I64Load -> chk 8; I64 (Bytes.get_int64_le d addr)
  | F32Load -> chk 4; F32 (Bytes.get_int32_le d addr)
  | F64Load -> chk 8; F64 (Bytes.get_int64_le d addr)
  | I32Load8S -> chk 1; I32 (Int32.of_int (Bytes.get_int8 d addr))
  | I32Load8U -> chk 1; I32 (Int32.of_int (Bytes.get_uint8 d addr))
  | I32Load16S -> chk 2; I32 (Int32.of_int (Bytes.get_int16_le d addr))
  | I32Load16U -> chk 2; I32 (Int32.of_int (Bytes.get_uint16_le d addr))
  | I64Load8S -> chk 1; I64 (Int64.of_int (Bytes.get_int8 d addr))
  | I64Load8U -> chk 1; I64 (Int64.of_int (Bytes.get_uint8 d addr))
  | I64Load16S -> chk 2; I64 (Int64.of_int (Bytes.get_int16_le d addr))
  | I64Load16U -> chk 2; I64 (Int64.of_int (Bytes.get_uint16_le d addr))
  | I64Load32S -> chk 4; I64 (Int64.of_int32 (Bytes.get_int32_le d addr))
  | I64Load32U ->
    chk 4; I64 (Int64.logand (Int64.of_int32 (Bytes.get_int32_le d addr)) 0xffffffffL)

let store (mem : Memory.t) op addr v =
  let d = mem.data in
  let chk n = Memory.check mem addr n in
  match op, v with
  | I32Store, I32 x -> chk 4; Bytes.set_int32_le d addr x
  | I64Store, I64 x -> chk 8; Bytes.set_int64_le d addr x
  | F32Store, F32 x -> chk 4; Bytes.set_int32_le d addr x
  | F64Store, F64 x -> chk 8; Bytes.set_int64_le d addr x
  | I32Store8, I32 x -> chk 1; Bytes.set_int8 d addr (Int32.to_int x)
  | I32Store16, I32 x -> chk 2; Bytes.set_int16_le d addr (Int32.to_int x)
  | I64Store8, I64 x -> chk 1; Bytes.set_int8 d addr (Int64.to_int x)
  | I64Store16, I64 x -> chk 2; Bytes.set_int16_le d addr (Int64.to_int x)
  | I64Store32, I64 x -> chk 4; Bytes.set_int32_le d addr (Int64.to_int32 x)
  | _ -> crash ()

let[@inline] push m v = m.stack.(m.sp) <- v; m.sp <- m.sp + 1

(* The three i32 operands of a bulk instruction, popped: first as an unsigned int, second
   as a value, third as an unsigned int. *)
let[@inline] pop3 m =
  let s = m.stack and sp = m.sp - 3 in
  m.sp <- sp;
  u32 s.(sp), s.(sp + 1), u32 s.(sp + 2)

(** Executes one non-control instruction. *)
let plain m (i : Ast.instr) =
  let s = m.stack and sp = m.sp in
  match i with
  | Unreachable -> Trap.trap "unreachable executed"
  | Drop -> m.sp <- sp - 1
  | Select _ ->
    m.sp <- sp - 2;
    (match s.(sp - 1) with I32 0l -> s.(sp - 3) <- s.(sp - 2) | _ -> ())
  | LocalGet x -> s.(sp) <- s.(m.fp + x); m.sp <- sp + 1
  | LocalSet x -> s.(m.fp + x) <- s.(sp - 1); m.sp <- sp - 1
  | LocalTee x -> s.(m.fp + x) <- s.(sp - 1)
  | GlobalGet x -> push m m.inst.globals.(x).value
  | GlobalSet x -> m.inst.globals.(x).value <- s.(sp - 1); m.sp <- sp - 1
  | I32Const n -> s.(sp) <- I32 n; m.sp <- sp + 1
  | I64Const n -> s.(sp) <- I64 n; m.sp <- sp + 1
  | F32Const n -> s.(sp) <- F32 n; m.sp <- sp + 1
  | F64Const n -> s.(sp) <- F64 n; m.sp <- sp + 1
  | I32Binary op ->
    (match s.(sp - 2), s.(sp - 1) with
     | I32 a, I32 b -> s.(sp - 2) <- I32 (i32_bin op a b); m.sp <- sp - 1
     | _ -> crash ())
  | I64Binary op ->
    (match s.(sp - 2), s.(sp - 1) with
     | I64 a, I64 b -> s.(sp - 2) <- I64 (i64_bin op a b); m.sp <- sp - 1
     | _ -> crash ())
  | F32Binary op ->
    (match s.(sp - 2), s.(sp - 1) with
     | F32 a, F32 b -> s.(sp - 2) <- F32 (f32_bin op a b); m.sp <- sp - 1
     | _ -> crash ())
  | F64Binary op ->
    (match s.(sp - 2), s.(sp - 1) with
     | F64 a, F64 b -> s.(sp - 2) <- F64 (f64_bin op a b); m.sp <- sp - 1
     | _ -> crash ())
  | I32Compare op ->
    (match s.(sp - 2), s.(sp - 1) with
     | I32 a, I32 b -> s.(sp - 2) <- bool (i32_rel op a b); m.sp <- sp - 1
     | _ -> crash ())
  | I64Compare op ->
    (match s.(sp - 2), s.(sp - 1) with
     | I64 a, I64 b -> s.(sp - 2) <- bool (i64_rel op a b); m.sp <- sp - 1
     | _ -> crash ())
  | F32Compare op ->
    (match s.(sp - 2), s.(sp - 1) with
     | F32 a, F32 b -> s.(sp - 2) <- bool (f32_rel op a b); m.sp <- sp - 1
     | _ -> crash ())
  | F64Compare op ->
    (match s.(sp - 2), s.(sp - 1) with
     | F64 a, F64 b -> s.(sp - 2) <- bool (f64_rel op a b); m.sp <- sp - 1
     | _ -> crash ())
  | I32Unary op ->
    (match s.(sp - 1) with I32 a -> s.(sp - 1) <- I32 (i32_un op a) | _ -> crash ())
  | I64Unary op ->
    (match s.(sp - 1) with I64 a -> s.(sp - 1) <- I64 (i64_un op a) | _ -> crash ())
  | F32Unary op ->
    (match s.(sp - 1) with F32 a -> s.(sp - 1) <- F32 (f32_un op a) | _ -> crash ())
  | F64Unary op ->
    (match s.(sp - 1) with F64 a -> s.(sp - 1) <- F64 (f64_un op a) | _ -> crash ())
  | I32Eqz -> (match s.(sp - 1) with I32 a -> s.(sp - 1) <- bool (a = 0l) | _ -> crash ())
  | I64Eqz -> (match s.(sp - 1) with I64 a -> s.(sp - 1) <- bool (a = 0L) | _ -> crash ())
  | Convert op -> s.(sp - 1) <- convert op s.(sp - 1)
  | Load (op, ma) ->
    s.(sp - 1) <- load m.inst.mems.(0) op (u32 s.(sp - 1) + ma.offset)
  | Store (op, ma) ->
    m.sp <- sp - 2;
    store m.inst.mems.(0) op (u32 s.(sp - 2) + ma.offset) s.(sp - 1)
  | MemorySize -> push m (I32 (Int32.of_int (Memory.size m.inst.mems.(0))))
  | MemoryGrow ->
    let r = match Memory.grow m.inst.mems.(0) (u32 s.(sp - 1)) with
      | Some old -> Int32.of_int old | None -> -1l in
    s.(sp - 1) <- I32 r
  | MemoryFill ->
    let d, v, n = pop3 m in Memory.fill m.inst.mems.(0) d (Int32.to_int (i32_of v)) n
  | MemoryCopy -> let d, sv, n = pop3 m in Memory.copy m.inst.mems.(0) d (u32 sv) n
  | MemoryInit x ->
    let d, sv, n = pop3 m in Memory.init m.inst.mems.(0) d m.inst.data_segs.(x) (u32 sv) n
  | DataDrop x -> m.inst.data_segs.(x) <- ""
  | RefNull _ -> push m Null
  | RefIsNull -> s.(sp - 1) <- (match s.(sp - 1) with Null -> I32 1l | _ -> I32 0l)
  | RefFunc x -> push m (FuncRef m.inst.funcs.(x))
  | TableGet x -> s.(sp - 1) <- Table.get m.inst.tables.(x) (u32 s.(sp - 1))
  | TableSet x -> m.sp <- sp - 2; Table.set m.inst.tables.(x) (u32 s.(sp - 2)) s.(sp - 1)
  | TableSize x -> push m (I32 (Int32.of_int (Table.size m.inst.tables.(x))))
  | TableGrow x ->
    m.sp <- sp - 1;
    let r = match Table.grow m.inst.tables.(x) (u32 s.(sp - 1)) s.(sp - 2) with
      | Some old -> Int32.of_int old | None -> -1l in
    s.(sp - 2) <- I32 r
  | TableFill x -> let i, v, n = pop3 m in Table.fill m.inst.tables.(x) i v n
  | TableCopy (x, y) ->
    let d, sv, n = pop3 m in Table.copy m.inst.tables.(x) d m.inst.tables.(y) (u32 sv) n
  | TableInit (x, y) ->
    let d, sv, n = pop3 m in Table.init m.inst.tables.(x) d m.inst.elem_segs.(y) (u32 sv) n
  | ElemDrop y -> m.inst.elem_segs.(y) <- [||]
  | Nop | Block _ | Loop _ | If _ | Else | End | Br _ | BrIf _ | BrTable _ | Return
  | Call _ | CallIndirect _ -> crash ()

(** Enters wasm code [c] of [inst]; its arguments are the top of the stack. *)
let enter m inst (c : Code.t) =
  if !depth >= !max_depth then raise (Trap.Exhaustion "call stack exhausted");
  incr depth;
  let fp = m.sp - c.params in
  let nl = Array.length c.locals in
  let base = fp + c.params + nl in
  let need = base + c.max_height + 1 in
  if need > Array.length m.stack then begin
    let a = Array.make (max need (2 * Array.length m.stack)) Null in
    Array.blit m.stack 0 a 0 m.sp;
    m.stack <- a
  end;
  for i = 0 to nl - 1 do m.stack.(fp + c.params + i) <- default c.locals.(i) done;
  m.frames <- { fcode = m.cur; fpc = m.pc; ffp = m.fp; fbase = m.base; finst = m.inst }
              :: m.frames;
  m.fp <- fp; m.base <- base; m.sp <- base; m.cur <- c; m.pc <- 0; m.inst <- inst

let return m =
  let n = m.cur.results in
  Array.blit m.stack (m.sp - n) m.stack m.fp n;
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
    Array.blit m.stack (m.sp - t.arity) m.stack dst t.arity;
    m.sp <- dst + t.arity;
    m.pc <- t.pc
  end

let call_host m id (ft : functype) =
  let np = Array.length ft.params in
  let args = Array.sub m.stack (m.sp - np) np in
  m.sp <- m.sp - np;
  let res = !host_call id ft args in
  Array.iteri (fun i v -> m.stack.(m.sp + i) <- v) res;
  m.sp <- m.sp + Array.length res

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
      (match m.stack.(m.sp) with I32 0l -> m.pc <- t | _ -> ())
    | Code.Br t -> branch m t
    | Code.BrIf t ->
      m.sp <- m.sp - 1;
      (match m.stack.(m.sp) with I32 0l -> () | _ -> branch m t)
    | Code.BrTable (ts, d) ->
      m.sp <- m.sp - 1;
      let i = u32 m.stack.(m.sp) in
      branch m (if i < Array.length ts then ts.(i) else d)
    | Code.Return -> return m
    | Code.Call x -> call m m.inst.funcs.(x)
    | Code.CallIndirect (x, y) ->
      m.sp <- m.sp - 1;
      let i = u32 m.stack.(m.sp) in
      let tab = m.inst.tables.(y) in
      if i >= Array.length tab.elems then Trap.trap (Printf.sprintf "undefined element %d" i);
      (match tab.elems.(i) with
       | FuncRef f ->
         if f.ftype <> m.inst.types.(x) then Trap.trap "indirect call type mismatch";
         call m f
       | _ -> Trap.trap (Printf.sprintf "uninitialized element %d" i))
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
        let m = { stack = Array.make (Array.length args + 64) Null; sp = 0; fp = 0; base = 0;
                  pc = -1; cur = c; inst; frames = [] } in
        Array.blit args 0 m.stack 0 (Array.length args);
        m.sp <- Array.length args;
        enter m inst c;
        run m;
        Array.sub m.stack 0 c.results
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
