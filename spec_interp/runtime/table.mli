(** Table instances (spec: Execution, Runtime Structure; the type is [Instance.table], as
    tables and functions refer to each other) and the table instructions. Indices and sizes
    are OCaml [int]s holding u32 values; out-of-range accesses trap with "out of bounds
    table access". *)

open Instance

(** The largest size a table is created with or grows to. *)
val max_size : int

(** A table of [min] null elements; raises [Out_of_memory] if [min > max_size]. *)
val create : Types.tabletype -> table

val size : table -> int
val get : table -> int -> value
val set : table -> int -> value -> unit

(** [grow t delta v] appends [delta] copies of [v] and returns the old size, or [None] past
    the maximum (or [max_size]); it never traps. *)
val grow : table -> int -> value -> int option

(** [fill t dst v n], [copy dst_table dst src_table src n], [init t dst segment src n]:
    the bulk operations, which check the whole range before writing anything. *)
val fill : table -> int -> value -> int -> unit
val copy : table -> int -> table -> int -> int -> unit
val init : table -> int -> value array -> int -> int -> unit
