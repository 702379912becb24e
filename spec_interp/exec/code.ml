(** Compiled function bodies: the flat instruction array with every branch resolved to a
    target pc, the operand-stack height it unwinds to, and the number of values it keeps.
    Accesses to reference-typed locals and typed [select] of references get their own
    instructions, since [Eval] keeps numbers and references in separate stack arrays. *)

open Types
open Ast

(** A branch destination; [pc = -1] means "return from the function". [height] is the
    operand stack height (above the locals) that the branch unwinds to; [refs] tells
    whether any kept value is a reference. *)
type target = { pc : int; height : int; arity : int; refs : bool }

type instr =
  | Plain of Ast.instr  (** any other instruction *)
  | Skip  (** [Block], [Loop], [Nop] and inner [End] *)
  | Jump of int  (** [Else]: jump past the matching [End] *)
  | JumpIfZero of int  (** [If]: pop an i32, jump to the else arm or past [End] if 0 *)
  | Br of target
  | BrIf of target
  | BrTable of target array * target
  | Return
  | Call of int
  | CallIndirect of int * int
  | LocalGetRef of int
  | LocalSetRef of int
  | LocalTeeRef of int
  | SelectRef
  (* Frequent numeric instructions, dispatched directly by [Eval.run]: *)
  | LocalGet of int
  | LocalSet of int
  | LocalTee of int
  | Const32 of int32  (** i32 or f32 bits *)
  | Const64 of int64  (** i64 or f64 bits *)
  | I32Add | I32Sub | I32Mul | I32And | I32Or | I32Xor | I32Shl | I32ShrS | I32ShrU | I32Eqz
  | I32Eq | I32Ne | I32LtS | I32LtU | I32GtS | I32GtU | I32LeS | I32LeU | I32GeS | I32GeU
  | I64Add | I64Sub
  | I32Load of int  (** offset *)
  | I32Load8U of int  (** offset *)
  | I32Store of int  (** offset *)
  | I32Store8 of int  (** offset *)

type t = {
  code : instr array;
  ops : int array;  (** per pc, an index into the opcode counters (see [opcode_index]) *)
  params : valtype array;
  results : valtype array;
  ref_results : bool;
  locals : valtype array;  (** declared locals, after the parameters *)
  max_height : int;
}

(** Opcodes 0x00-0xff map to themselves, 0xFCnn to 0x100 + nn. *)
let opcode_index op = if op < 0x100 then op else 0x100 + (op land 0xff)
let opcode_of_index i = if i < 0x100 then i else 0xfc00 + (i - 0x100)
let num_opcodes = 0x100 + 0x20

let is_ref = function Ref _ -> true | Num _ -> false
let any_ref ts = Array.exists is_ref ts

let block_sig (types : functype array) = function
  | BlockEmpty -> [||], [||]
  | BlockVal t -> [||], [| t |]
  | BlockType i -> types.(i).params, types.(i).results

let compile (types : functype array) (f : func) (info : Valid.func_info) : t =
  let ft = types.(f.ftype) in
  let all_locals = Array.append ft.params f.locals in
  let body = f.body in
  let n = Array.length body in
  (* matching [Else] and [End] of every structured instruction *)
  let end_of = Array.make n 0 and else_of = Array.make n (-1) in
  let stack = ref [] in
  Array.iteri (fun pc i ->
      match i with
      | Block _ | Loop _ | If _ -> stack := pc :: !stack
      | Else -> else_of.(List.hd !stack) <- pc
      | End -> (match !stack with
          | s :: rest -> end_of.(s) <- pc; stack := rest
          | [] -> ())
      | _ -> ()) body;
  (* labels, innermost first: the function itself is a label returning *)
  let fn_label = { pc = -1; height = 0; arity = Array.length ft.results;
                   refs = any_ref ft.results } in
  let labels = ref [ fn_label ] in
  let label l = List.nth !labels l in
  let open_block ?(cond = 0) pc bt ~loop =
    let ps, rs = block_sig types bt in
    let height = info.heights.(pc) - cond - Array.length ps in
    let t = if loop then { pc = pc + 1; height; arity = Array.length ps; refs = any_ref ps }
      else { pc = end_of.(pc) + 1; height; arity = Array.length rs; refs = any_ref rs } in
    labels := t :: !labels
  in
  let local_ref x = is_ref all_locals.(x) in
  let code = Array.mapi (fun pc i ->
      match i with
      | Block bt -> open_block pc bt ~loop:false; Skip
      | Loop bt -> open_block pc bt ~loop:true; Skip
      | If bt ->
        open_block ~cond:1 pc bt ~loop:false;
        JumpIfZero (if else_of.(pc) >= 0 then else_of.(pc) + 1 else end_of.(pc) + 1)
      | Else -> Jump (List.hd !labels).pc
      | End ->
        (match !labels with
         | [ _ ] -> Return
         | _ :: rest -> labels := rest; Skip
         | [] -> Return)
      | Nop -> Skip
      | Ast.Br l -> let t = label l in if t.pc < 0 then Return else Br t
      | Ast.BrIf l -> BrIf (label l)
      | Ast.BrTable (ls, d) -> BrTable (Array.map label ls, label d)
      | Ast.Return -> Return
      | Ast.Call x -> Call x
      | Ast.CallIndirect (x, y) -> CallIndirect (x, y)
      | LocalGet x when local_ref x -> LocalGetRef x
      | LocalSet x when local_ref x -> LocalSetRef x
      | LocalTee x when local_ref x -> LocalTeeRef x
      | Select (Some [| Ref _ |]) -> SelectRef
      | Ast.LocalGet x -> LocalGet x
      | Ast.LocalSet x -> LocalSet x
      | Ast.LocalTee x -> LocalTee x
      | I32Const n | F32Const n -> Const32 n
      | I64Const n | F64Const n -> Const64 n
      | I32Binary Add -> I32Add | I32Binary Sub -> I32Sub | I32Binary Mul -> I32Mul
      | I32Binary And -> I32And | I32Binary Or -> I32Or | I32Binary Xor -> I32Xor
      | I32Binary Shl -> I32Shl | I32Binary ShrS -> I32ShrS | I32Binary ShrU -> I32ShrU
      | Ast.I32Eqz -> I32Eqz
      | I32Compare Eq -> I32Eq | I32Compare Ne -> I32Ne
      | I32Compare LtS -> I32LtS | I32Compare LtU -> I32LtU
      | I32Compare GtS -> I32GtS | I32Compare GtU -> I32GtU
      | I32Compare LeS -> I32LeS | I32Compare LeU -> I32LeU
      | I32Compare GeS -> I32GeS | I32Compare GeU -> I32GeU
      | I64Binary Add -> I64Add | I64Binary Sub -> I64Sub
      | Load (Ast.I32Load, m) -> I32Load m.offset
      | Load (Ast.I32Load8U, m) -> I32Load8U m.offset
      | Store (Ast.I32Store, m) -> I32Store m.offset
      | Store (Ast.I32Store8, m) -> I32Store8 m.offset
      | i -> Plain i) body
  in
  { code; ops = Array.map opcode_index f.opcodes; params = ft.params; results = ft.results;
    ref_results = any_ref ft.results; locals = f.locals; max_height = info.max_height }
