(** Run-time errors: traps (with the reference interpreter's messages) and resource
    exhaustion (call depth or fuel). *)

exception Trap of string
exception Exhaustion of string

let trap msg = raise (Trap msg)
