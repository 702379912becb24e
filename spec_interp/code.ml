(** Compiled function bodies: the flat instruction array with every branch resolved to a
    target pc, the operand-stack height it unwinds to, and the number of values it keeps.
    [Eval] runs this form with an explicit value stack, one step per array slot. *)

open Types
open Ast

(** A branch destination; [pc = -1] means "return from the function". [height] is the
    operand stack height (above the locals) that the branch unwinds to. *)
type target = { pc : int; height : int; arity : int }

type instr =
  | Plain of Ast.instr  (** a non-control instruction (or [Unreachable]) *)
  | Skip  (** [Block], [Loop], [Nop] and inner [End] *)
  | Jump of int  (** [Else]: jump past the matching [End] *)
  | JumpIfZero of int  (** [If]: pop an i32, jump to the else arm or past [End] if 0 *)
  | Br of target
  | BrIf of target
  | BrTable of target array * target
  | Return
  | Call of int
  | CallIndirect of int * int

type t = {
  code : instr array;
  ops : int array;  (** per pc, an index into the opcode counters (see [opcode_index]) *)
  params : int;
  results : int;
  locals : valtype array;  (** declared locals, after the parameters *)
  max_height : int;
}

(** Opcodes 0x00-0xff map to themselves, 0xFCnn to 0x100 + nn. *)
let opcode_index op = if op < 0x100 then op else 0x100 + (op land 0xff)
let opcode_of_index i = if i < 0x100 then i else 0xfc00 + (i - 0x100)
let num_opcodes = 0x100 + 0x20

let block_arity (types : functype array) = function
  | BlockEmpty -> 0, 0
  | BlockVal _ -> 0, 1
  | BlockType i -> Array.length types.(i).params, Array.length types.(i).results

let compile (types : functype array) (f : func) (info : Valid.func_info) : t =
  let ft = types.(f.ftype) in
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
  let fn_label = { pc = -1; height = 0; arity = Array.length ft.results } in
  let labels = ref [ fn_label ] in
  let label l = List.nth !labels l in
  let open_block ?(cond = 0) pc bt ~loop =
    let np, nr = block_arity types bt in
    let height = info.heights.(pc) - cond - np in
    let t = if loop then { pc = pc + 1; height; arity = np }
      else { pc = end_of.(pc) + 1; height; arity = nr } in
    labels := t :: !labels
  in
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
      | i -> Plain i) body
  in
  { code; ops = Array.map opcode_index f.opcodes; params = Array.length ft.params;
    results = Array.length ft.results; locals = f.locals; max_height = info.max_height }
