(** Module instantiation (spec: Execution, Modules): decode, validate, resolve imports,
    allocate, run the active element and data segments, then the start function. *)

(** An import that is missing ("unknown import") or of the wrong type ("incompatible import
    type"). *)
exception Link_error of string

(** [instantiate resolve bytes]: [resolve module name] gives the extern an import refers to.
    Raises [Decode.Decode_error], [Valid.Invalid], [Link_error], or [Trap.Trap] /
    [Trap.Exhaustion] from a segment or the start function (writes made before a trap
    stay). *)
val instantiate : (string -> string -> Instance.extern option) -> string -> Instance.instance
