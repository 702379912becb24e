(** Global instances (spec: Execution, Runtime Structure). *)

(** [create t v]: a global of type [t] holding [v]; [Invalid_argument] if [v] does not have
    the global's value type. *)
val create : Types.globaltype -> Instance.value -> Instance.global
