(** Binary decoder: turns the bytes of a module into an [Ast.module_]. Every malformed
    input raises [Decode_error] with the reference interpreter's message texts. *)

open Types
open Ast

exception Decode_error of string

let error msg = raise (Decode_error msg)

type stream = { bytes : string; mutable pos : int }

let eos s = s.pos >= String.length s.bytes

let byte s =
  if eos s then error "unexpected end of section or function";
  let b = Char.code s.bytes.[s.pos] in
  s.pos <- s.pos + 1;
  b

let get_string s n =
  if n > String.length s.bytes - s.pos then error "unexpected end of section or function";
  let r = String.sub s.bytes s.pos n in
  s.pos <- s.pos + n;
  r

(* LEB128 of at most [bits] significant bits. *)
let leb_u bits s =
  let maxb = (bits + 6) / 7 in
  let rec go acc shift i =
    let b = byte s in
    if i = maxb - 1 then begin
      if b land 0x80 <> 0 then error "integer representation too long";
      let used = bits - shift in
      if used < 7 && b lsr used <> 0 then error "integer too large";
      Int64.logor acc (Int64.shift_left (Int64.of_int b) shift)
    end else begin
      let acc = Int64.logor acc (Int64.shift_left (Int64.of_int (b land 0x7f)) shift) in
      if b land 0x80 = 0 then acc else go acc (shift + 7) (i + 1)
    end
  in
  go 0L 0 0

let leb_s bits s =
  let maxb = (bits + 6) / 7 in
  let rec go acc shift i =
    let b = byte s in
    if i = maxb - 1 then begin
      if b land 0x80 <> 0 then error "integer representation too long";
      let used = bits - shift in
      (if used < 7 then
         let mask = 0x7f land lnot ((1 lsl (used - 1)) - 1) in
         let hi = b land mask in
         if hi <> 0 && hi <> mask then error "integer too large");
      let v = Int64.logor acc (Int64.shift_left (Int64.of_int (b land 0x7f)) shift) in
      let total = shift + 7 in
      if total < 64 then Int64.shift_right (Int64.shift_left v (64 - total)) (64 - total)
      else v
    end else begin
      let acc = Int64.logor acc (Int64.shift_left (Int64.of_int (b land 0x7f)) shift) in
      if b land 0x80 = 0 then begin
        let total = shift + 7 in
        if total < 64 then Int64.shift_right (Int64.shift_left acc (64 - total)) (64 - total)
        else acc
      end else go acc (shift + 7) (i + 1)
    end
  in
  go 0L 0 0

let u32 s = Int64.to_int (leb_u 32 s)
let s32 s = Int64.to_int32 (leb_s 32 s)
let s64 s = leb_s 64 s

let fixed32 s = String.get_int32_le (get_string s 4) 0
let fixed64 s = String.get_int64_le (get_string s 8) 0

(* A byte length checked against the rest of the input. *)
let len32 s =
  let n = u32 s in
  if n > String.length s.bytes - s.pos then error "length out of bounds";
  n

(* Elements are read one by one, so a huge count fails at the end of input rather than
   allocating up front. *)
let vec f s =
  let n = u32 s in
  let rec go i acc = if i = n then Array.of_list (List.rev acc) else go (i + 1) (f s :: acc) in
  go 0 []

let utf8_valid str =
  let n = String.length str in
  let rec go i =
    if i >= n then true
    else
      let c = Char.code str.[i] in
      let cont j = j < n && Char.code str.[j] land 0xc0 = 0x80 in
      let cb j = Char.code str.[j] land 0x3f in
      if c < 0x80 then go (i + 1)
      else if c < 0xc2 then false
      else if c < 0xe0 then cont (i + 1) && go (i + 2)
      else if c < 0xf0 then
        cont (i + 1) && cont (i + 2)
        && (let v = ((c land 0xf) lsl 12) lor (cb (i + 1) lsl 6) lor cb (i + 2) in
            v >= 0x800 && (v < 0xd800 || v > 0xdfff))
        && go (i + 3)
      else if c < 0xf5 then
        cont (i + 1) && cont (i + 2) && cont (i + 3)
        && (let v = ((c land 7) lsl 18) lor (cb (i + 1) lsl 12) lor (cb (i + 2) lsl 6)
                    lor cb (i + 3) in
            v >= 0x10000 && v <= 0x10ffff)
        && go (i + 4)
      else false
  in
  go 0

let name s =
  let n = len32 s in
  let str = get_string s n in
  if not (utf8_valid str) then error "malformed UTF-8 encoding";
  str

(* Types *)

let reftype s =
  match byte s with
  | 0x70 -> FuncRefT
  | 0x6f -> ExternRefT
  | _ -> error "malformed reference type"

let valtype_of_byte = function
  | 0x7f -> Some (Num I32T) | 0x7e -> Some (Num I64T)
  | 0x7d -> Some (Num F32T) | 0x7c -> Some (Num F64T)
  | 0x70 -> Some (Ref FuncRefT) | 0x6f -> Some (Ref ExternRefT)
  | _ -> None

let valtype s =
  match valtype_of_byte (byte s) with Some t -> t | None -> error "malformed value type"

let functype s =
  if byte s <> 0x60 then error "malformed function type";
  let params = vec valtype s in
  let results = vec valtype s in
  { params; results }

let limits s =
  let flag = Int64.to_int (leb_u 1 s) in
  let min = u32 s in
  let max = if flag = 1 then Some (u32 s) else None in
  { min; max }

let tabletype s =
  let elem = reftype s in
  let tlimits = limits s in
  { tlimits; elem }

let memtype s = { mlimits = limits s }

let mut s =
  match byte s with 0 -> Const | 1 -> Var | _ -> error "malformed mutability"

let globaltype s =
  let gtype = valtype s in
  let gmut = mut s in
  { gtype; gmut }

(* Instructions *)

let blocktype s =
  if eos s then error "unexpected end of section or function";
  let b = Char.code s.bytes.[s.pos] in
  if b = 0x40 then (s.pos <- s.pos + 1; BlockEmpty)
  else
    match valtype_of_byte b with
    | Some t -> s.pos <- s.pos + 1; BlockVal t
    | None ->
      let x = leb_s 33 s in
      if Int64.compare x 0L < 0 then error "malformed block type";
      BlockType (Int64.to_int x)

let memarg s =
  let align = u32 s in
  if align >= 32 then error "malformed memop flags";
  let offset = u32 s in
  { align; offset }

let zero s = if byte s <> 0 then error "zero byte expected"

let irel = [| Eq; Ne; LtS; LtU; GtS; GtU; LeS; LeU; GeS; GeU |]
let frel = [| FEq; FNe; FLt; FGt; FLe; FGe |]
let ibin = [| Add; Sub; Mul; DivS; DivU; RemS; RemU; And; Or; Xor; Shl; ShrS; ShrU; Rotl; Rotr |]
let fun_ = [| Abs; Neg; Ceil; Floor; Trunc; Nearest; Sqrt |]
let fbin = [| FAdd; FSub; FMul; FDiv; FMin; FMax; FCopysign |]
let cvt = [|
  I32WrapI64; I32TruncF32S; I32TruncF32U; I32TruncF64S; I32TruncF64U;
  I64ExtendI32S; I64ExtendI32U; I64TruncF32S; I64TruncF32U; I64TruncF64S; I64TruncF64U;
  F32ConvertI32S; F32ConvertI32U; F32ConvertI64S; F32ConvertI64U; F32DemoteF64;
  F64ConvertI32S; F64ConvertI32U; F64ConvertI64S; F64ConvertI64U; F64PromoteF32;
  I32ReinterpretF32; I64ReinterpretF64; F32ReinterpretI32; F64ReinterpretI64 |]
let loads = [| I32Load; I64Load; F32Load; F64Load; I32Load8S; I32Load8U; I32Load16S;
               I32Load16U; I64Load8S; I64Load8U; I64Load16S; I64Load16U; I64Load32S;
               I64Load32U |]
let stores = [| I32Store; I64Store; F32Store; F64Store; I32Store8; I32Store16; I64Store8;
                I64Store16; I64Store32 |]
let sats = [| I32TruncSatF32S; I32TruncSatF32U; I32TruncSatF64S; I32TruncSatF64U;
              I64TruncSatF32S; I64TruncSatF32U; I64TruncSatF64S; I64TruncSatF64U |]

(* The instruction of a one-byte opcode, after the opcode. *)
let op_instr op s =
  match op with
  | 0x00 -> Unreachable | 0x01 -> Nop
  | 0x02 -> Block (blocktype s) | 0x03 -> Loop (blocktype s) | 0x04 -> If (blocktype s)
  | 0x05 -> Else | 0x0b -> End
  | 0x0c -> Br (u32 s) | 0x0d -> BrIf (u32 s)
  | 0x0e -> let ls = vec u32 s in BrTable (ls, u32 s)
  | 0x0f -> Return
  | 0x10 -> Call (u32 s)
  | 0x11 -> let y = u32 s in CallIndirect (y, u32 s)
  | 0x1a -> Drop | 0x1b -> Select None
  | 0x1c -> Select (Some (vec valtype s))
  | 0x20 -> LocalGet (u32 s) | 0x21 -> LocalSet (u32 s) | 0x22 -> LocalTee (u32 s)
  | 0x23 -> GlobalGet (u32 s) | 0x24 -> GlobalSet (u32 s)
  | 0x25 -> TableGet (u32 s) | 0x26 -> TableSet (u32 s)
  | n when n >= 0x28 && n <= 0x35 -> let m = memarg s in Load (loads.(n - 0x28), m)
  | n when n >= 0x36 && n <= 0x3e -> let m = memarg s in Store (stores.(n - 0x36), m)
  | 0x3f -> zero s; MemorySize | 0x40 -> zero s; MemoryGrow
  | 0x41 -> I32Const (s32 s) | 0x42 -> I64Const (s64 s)
  | 0x43 -> F32Const (fixed32 s) | 0x44 -> F64Const (fixed64 s)
  | 0x45 -> I32Eqz
  | n when n >= 0x46 && n <= 0x4f -> I32Compare irel.(n - 0x46)
  | 0x50 -> I64Eqz
  | n when n >= 0x51 && n <= 0x5a -> I64Compare irel.(n - 0x51)
  | n when n >= 0x5b && n <= 0x60 -> F32Compare frel.(n - 0x5b)
  | n when n >= 0x61 && n <= 0x66 -> F64Compare frel.(n - 0x61)
  | 0x67 -> I32Unary Clz | 0x68 -> I32Unary Ctz | 0x69 -> I32Unary Popcnt
  | n when n >= 0x6a && n <= 0x78 -> I32Binary ibin.(n - 0x6a)
  | 0x79 -> I64Unary Clz | 0x7a -> I64Unary Ctz | 0x7b -> I64Unary Popcnt
  | n when n >= 0x7c && n <= 0x8a -> I64Binary ibin.(n - 0x7c)
  | n when n >= 0x8b && n <= 0x91 -> F32Unary fun_.(n - 0x8b)
  | n when n >= 0x92 && n <= 0x98 -> F32Binary fbin.(n - 0x92)
  | n when n >= 0x99 && n <= 0x9f -> F64Unary fun_.(n - 0x99)
  | n when n >= 0xa0 && n <= 0xa6 -> F64Binary fbin.(n - 0xa0)
  | n when n >= 0xa7 && n <= 0xbf -> Convert cvt.(n - 0xa7)
  | 0xc0 -> I32Unary Extend8S | 0xc1 -> I32Unary Extend16S
  | 0xc2 -> I64Unary Extend8S | 0xc3 -> I64Unary Extend16S | 0xc4 -> I64Unary Extend32S
  | 0xd0 -> RefNull (reftype s) | 0xd1 -> RefIsNull | 0xd2 -> RefFunc (u32 s)
  | _ -> error "illegal opcode"

(* The instruction of opcode 0xFC [n], after [n]. *)
let fc_instr n s =
  match n with
  | n when n <= 7 -> Convert sats.(n)
  | 8 -> let x = u32 s in zero s; MemoryInit x
  | 9 -> DataDrop (u32 s)
  | 10 -> zero s; zero s; MemoryCopy
  | 11 -> zero s; MemoryFill
  | 12 -> let y = u32 s in let x = u32 s in TableInit (x, y)
  | 13 -> ElemDrop (u32 s)
  | 14 -> let x = u32 s in let y = u32 s in TableCopy (x, y)
  | 15 -> TableGrow (u32 s) | 16 -> TableSize (u32 s) | 17 -> TableFill (u32 s)
  | _ -> error "illegal opcode"

(** Decodes one instruction; returns it with its opcode (0xFCnn as [0xFC00 + n]). *)
let instr s =
  match byte s with
  | 0xfc -> let n = u32 s in let i = fc_instr n s in i, 0xfc00 + n
  | op -> op_instr op s, op

(** A constant expression: instructions up to the final [End] (not included). *)
let const_expr s =
  let rec go acc =
    match instr s with
    | End, _ -> Array.of_list (List.rev acc)
    | i, _ -> go (i :: acc)
  in
  go []

(** A function body: the instructions including the final [End]; structured nesting is
    tracked so that the body's own [End] is recognised. *)
let body s =
  let code = ref [] and ops = ref [] in
  (* stack of open constructs: true for [If] *)
  let rec go stack =
    let i, op = instr s in
    code := i :: !code; ops := op :: !ops;
    match i, stack with
    | (Block _ | Loop _), _ -> go (false :: stack)
    | If _, _ -> go (true :: stack)
    | Else, true :: rest -> go (false :: rest)
    | Else, _ -> error "END opcode expected"
    | End, [] -> ()
    | End, _ :: rest -> go rest
    | _ -> go stack
  in
  go [];
  (Array.of_list (List.rev !code), Array.of_list (List.rev !ops))

let max_locals = 1_000_000

let code s =
  let size = len32 s in
  let start = s.pos in
  let groups = vec (fun s -> let n = u32 s in let t = valtype s in (n, t)) s in
  let total = Array.fold_left (fun acc (n, _) -> acc + n) 0 groups in
  if total > max_locals then error "too many locals";
  let locals = Array.concat (Array.to_list (Array.map (fun (n, t) -> Array.make n t) groups)) in
  let b, ops = body s in
  if s.pos <> start + size then error "section size mismatch";
  (locals, b, ops)

(* Sections *)

let import s =
  let imodule = name s in
  let iname = name s in
  let idesc =
    match byte s with
    | 0 -> FuncImport (u32 s)
    | 1 -> TableImport (tabletype s)
    | 2 -> MemoryImport (memtype s)
    | 3 -> GlobalImport (globaltype s)
    | _ -> error "malformed import kind"
  in
  { imodule; iname; idesc }

let export s =
  let ename = name s in
  let edesc =
    match byte s with
    | 0 -> FuncExport (u32 s)
    | 1 -> TableExport (u32 s)
    | 2 -> MemoryExport (u32 s)
    | 3 -> GlobalExport (u32 s)
    | _ -> error "malformed export kind"
  in
  { ename; edesc }

let global s =
  let gtype = globaltype s in
  let ginit = const_expr s in
  { gtype; ginit }

let elemkind s = if byte s <> 0 then error "malformed element kind"; FuncRefT

let elem s =
  let funcs s = Array.map (fun x -> [| RefFunc x |]) (vec u32 s) in
  let exprs s = vec const_expr s in
  match u32 s with
  | 0 -> let o = const_expr s in
    { etype = FuncRefT; einit = funcs s; emode = Active (0, o) }
  | 1 -> let etype = elemkind s in { etype; einit = funcs s; emode = Passive }
  | 2 -> let x = u32 s in let o = const_expr s in let etype = elemkind s in
    { etype; einit = funcs s; emode = Active (x, o) }
  | 3 -> let etype = elemkind s in { etype; einit = funcs s; emode = Declarative }
  | 4 -> let o = const_expr s in
    { etype = FuncRefT; einit = exprs s; emode = Active (0, o) }
  | 5 -> let etype = reftype s in { etype; einit = exprs s; emode = Passive }
  | 6 -> let x = u32 s in let o = const_expr s in let etype = reftype s in
    { etype; einit = exprs s; emode = Active (x, o) }
  | 7 -> let etype = reftype s in { etype; einit = exprs s; emode = Declarative }
  | _ -> error "malformed elements segment kind"

let data s =
  let bytes s = let n = u32 s in get_string s n in
  match u32 s with
  | 0 -> let o = const_expr s in let dinit = bytes s in { dinit; dmode = DActive (0, o) }
  | 1 -> { dinit = bytes s; dmode = DPassive }
  | 2 -> let x = u32 s in let o = const_expr s in let dinit = bytes s in
    { dinit; dmode = DActive (x, o) }
  | _ -> error "malformed data segment kind"

(* Section ids in the order they must appear. *)
let order = [| 1; 2; 3; 4; 5; 6; 7; 8; 9; 12; 10; 11 |]
let rank id = let rec f i = if order.(i) = id then i else f (i + 1) in f 0

let decode (bytes : string) : module_ =
  let s = { bytes; pos = 0 } in
  let magic = get_string s 4 in
  if magic <> "\x00asm" then error "magic header not detected";
  let version = get_string s 4 in
  if version <> "\x01\x00\x00\x00" then error "unknown binary version";
  let types = ref [||] and imports = ref [||] and funcs = ref [||] and tables = ref [||]
  and mems = ref [||] and globals = ref [||] and exports = ref [||] and start = ref None
  and elems = ref [||] and datacount = ref None and codes = ref [||] and datas = ref [||]
  in
  let last = ref (-1) in
  while not (eos s) do
    let id = byte s in
    if id > 12 then error "malformed section id";
    let size = len32 s in
    let start_pos = s.pos in
    if id <> 0 then begin
      let r = rank id in
      if r <= !last then error "unexpected content after last section";
      last := r
    end;
    (match id with
     | 0 ->
       ignore (name s);
       if s.pos > start_pos + size then error "unexpected end of section or function";
       s.pos <- start_pos + size
     | 1 -> types := vec functype s
     | 2 -> imports := vec import s
     | 3 -> funcs := vec u32 s
     | 4 -> tables := vec tabletype s
     | 5 -> mems := vec memtype s
     | 6 -> globals := vec global s
     | 7 -> exports := vec export s
     | 8 -> start := Some (u32 s)
     | 9 -> elems := vec elem s
     | 12 -> datacount := Some (u32 s)
     | 10 -> codes := vec code s
     | 11 -> datas := vec data s
     | _ -> assert false);
    if s.pos <> start_pos + size then error "section size mismatch"
  done;
  if Array.length !funcs <> Array.length !codes then
    error "function and code section have inconsistent lengths";
  (match !datacount with
   | Some n when n <> Array.length !datas -> 
     error "data count and data section have inconsistent lengths"
   | _ -> ());
  let funcs =
    Array.map2 (fun ftype (locals, body, opcodes) -> { ftype; locals; body; opcodes })
      !funcs !codes
  in
  if !datacount = None then
    Array.iter (fun f ->
        Array.iter (function
            | MemoryInit _ | DataDrop _ -> error "data count section required"
            | _ -> ()) f.body) funcs;
  { types = !types; imports = !imports; funcs; tables = !tables; mems = !mems;
    globals = !globals; elems = !elems; datas = !datas; start = !start;
    exports = !exports }
