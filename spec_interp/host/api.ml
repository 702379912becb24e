(** The bytes-in/bytes-out entry points of PROTOCOL.md, registered with [Callback.register].
    Instances and externs live in a handle table; funcref ids are the functions' [fid]s,
    found again through a weak set. Every exception becomes a status byte + message. *)

open Types
open Instance

external itf_host_call : int -> string -> string = "itf_stub_host_call"

exception Protocol of string

(* Reading requests *)

type reader = { s : string; mutable p : int }

let need r n = if r.p + n > String.length r.s then raise (Protocol "truncated request")
let u8 r = need r 1; let v = Char.code r.s.[r.p] in r.p <- r.p + 1; v
let u32 r = need r 4; let v = Int32.to_int (String.get_int32_le r.s r.p) land 0xffffffff in
  r.p <- r.p + 4; v
let u64 r = need r 8; let v = String.get_int64_le r.s r.p in r.p <- r.p + 8; v
let str r = let n = u32 r in need r n; let v = String.sub r.s r.p n in r.p <- r.p + n; v
let rest r = String.sub r.s r.p (String.length r.s - r.p)

(* Writing responses *)

let w_u8 b v = Buffer.add_uint8 b v
let w_u32 b v = Buffer.add_int32_le b (Int32.of_int v)
let w_u64 b v = Buffer.add_int64_le b v
let w_str b s = w_u32 b (String.length s); Buffer.add_string b s

(* Values *)

module Funcs = Weak.Make (struct
    type t = func
    let equal a b = a.fid = b.fid
    let hash f = Hashtbl.hash f.fid
  end)

let known_funcs = Funcs.create 64

let find_func id =
  Funcs.find_opt known_funcs { fid = id; ftype = { params = [||]; results = [||] }; kind = Host 0 }

let valtype_code = function
  | Num I32T -> 0 | Num I64T -> 1 | Num F32T -> 2 | Num F64T -> 3
  | Ref FuncRefT -> 4 | Ref ExternRefT -> 5

let valtype_of_code = function
  | 0 -> Num I32T | 1 -> Num I64T | 2 -> Num F32T | 3 -> Num F64T
  | 4 -> Ref FuncRefT | 5 -> Ref ExternRefT
  | n -> raise (Protocol (Printf.sprintf "bad value type %d" n))

let low32 x = Int64.logand (Int64.of_int32 x) 0xffffffffL

let w_value b t v =
  let put tag x = w_u8 b tag; w_u64 b x in
  match v with
  | I32 x -> put 0 (low32 x)
  | I64 x -> put 1 x
  | F32 x -> put 2 (low32 x)
  | F64 x -> put 3 x
  | Null -> put (valtype_code t) (-1L)
  | FuncRef f -> ignore (Funcs.merge known_funcs f); put 4 (Int64.of_int f.fid)
  | ExternRef x -> put 5 x

let value r =
  let tag = u8 r in
  let x = u64 r in
  match tag with
  | 0 -> I32 (Int64.to_int32 x)
  | 1 -> I64 x
  | 2 -> F32 (Int64.to_int32 x)
  | 3 -> F64 x
  | 4 when x = -1L -> Null
  | 4 -> (match find_func (Int64.to_int x) with
      | Some f -> FuncRef f
      | None -> raise (Protocol "unknown funcref id"))
  | 5 when x = -1L -> Null
  | 5 -> ExternRef x
  | n -> raise (Protocol (Printf.sprintf "bad value tag %d" n))

let w_values b ts vs =
  w_u32 b (Array.length vs);
  Array.iteri (fun i v -> w_value b ts.(i) v) vs

let values r = let n = u32 r in Array.init n (fun _ -> value r)

let check_values ts vs what =
  if Array.length ts <> Array.length vs
  || not (Array.for_all2 has_type vs ts) then raise (Protocol (what ^ ": type mismatch"))

(* Handles *)

type inst_entry = { inst : instance; mutable export_handles : (string * int) list option }
type entry = Inst of inst_entry | Ext of extern

let handles : (int, entry) Hashtbl.t = Hashtbl.create 64
let next_handle = ref 0

let new_handle e = incr next_handle; Hashtbl.replace handles !next_handle e; !next_handle

let lookup h = match Hashtbl.find_opt handles h with
  | Some e -> e
  | None -> raise (Protocol (Printf.sprintf "unknown handle %d" h))

let extern h = match lookup h with Ext e -> e | Inst _ -> raise (Protocol "not an extern")
let inst_entry h = match lookup h with Inst i -> i | Ext _ -> raise (Protocol "not an instance")

(* Host functions *)

let host_call id (ft : functype) args =
  let b = Buffer.create 64 in
  w_values b ft.params args;
  let resp = itf_host_call id (Buffer.contents b) in
  let r = { s = resp; p = 0 } in
  match u8 r with
  | 0 ->
    let res = values r in
    if Array.length res <> Array.length ft.results
    || not (Array.for_all2 has_type res ft.results) then
      Trap.trap "host function returned results of the wrong type";
    res
  | 5 -> raise (Trap.Exhaustion (rest r))
  | _ -> Trap.trap (rest r)

let () = Eval.host_call := host_call

(* Calls *)

let fuel_limit = ref 0

(* Runs [f] as a top-level activity: the fuel budget restarts. *)
let top f =
  if !Eval.depth = 0 then begin
    Eval.fuel_on := !fuel_limit > 0;
    Eval.fuel := !fuel_limit
  end;
  f ()

let instantiate r =
  let n = u32 r in
  let imports = List.init n (fun _ -> let m = str r in let nm = str r in let h = u32 r in
                              (m, nm, extern h)) in
  let bytes = rest r in
  let resolve m nm =
    List.find_map (fun (m', nm', e) -> if m = m' && nm = nm' then Some e else None) imports in
  let inst = top (fun () -> Link.instantiate resolve bytes) in
  let b = Buffer.create 4 in
  w_u32 b (new_handle (Inst { inst; export_handles = None }));
  b

let kind_code = function EFunc _ -> 0 | ETable _ -> 1 | EMemory _ -> 2 | EGlobal _ -> 3

let exports r =
  let ie = inst_entry (u32 r) in
  let hs = match ie.export_handles with
    | Some hs -> hs
    | None ->
      let hs = List.map (fun (name, e) -> name, new_handle (Ext e)) ie.inst.exports in
      ie.export_handles <- Some hs; hs in
  let b = Buffer.create 64 in
  w_u32 b (List.length hs);
  List.iter (fun (name, h) -> w_str b name; w_u8 b (kind_code (extern h)); w_u32 b h) hs;
  b

let invoke r =
  let f = match extern (u32 r) with EFunc f -> f | _ -> raise (Protocol "not a function") in
  let args = values r in
  check_values f.ftype.params args "arguments";
  let res = top (fun () -> Eval.invoke f args) in
  let b = Buffer.create 64 in
  w_values b f.ftype.results res;
  b

let global_get r =
  let g = match extern (u32 r) with EGlobal g -> g | _ -> raise (Protocol "not a global") in
  let b = Buffer.create 9 in
  w_value b g.gtype.gtype g.value;
  b

let memory_read r =
  match extern (u32 r) with
  | EMemory m -> let b = Buffer.create (Bytes.length m.data) in Buffer.add_bytes b m.data; b
  | _ -> raise (Protocol "not a memory")

let table_read r =
  match extern (u32 r) with
  | ETable t ->
    let b = Buffer.create 64 in
    w_values b (Array.make (Array.length t.elems) (Ref t.telem)) t.elems; b
  | _ -> raise (Protocol "not a table")

let w_limits b (l : limits) =
  w_u32 b l.min;
  match l.max with Some m -> w_u8 b 1; w_u32 b m | None -> w_u8 b 0; w_u32 b 0

let extern_type_ r =
  let e = extern (u32 r) in
  let b = Buffer.create 16 in
  w_u8 b (kind_code e);
  (match extern_type e with
   | ExternFunc ft ->
     let ts a = w_u32 b (Array.length a); Array.iter (fun t -> w_u8 b (valtype_code t)) a in
     ts ft.params; ts ft.results
   | ExternTable tt -> w_u8 b (valtype_code (Ref tt.elem)); w_limits b tt.tlimits
   | ExternMemory mt -> w_limits b mt.mlimits
   | ExternGlobal gt -> w_u8 b (valtype_code gt.gtype); w_u8 b (if gt.gmut = Var then 1 else 0));
  b

let handle_body h = let b = Buffer.create 4 in w_u32 b h; b

let limits r =
  let min = u32 r in
  let has_max = u8 r in
  let max = u32 r in
  { min; max = if has_max <> 0 then Some max else None }

let host_func r =
  let id = u32 r in
  let ts () = let n = u32 r in Array.init n (fun _ -> valtype_of_code (u8 r)) in
  let params = ts () in
  let results = ts () in
  handle_body (new_handle (Ext (EFunc (new_func { params; results } (Host id)))))

let host_global r =
  let t = valtype_of_code (u8 r) in
  let gmut = if u8 r <> 0 then Var else Const in
  let v = value r in
  if not (has_type v t) then raise (Protocol "global value of the wrong type");
  handle_body (new_handle (Ext (EGlobal (Global.create { gtype = t; gmut } v))))

let host_memory r =
  let l = limits r in
  if l.min > Memory.max_pages then raise (Protocol "memory too large");
  handle_body (new_handle (Ext (EMemory (Memory.create l.min l.max))))

let host_table r =
  let elem = match valtype_of_code (u8 r) with
    | Ref t -> t | _ -> raise (Protocol "table of a non-reference type") in
  let l = limits r in
  if l.min > Table.max_size then raise (Protocol "table too large");
  handle_body (new_handle (Ext (ETable (Table.create { tlimits = l; elem }))))

let drop r =
  let what = u8 r in
  let h = u32 r in
  (match what, Hashtbl.find_opt handles h with
   | 0, Some (Inst ie) ->
     Option.iter (List.iter (fun (_, eh) -> Hashtbl.remove handles eh)) ie.export_handles;
     Hashtbl.remove handles h
   | 1, Some (Ext _) -> Hashtbl.remove handles h
   | _ -> raise (Protocol (Printf.sprintf "cannot drop handle %d" h)));
  Buffer.create 0

let set_limits r =
  let fuel = u64 r in
  let depth = u32 r in
  fuel_limit := (if Int64.compare fuel (Int64.of_int max_int) > 0 || fuel < 0L then max_int
                 else Int64.to_int fuel);
  Eval.max_depth := depth;
  Buffer.create 0

let set_fault r =
  let name = str r in
  Eval.fault_i32_rem_s := false;
  Eval.fault_i64_rem_s := false;
  (match name with
   | "" -> ()
   | "i32.rem_s" -> Eval.fault_i32_rem_s := true
   | "i64.rem_s" -> Eval.fault_i64_rem_s := true
   | _ -> raise (Protocol ("unknown fault " ^ name)));
  Buffer.create 0

let opcode_counts _ =
  let b = Buffer.create 256 in
  let n = Array.fold_left (fun n c -> if c > 0 then n + 1 else n) 0 Eval.counts in
  w_u32 b n;
  Array.iteri (fun i c ->
      if c > 0 then begin
        Buffer.add_uint16_le b (Code.opcode_of_index i);
        w_u64 b (Int64.of_int c)
      end) Eval.counts;
  Array.fill Eval.counts 0 (Array.length Eval.counts) 0;
  b

(* Status codes of PROTOCOL.md *)
let respond status msg = String.make 1 (Char.chr status) ^ msg

let protect f req =
  match f { s = req; p = 0 } with
  | b -> "\000" ^ Buffer.contents b
  | exception Decode.Decode_error m -> respond 1 m
  | exception Valid.Invalid m -> respond 2 m
  | exception Link.Link_error m -> respond 3 m
  | exception Trap.Trap m -> respond 4 m
  | exception Trap.Exhaustion m -> respond 5 m
  | exception Stack_overflow -> respond 5 "call stack exhausted"
  | exception Out_of_memory -> respond 5 "out of memory"
  | exception Protocol m -> respond 6 ("protocol: " ^ m)
  | exception e -> respond 6 (Printexc.to_string e)

let () =
  List.iter (fun (name, f) -> Callback.register name (protect f)) [
    "itf_instantiate", instantiate;
    "itf_exports", exports;
    "itf_invoke", invoke;
    "itf_global_get", global_get;
    "itf_memory_read", memory_read;
    "itf_table_read", table_read;
    "itf_extern_type", extern_type_;
    "itf_host_func", host_func;
    "itf_host_global", host_global;
    "itf_host_memory", host_memory;
    "itf_host_table", host_table;
    "itf_drop", drop;
    "itf_set_limits", set_limits;
    "itf_set_fault", set_fault;
    "itf_opcode_counts", opcode_counts;
  ]
