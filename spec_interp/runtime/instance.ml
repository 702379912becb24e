(** Runtime objects of the store: values (floats as raw bits), function, table and global
    instances, externs, and module instances. They are mutually recursive (a function
    refers to its module instance, tables hold function references). *)

open Types

type value =
  | I32 of int32
  | I64 of int64
  | F32 of int32  (** raw bits *)
  | F64 of int64  (** raw bits *)
  | Null
  | FuncRef of func
  | ExternRef of int64

and func = { fid : int; ftype : functype; kind : func_kind }

and func_kind =
  | Wasm of instance * Code.t
  | Host of int  (** the host id handed to [itf_host_func] *)

and table = { mutable elems : value array; tmax : int option; telem : reftype }

and global = { mutable value : value; gtype : globaltype }

and extern =
  | EFunc of func
  | ETable of table
  | EMemory of Memory.t
  | EGlobal of global

and instance = {
  types : functype array;
  mutable funcs : func array;
  mutable tables : table array;
  mutable mems : Memory.t array;
  mutable globals : global array;
  mutable elem_segs : value array array;  (** dropped segments become empty *)
  mutable data_segs : string array;  (** dropped segments become empty *)
  mutable exports : (string * extern) list;
}

let next_fid = ref 0

let new_func ftype kind =
  incr next_fid;
  { fid = !next_fid; ftype; kind }

let has_type v t =
  match v, t with
  | I32 _, Num I32T | I64 _, Num I64T | F32 _, Num F32T | F64 _, Num F64T -> true
  | Null, Ref _ | FuncRef _, Ref FuncRefT | ExternRef _, Ref ExternRefT -> true
  | _ -> false

let extern_type = function
  | EFunc f -> ExternFunc f.ftype
  | ETable t ->
    ExternTable { tlimits = { min = Array.length t.elems; max = t.tmax }; elem = t.telem }
  | EMemory m -> ExternMemory { mlimits = { min = m.Memory.pages; max = m.Memory.max } }
  | EGlobal g -> ExternGlobal g.gtype
