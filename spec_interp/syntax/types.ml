(** Types of the WebAssembly 2.0 core language (no SIMD): value types, function types,
    limits, and the types of tables, memories, globals and externs. *)

type numtype = I32T | I64T | F32T | F64T
type reftype = FuncRefT | ExternRefT
type valtype = Num of numtype | Ref of reftype

type functype = { params : valtype array; results : valtype array }

type limits = { min : int; max : int option }  (** both are u32 values *)

type tabletype = { tlimits : limits; elem : reftype }
type memtype = { mlimits : limits }
type mut = Const | Var
type globaltype = { gtype : valtype; gmut : mut }

type externtype =
  | ExternFunc of functype
  | ExternTable of tabletype
  | ExternMemory of memtype
  | ExternGlobal of globaltype

(** [match_limits actual expected]: import subtyping of limits. *)
let match_limits a e =
  a.min >= e.min
  && (match e.max, a.max with
      | None, _ -> true
      | Some _, None -> false
      | Some em, Some am -> am <= em)

let match_externtype a e =
  match a, e with
  | ExternFunc a, ExternFunc e -> a = e
  | ExternTable a, ExternTable e -> a.elem = e.elem && match_limits a.tlimits e.tlimits
  | ExternMemory a, ExternMemory e -> match_limits a.mlimits e.mlimits
  | ExternGlobal a, ExternGlobal e -> a = e
  | _ -> false
