#!/bin/bash
# Builds the OCaml spec interpreter (spec_interp/*.ml) into one position-independent
# object, $SPEC_INTERP_BUILD_DIR/spec_interp.o (default build/spec_interp/), holding the
# OCaml runtime too; it is linked by cffi together with spec_interp/stubs.c, which
# defines itf_stub_host_call.
set -euo pipefail
# A relative SPEC_INTERP_BUILD_DIR is taken relative to the caller's directory.
if [ -n "${SPEC_INTERP_BUILD_DIR:-}" ]; then
  mkdir -p "$SPEC_INTERP_BUILD_DIR"
  OUT=$(cd "$SPEC_INTERP_BUILD_DIR" && pwd)
fi
cd "$(dirname "$0")"
SRC=spec_interp
OUT=${OUT:-build/spec_interp}

# Modules in dependency order.
MODULES="types ast decode valid trap i32 i64 f32 f64 convert code memory instance table global eval link api"

missing() {
  echo "build_spec_interp.sh: $1 not found; install OCaml with: apt-get install ocaml-nox ocaml-findlib" >&2
  exit 1
}
command -v ocamlfind >/dev/null 2>&1 || missing ocamlfind
ocamlfind ocamlopt -version >/dev/null 2>&1 || missing ocamlopt
STDLIB=$(ocamlfind ocamlc -where)
[ -f "$STDLIB/libasmrun_pic.a" ] || missing "$STDLIB/libasmrun_pic.a"

for f in "$SRC"/*.ml; do
  m=$(basename "$f" .ml)
  case " $MODULES " in
    *" $m "*) ;;
    *) echo "build_spec_interp.sh: $f is not listed in MODULES" >&2; exit 1 ;;
  esac
done

mkdir -p "$OUT/obj"
CMX=""
for m in $MODULES; do
  if [ -f "$SRC/$m.mli" ]; then
    ocamlfind ocamlopt -c -I "$OUT/obj" -o "$OUT/obj/$m.cmi" "$SRC/$m.mli"
  fi
  ocamlfind ocamlopt -c -inline 200 -w +a-4-9-40-41-42-44-45-70 -I "$OUT/obj" \
    -o "$OUT/obj/$m.cmx" "$SRC/$m.ml"
  CMX="$CMX $OUT/obj/$m.cmx"
done
ocamlfind ocamlopt -output-complete-obj -runtime-variant _pic -o "$OUT/spec_interp.o" $CMX
echo "built $OUT/spec_interp.o"
