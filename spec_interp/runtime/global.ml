(** Global instances: creation with a checked initial value. *)

open Instance

let create (gtype : Types.globaltype) v =
  if not (has_type v gtype.gtype) then invalid_arg "Global.create: value of wrong type";
  { value = v; gtype }
