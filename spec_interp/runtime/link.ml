(** Instantiation: decode, validate, resolve imports by name and type (with limits
    subtyping), allocate the instance, run the active element then data segments in order
    (a trap keeps the writes made before it), and call the start function. *)

open Types
open Ast
open Instance

exception Link_error of string

(** [instantiate resolve bytes]: [resolve module name] finds an import's extern. *)
let instantiate (resolve : string -> string -> extern option) (bytes : string) : instance =
  let m = Decode.decode bytes in
  let infos = Valid.module_ m in
  let imported = Array.map (fun im ->
      let ext = match resolve im.imodule im.iname with
        | Some e -> e
        | None -> raise (Link_error ("unknown import " ^ im.imodule ^ "." ^ im.iname)) in
      let expected = match im.idesc with
        | FuncImport x -> ExternFunc m.types.(x)
        | TableImport t -> ExternTable t
        | MemoryImport t -> ExternMemory t
        | GlobalImport g -> ExternGlobal g in
      if not (match_externtype (extern_type ext) expected) then
        raise (Link_error "incompatible import type");
      ext) m.imports in
  let pick f = Array.of_list (List.filter_map f (Array.to_list imported)) in
  let inst = { types = m.types; funcs = [||]; tables = [||]; mems = [||]; globals = [||];
               elem_segs = [||]; data_segs = [||]; exports = [] } in
  let own = Array.mapi (fun i (f : Ast.func) ->
      new_func m.types.(f.ftype) (Wasm (inst, Code.compile m.types f infos.(i)))) m.funcs in
  inst.funcs <- Array.append (pick (function EFunc f -> Some f | _ -> None)) own;
  inst.tables <- Array.append (pick (function ETable t -> Some t | _ -> None))
      (Array.map Table.create m.tables);
  inst.mems <- Array.append (pick (function EMemory x -> Some x | _ -> None))
      (Array.map (fun (mt : memtype) -> Memory.create mt.mlimits.min mt.mlimits.max) m.mems);
  inst.globals <- pick (function EGlobal g -> Some g | _ -> None);
  let own_globals = Array.map (fun (g : Ast.global) ->
      Global.create g.gtype (Eval.eval_const inst g.ginit)) m.globals in
  inst.globals <- Array.append inst.globals own_globals;
  inst.elem_segs <- Array.map (fun e -> Array.map (Eval.eval_const inst) e.einit) m.elems;
  inst.data_segs <- Array.map (fun d -> d.dinit) m.datas;
  inst.exports <- Array.to_list (Array.map (fun e ->
      e.ename, (match e.edesc with
          | FuncExport x -> EFunc inst.funcs.(x)
          | TableExport x -> ETable inst.tables.(x)
          | MemoryExport x -> EMemory inst.mems.(x)
          | GlobalExport x -> EGlobal inst.globals.(x))) m.exports);
  let offset e = match Eval.eval_const inst e with
    | I32 n -> Int32.to_int n land 0xffffffff
    | _ -> failwith "offset is not an i32" in
  Array.iteri (fun i e ->
      match e.emode with
      | Active (t, o) ->
        let seg = inst.elem_segs.(i) in
        Table.init inst.tables.(t) (offset o) seg 0 (Array.length seg);
        inst.elem_segs.(i) <- [||]
      | Declarative -> inst.elem_segs.(i) <- [||]
      | Passive -> ()) m.elems;
  Array.iteri (fun i d ->
      match d.dmode with
      | DActive (x, o) ->
        Memory.init inst.mems.(x) (offset o) d.dinit 0 (String.length d.dinit);
        inst.data_segs.(i) <- ""
      | DPassive -> ()) m.datas;
  (match m.start with
   | Some x -> ignore (Eval.invoke inst.funcs.(x) [||])
   | None -> ());
  inst
