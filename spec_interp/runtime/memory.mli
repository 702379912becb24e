(** Memory instances (spec: Execution, Runtime Structure) and the memory instructions'
    range checks and bulk operations. Sizes and addresses are OCaml [int]s holding u32
    values. *)

(** The most pages a memory grows to (4 GiB). *)
val max_pages : int

(** [data] is [pages] * 64 KiB long; growth replaces it with a larger copy, so read it
    afresh after anything that may grow the memory. Only this module changes a memory. *)
type t = private { mutable data : Bytes.t; mutable pages : int; max : int option }

(** [create min max]: [min] zeroed pages; [max] is the limit from the memory type. *)
val create : int -> int option -> t

(** Size in pages. *)
val size : t -> int

(** [grow m delta] grows by [delta] pages and returns the old size, or [None] when the
    maximum (or [max_pages]) would be exceeded or allocation fails; it never traps. *)
val grow : t -> int -> int option

(** [check m addr n] traps ("out of bounds memory access") unless bytes [addr, addr + n)
    are in bounds. *)
val check : t -> int -> int -> unit

(** [fill m dst byte n], [copy m dst src n], [init m dst segment src n]: the bulk
    operations, which check the whole range before writing anything. *)
val fill : t -> int -> int -> int -> unit
val copy : t -> int -> int -> int -> unit
val init : t -> int -> string -> int -> int -> unit
