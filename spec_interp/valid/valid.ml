(** Validation of modules. Rejects ill-typed code with [Invalid] (the reference
    interpreter's messages) and, for each function body, records the operand stack height
    before every instruction, which [Code] uses to resolve branches. *)

open Types
open Ast

exception Invalid of string

let error msg = raise (Invalid msg)
let errorf fmt = Printf.ksprintf error fmt

(** Per-function result: [heights.(pc)] is the operand stack height before [body.(pc)]
    (locals not counted); [max_height] bounds it. *)
type func_info = { heights : int array; max_height : int }

type context = {
  types : functype array;
  funcs : functype array;
  tables : tabletype array;
  mems : memtype array;
  globals : globaltype array;
  elems : reftype array;
  ndatas : int;  (** bodies never mention data without a data count section (Decode) *)
  refs : (int, unit) Hashtbl.t;
}

let get arr i what =
  if i < 0 || i >= Array.length arr then errorf "unknown %s %d" what i else arr.(i)

(* Operand and control stacks of one function body. *)

type frame = {
  is_loop : bool;
  is_if : bool;
  params : valtype array;
  results : valtype array;
  height : int;
  mutable unreachable : bool;
  mutable seen_else : bool;
}

type state = {
  mutable vals : valtype option array;
  mutable sp : int;
  mutable ctrls : frame list;
  mutable max_sp : int;
}

let push st t =
  if st.sp = Array.length st.vals then begin
    let a = Array.make (2 * st.sp + 16) None in
    Array.blit st.vals 0 a 0 st.sp;
    st.vals <- a
  end;
  st.vals.(st.sp) <- t;
  st.sp <- st.sp + 1;
  if st.sp > st.max_sp then st.max_sp <- st.sp

let top st = match st.ctrls with f :: _ -> f | [] -> error "type mismatch"

let pop st =
  let f = top st in
  if st.sp = f.height then (if f.unreachable then None else error "type mismatch")
  else (st.sp <- st.sp - 1; st.vals.(st.sp))

let pop_t st t =
  match pop st with
  | None -> ()
  | Some t' -> if t <> t' then error "type mismatch"

let pop_ts st ts = for i = Array.length ts - 1 downto 0 do pop_t st ts.(i) done
let push_t st t = push st (Some t)
let push_ts st ts = Array.iter (push_t st) ts

let push_ctrl st ~is_loop ~is_if params results =
  st.ctrls <- { is_loop; is_if; params; results; height = st.sp; unreachable = false;
                seen_else = false } :: st.ctrls;
  push_ts st params

let pop_ctrl st =
  let f = top st in
  pop_ts st f.results;
  if st.sp <> f.height then error "type mismatch";
  st.ctrls <- List.tl st.ctrls;
  f

let set_unreachable st =
  let f = top st in
  st.sp <- f.height;
  f.unreachable <- true

let label_types f = if f.is_loop then f.params else f.results

let label st l =
  match List.nth_opt st.ctrls l with
  | Some f when l >= 0 -> f
  | _ -> error "unknown label"

let i32 = Num I32T and i64 = Num I64T and f32 = Num F32T and f64 = Num F64T

let block_sig c = function
  | BlockEmpty -> [||], [||]
  | BlockVal t -> [||], [| t |]
  | BlockType i -> let ft = get c.types i "type" in ft.params, ft.results

let mem c = ignore (get c.mems 0 "memory")

let check_align c m natural =
  mem c;
  if m.align > 31 || 1 lsl m.align > natural then
    error "alignment must not be larger than natural"

let load_info = function
  | I32Load -> i32, 4 | I64Load -> i64, 8 | F32Load -> f32, 4 | F64Load -> f64, 8
  | I32Load8S | I32Load8U -> i32, 1 | I32Load16S | I32Load16U -> i32, 2
  | I64Load8S | I64Load8U -> i64, 1 | I64Load16S | I64Load16U -> i64, 2
  | I64Load32S | I64Load32U -> i64, 4

let store_info = function
  | I32Store -> i32, 4 | I64Store -> i64, 8 | F32Store -> f32, 4 | F64Store -> f64, 8
  | I32Store8 -> i32, 1 | I32Store16 -> i32, 2
  | I64Store8 -> i64, 1 | I64Store16 -> i64, 2 | I64Store32 -> i64, 4

let cvt_sig = function
  | I32WrapI64 -> i64, i32
  | I64ExtendI32S | I64ExtendI32U -> i32, i64
  | I32TruncF32S | I32TruncF32U | I32TruncSatF32S | I32TruncSatF32U -> f32, i32
  | I32TruncF64S | I32TruncF64U | I32TruncSatF64S | I32TruncSatF64U -> f64, i32
  | I64TruncF32S | I64TruncF32U | I64TruncSatF32S | I64TruncSatF32U -> f32, i64
  | I64TruncF64S | I64TruncF64U | I64TruncSatF64S | I64TruncSatF64U -> f64, i64
  | F32ConvertI32S | F32ConvertI32U -> i32, f32
  | F32ConvertI64S | F32ConvertI64U -> i64, f32
  | F32DemoteF64 -> f64, f32
  | F64ConvertI32S | F64ConvertI32U -> i32, f64
  | F64ConvertI64S | F64ConvertI64U -> i64, f64
  | F64PromoteF32 -> f32, f64
  | I32ReinterpretF32 -> f32, i32 | I64ReinterpretF64 -> f64, i64
  | F32ReinterpretI32 -> i32, f32 | F64ReinterpretI64 -> i64, f64

let is_num = function Some (Ref _) -> false | _ -> true
let is_ref = function Some (Num _) -> false | _ -> true

let instr c locals ret st i =
  let un t = pop_t st t; push_t st t in
  let bin t = pop_t st t; pop_t st t; push_t st t in
  let rel t = pop_t st t; pop_t st t; push_t st i32 in
  let table_of x = get c.tables x "table" in
  match i with
  | Unreachable -> set_unreachable st
  | Nop -> ()
  | Block bt -> let p, r = block_sig c bt in pop_ts st p;
    push_ctrl st ~is_loop:false ~is_if:false p r
  | Loop bt -> let p, r = block_sig c bt in pop_ts st p;
    push_ctrl st ~is_loop:true ~is_if:false p r
  | If bt -> let p, r = block_sig c bt in pop_t st i32; pop_ts st p;
    push_ctrl st ~is_loop:false ~is_if:true p r
  | Else ->
    let f = pop_ctrl st in
    if not f.is_if || f.seen_else then error "type mismatch";
    push_ctrl st ~is_loop:false ~is_if:true f.params f.results;
    (top st).seen_else <- true
  | End ->
    let f = pop_ctrl st in
    if f.is_if && not f.seen_else && f.params <> f.results then error "type mismatch";
    push_ts st f.results
  | Br l -> pop_ts st (label_types (label st l)); set_unreachable st
  | BrIf l -> pop_t st i32; let ts = label_types (label st l) in pop_ts st ts; push_ts st ts
  | BrTable (ls, d) ->
    pop_t st i32;
    let dts = label_types (label st d) in
    Array.iter (fun l ->
        let ts = label_types (label st l) in
        if Array.length ts <> Array.length dts then error "type mismatch";
        let saved = st.sp in
        pop_ts st ts;
        st.sp <- saved) ls;
    pop_ts st dts;
    set_unreachable st
  | Return -> pop_ts st ret; set_unreachable st
  | Call x -> let ft = get c.funcs x "function" in pop_ts st ft.params; push_ts st ft.results
  | CallIndirect (x, y) ->
    let tt = table_of y in
    if tt.elem <> FuncRefT then error "type mismatch";
    let ft = get c.types x "type" in
    pop_t st i32; pop_ts st ft.params; push_ts st ft.results
  | Drop -> ignore (pop st)
  | Select None ->
    pop_t st i32;
    let t1 = pop st in
    let t2 = pop st in
    if not (is_num t1 && is_num t2) then error "type mismatch";
    (match t1, t2 with
     | Some a, Some b when a <> b -> error "type mismatch"
     | Some _, _ -> push st t1
     | None, _ -> push st t2)
  | Select (Some ts) ->
    if Array.length ts <> 1 then error "invalid result arity";
    pop_t st i32; pop_t st ts.(0); pop_t st ts.(0); push_t st ts.(0)
  | LocalGet x -> push_t st (get locals x "local")
  | LocalSet x -> pop_t st (get locals x "local")
  | LocalTee x -> let t = get locals x "local" in pop_t st t; push_t st t
  | GlobalGet x -> push_t st (get c.globals x "global").gtype
  | GlobalSet x ->
    let g = get c.globals x "global" in
    if g.gmut <> Var then error "global is immutable";
    pop_t st g.gtype
  | TableGet x -> let t = table_of x in pop_t st i32; push_t st (Ref t.elem)
  | TableSet x -> let t = table_of x in pop_t st (Ref t.elem); pop_t st i32
  | TableSize x -> ignore (table_of x); push_t st i32
  | TableGrow x -> let t = table_of x in pop_t st i32; pop_t st (Ref t.elem); push_t st i32
  | TableFill x -> let t = table_of x in pop_t st i32; pop_t st (Ref t.elem); pop_t st i32
  | TableCopy (x, y) ->
    let tx = table_of x in let ty = table_of y in
    if tx.elem <> ty.elem then error "type mismatch";
    pop_t st i32; pop_t st i32; pop_t st i32
  | TableInit (x, y) ->
    let tx = table_of x in let et = get c.elems y "elem segment" in
    if tx.elem <> et then error "type mismatch";
    pop_t st i32; pop_t st i32; pop_t st i32
  | ElemDrop y -> ignore (get c.elems y "elem segment")
  | Load (op, m) -> let t, n = load_info op in check_align c m n; pop_t st i32; push_t st t
  | Store (op, m) -> let t, n = store_info op in check_align c m n; pop_t st t; pop_t st i32
  | MemorySize -> mem c; push_t st i32
  | MemoryGrow -> mem c; un i32
  | MemoryFill | MemoryCopy -> mem c; pop_t st i32; pop_t st i32; pop_t st i32
  | MemoryInit x ->
    mem c;
    if x >= c.ndatas then errorf "unknown data segment %d" x;
    pop_t st i32; pop_t st i32; pop_t st i32
  | DataDrop x ->
    if x >= c.ndatas then errorf "unknown data segment %d" x
  | RefNull t -> push_t st (Ref t)
  | RefIsNull -> let t = pop st in if not (is_ref t) then error "type mismatch"; push_t st i32
  | RefFunc x ->
    ignore (get c.funcs x "function");
    if not (Hashtbl.mem c.refs x) then error "undeclared function reference";
    push_t st (Ref FuncRefT)
  | I32Const _ -> push_t st i32 | I64Const _ -> push_t st i64
  | F32Const _ -> push_t st f32 | F64Const _ -> push_t st f64
  | I32Eqz -> un i32 | I64Eqz -> pop_t st i64; push_t st i32
  | I32Compare _ -> rel i32 | I64Compare _ -> rel i64
  | F32Compare _ -> rel f32 | F64Compare _ -> rel f64
  | I32Unary _ -> un i32 | I64Unary _ -> un i64 | F32Unary _ -> un f32 | F64Unary _ -> un f64
  | I32Binary _ -> bin i32 | I64Binary _ -> bin i64
  | F32Binary _ -> bin f32 | F64Binary _ -> bin f64
  | Convert op -> let a, r = cvt_sig op in pop_t st a; push_t st r

let func c (f : func) =
  let ft = get c.types f.ftype "type" in
  let locals = Array.append ft.params f.locals in
  let n = Array.length f.body in
  let heights = Array.make n 0 in
  let st = { vals = Array.make 16 None; sp = 0; ctrls = []; max_sp = 0 } in
  st.ctrls <- [ { is_loop = false; is_if = false; params = [||]; results = ft.results;
                  height = 0; unreachable = false; seen_else = false } ];
  Array.iteri (fun pc i ->
      if st.ctrls = [] then error "type mismatch";
      heights.(pc) <- st.sp;
      instr c locals ft.results st i) f.body;
  if st.ctrls <> [] then error "type mismatch";
  { heights; max_height = st.max_sp }

(* Constant expressions *)

let const_expr c e t =
  let st = { vals = Array.make 4 None; sp = 0; ctrls = []; max_sp = 0 } in
  st.ctrls <- [ { is_loop = false; is_if = false; params = [||]; results = [| t |];
                  height = 0; unreachable = false; seen_else = false } ];
  Array.iter (fun i ->
      (match i with
       | I32Const _ | I64Const _ | F32Const _ | F64Const _ | RefNull _ | RefFunc _ -> ()
       | GlobalGet x ->
         if (get c.globals x "global").gmut = Var then error "constant expression required"
       | _ -> error "constant expression required");
      instr c [||] [||] st i) e;
  ignore (pop_ctrl st)

let limits l bound msg =
  if l.min > bound || (match l.max with Some m -> m > bound | None -> false) then error msg;
  match l.max with
  | Some m when l.min > m -> error "size minimum must not be greater than maximum"
  | _ -> ()

let check_memtype m = limits m.mlimits 65536 "memory size must be at most 65536 pages (4GiB)"
let check_tabletype t = limits t.tlimits 0xFFFF_FFFF "table size must be at most 2^32-1"

(** Validates a module; returns the per-function information. *)
let module_ (m : module_) : func_info array =
  let types = m.types in
  let ifuncs = ref [] and itables = ref [] and imems = ref [] and iglobals = ref [] in
  Array.iter (fun im ->
      match im.idesc with
      | FuncImport x -> ifuncs := get types x "type" :: !ifuncs
      | TableImport t -> check_tabletype t; itables := t :: !itables
      | MemoryImport t -> check_memtype t; imems := t :: !imems
      | GlobalImport g -> iglobals := g :: !iglobals) m.imports;
  let rev l = Array.of_list (List.rev l) in
  let funcs = Array.append (rev !ifuncs) (Array.map (fun f -> get types f.ftype "type") m.funcs) in
  Array.iter check_tabletype m.tables;
  Array.iter check_memtype m.mems;
  let tables = Array.append (rev !itables) m.tables in
  let mems = Array.append (rev !imems) m.mems in
  if Array.length mems > 1 then error "multiple memories";
  let iglobals = rev !iglobals in
  let globals = Array.append iglobals (Array.map (fun g -> g.gtype) m.globals) in
  let refs = Hashtbl.create 16 in
  let scan e = Array.iter (function RefFunc x -> Hashtbl.replace refs x () | _ -> ()) e in
  Array.iter (fun g -> scan g.ginit) m.globals;
  Array.iter (fun e -> Array.iter scan e.einit) m.elems;
  Array.iter (fun e -> match e.edesc with FuncExport x -> Hashtbl.replace refs x () | _ -> ())
    m.exports;
  let ndatas = Array.length m.datas in
  let c = { types; funcs; tables; mems; globals; elems = Array.map (fun e -> e.etype) m.elems;
            ndatas; refs } in
  let cg = { c with globals = iglobals } in
  Array.iter (fun g -> const_expr cg g.ginit g.gtype.gtype) m.globals;
  Array.iter (fun e ->
      Array.iter (fun x -> const_expr cg x (Ref e.etype)) e.einit;
      match e.emode with
      | Active (t, o) ->
        let tt = get tables t "table" in
        if tt.elem <> e.etype then error "type mismatch";
        const_expr cg o i32
      | Passive | Declarative -> ()) m.elems;
  Array.iter (fun d ->
      match d.dmode with
      | DActive (x, o) -> ignore (get mems x "memory"); const_expr cg o i32
      | DPassive -> ()) m.datas;
  (match m.start with
   | Some x ->
     let ft = get funcs x "function" in
     if ft.params <> [||] || ft.results <> [||] then error "start function"
   | None -> ());
  let names = Hashtbl.create 16 in
  Array.iter (fun e ->
      if Hashtbl.mem names e.ename then error "duplicate export name";
      Hashtbl.add names e.ename ();
      match e.edesc with
      | FuncExport x -> ignore (get funcs x "function")
      | TableExport x -> ignore (get tables x "table")
      | MemoryExport x -> ignore (get mems x "memory")
      | GlobalExport x -> ignore (get globals x "global")) m.exports;
  Array.map (func c) m.funcs
