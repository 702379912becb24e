(** Table operations: bounds-checked access, growth (failure gives [None], never a trap)
    and the bulk operations, which check the whole range before touching anything. *)

open Instance

(** Largest table size this implementation grows to. *)
let max_size = 10_000_000

let create (tt : Types.tabletype) : table =
  if tt.tlimits.min > max_size then raise Out_of_memory;
  { elems = Array.make tt.tlimits.min Null; tmax = tt.tlimits.max; telem = tt.elem }

let oob () = Trap.trap "out of bounds table access"

let size (t : table) = Array.length t.elems

let get (t : table) i = if i < 0 || i >= Array.length t.elems then oob () else t.elems.(i)
let set (t : table) i v = if i < 0 || i >= Array.length t.elems then oob () else t.elems.(i) <- v

let grow (t : table) delta v =
  let old = Array.length t.elems in
  let limit = match t.tmax with Some m -> min m max_size | None -> max_size in
  if delta < 0 || delta > limit - old then None
  else begin
    let a = Array.make (old + delta) v in
    Array.blit t.elems 0 a 0 old;
    t.elems <- a;
    Some old
  end

let check (t : table) i n = if i < 0 || n < 0 || i + n > Array.length t.elems then oob ()

let fill (t : table) i v n = check t i n; Array.fill t.elems i n v

let copy (dst : table) d (src : table) s n =
  check src s n; check dst d n; Array.blit src.elems s dst.elems d n

let init (t : table) d (seg : value array) s n =
  if s < 0 || n < 0 || s + n > Array.length seg then oob ();
  check t d n;
  Array.blit seg s t.elems d n
