(** Linear memories: a byte buffer of [pages] * 64 KiB, replaced by a larger copy on
    growth. Growth past the maximum (or 65536 pages) fails with [None]; it never traps. *)

let page_size = 0x10000
let max_pages = 0x10000

type t = { mutable data : Bytes.t; mutable pages : int; max : int option }

let create min max = { data = Bytes.make (min * page_size) '\000'; pages = min; max }

let size m = m.pages

(** Grows by [delta] pages; returns the old size, or [None] on failure. *)
let grow m delta =
  let old = m.pages in
  let limit = match m.max with Some x -> min x max_pages | None -> max_pages in
  if delta < 0 || delta > limit - old then None
  else if delta = 0 then Some old
  else
    match Bytes.make ((old + delta) * page_size) '\000' with
    | data ->
      Bytes.blit m.data 0 data 0 (Bytes.length m.data);
      m.data <- data;
      m.pages <- old + delta;
      Some old
    | exception (Out_of_memory | Invalid_argument _) -> None

let oob () = Trap.trap "out of bounds memory access"

(** Checks that [n] bytes at [addr] are in bounds. *)
let check m addr n = if addr < 0 || n < 0 || addr + n > Bytes.length m.data then oob ()

let fill m d v n = check m d n; Bytes.fill m.data d n (Char.unsafe_chr (v land 0xff))
let copy m d s n = check m s n; check m d n; Bytes.blit m.data s m.data d n

let init m d (src : string) s n =
  if s < 0 || n < 0 || s + n > String.length src then oob ();
  check m d n;
  Bytes.blit_string src s m.data d n
