(** Runtime objects of the store (spec: Execution, Runtime Structure): values (floats as
    raw bits), function, table and global instances, externs, and module instances. They
    are mutually recursive (a function refers to its module instance, tables hold function
    references). Memory instances are [Memory.t]. *)

open Types

type value =
  | I32 of int32
  | I64 of int64
  | F32 of int32  (** raw bits *)
  | F64 of int64  (** raw bits *)
  | Null
  | FuncRef of func
  | ExternRef of int64

(** [fid] identifies a function instance (see [new_func]). *)
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

(** A function instance with a fresh [fid]. *)
val new_func : functype -> func_kind -> func

(** Whether a value has a value type ([Null] has every reference type). *)
val has_type : value -> valtype -> bool

(** The type of an extern; a table's or memory's minimum is its current size. *)
val extern_type : extern -> externtype
