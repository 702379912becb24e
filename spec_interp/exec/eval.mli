(** Execution of instructions and function invocation (spec: Execution, Instructions and
    Modules) on compiled bodies ([Code]). Wasm-to-wasm calls do not recurse in OCaml; only
    host functions re-enter [invoke]. Running out of call depth or fuel raises
    [Trap.Exhaustion]. *)

open Instance

(** [invoke f args]: calls [f] with arguments of its parameter types and returns its
    results. Raises [Trap.Trap] or [Trap.Exhaustion]. *)
val invoke : func -> value array -> value array

(** The value of a constant expression (global initialisers, segment offsets and
    elements) in [inst]. *)
val eval_const : instance -> Ast.const_expr -> value

(** How host functions are called: host id, type, arguments → results (set by [Api]). *)
val host_call : (int -> Types.functype -> value array -> value array) ref

(** {2 Settings and state, used by [Api]} *)

(** Current call depth (0 outside any call) and its limit. *)
val depth : int ref
val max_depth : int ref

(** When [!fuel_on], every instruction executed takes one unit of [fuel]; running out raises
    [Trap.Exhaustion "fuel exhausted"]. *)
val fuel_on : bool ref
val fuel : int ref

(** Fault injection for tests: [i32.rem_s] / [i64.rem_s] results are off by one. *)
val fault_i32_rem_s : bool ref
val fault_i64_rem_s : bool ref

(** Instructions executed, per opcode index (see [Code.opcode_index]). *)
val counts : int array
