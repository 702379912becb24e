#!/bin/bash
# Builds the OCaml spec interpreter (spec_interp/<chapter>/*.ml, see spec_interp/README.md)
# into one position-independent object, $SPEC_INTERP_BUILD_DIR/spec_interp.o (default
# build/spec_interp/), holding the OCaml runtime too; it is linked by cffi together with
# spec_interp/host/stubs.c, which defines itf_stub_host_call.
set -euo pipefail
# A relative SPEC_INTERP_BUILD_DIR is taken relative to the caller's directory.
if [ -n "${SPEC_INTERP_BUILD_DIR:-}" ]; then
  mkdir -p "$SPEC_INTERP_BUILD_DIR"
  OUT=$(cd "$SPEC_INTERP_BUILD_DIR" && pwd)
fi
cd "$(dirname "$0")"
SRC=spec_interp
OUT=${OUT:-build/spec_interp}

# Modules in dependency order, as paths under $SRC without ".ml". A module's name is its
# file's basename, so basenames must be unique across the subdirectories.
MODULES="
  syntax/types syntax/ast
  binary/decode
  valid/valid
  exec/trap exec/i32 exec/i64 exec/f32 exec/f64 exec/convert exec/code
  runtime/memory runtime/instance runtime/table runtime/global
  exec/eval
  runtime/link
  host/api
"
WARN=+a-4-9-40-41-42-44-45-70

missing() {
  echo "build_spec_interp.sh: $1 not found; install OCaml with: apt-get install ocaml-nox ocaml-findlib" >&2
  exit 1
}
command -v ocamlfind >/dev/null 2>&1 || missing ocamlfind
ocamlfind ocamlopt -version >/dev/null 2>&1 || missing ocamlopt
STDLIB=$(ocamlfind ocamlc -where)
[ -f "$STDLIB/libasmrun_pic.a" ] || missing "$STDLIB/libasmrun_pic.a"

fail() { echo "build_spec_interp.sh: $1" >&2; exit 1; }
listed=" $(echo $MODULES) "
# Every source is listed (and every listed module exists), and no two share a basename.
while IFS= read -r f; do
  p=${f#"$SRC"/}
  p=${p%.ml}
  p=${p%.mli}
  case $listed in
    *" $p "*) ;;
    *) fail "$f is not listed in MODULES" ;;
  esac
done < <(find "$SRC" -name '*.ml' -o -name '*.mli')
for p in $MODULES; do
  [ -f "$SRC/$p.ml" ] || fail "$SRC/$p.ml (listed in MODULES) does not exist"
done
dup=$(for p in $MODULES; do basename "$p"; done | sort | uniq -d)
[ -z "$dup" ] || fail "more than one module named: $dup"

# Every compiled interface and implementation goes into the one directory $OUT/obj, which is
# therefore the only include directory needed, whatever subdirectory a module's source is in.
mkdir -p "$OUT/obj"
CMX=""
for p in $MODULES; do
  m=$(basename "$p")
  if [ -f "$SRC/$p.mli" ]; then
    ocamlfind ocamlopt -c -w "$WARN" -I "$OUT/obj" -o "$OUT/obj/$m.cmi" "$SRC/$p.mli"
  fi
  ocamlfind ocamlopt -c -inline 200 -w "$WARN" -I "$OUT/obj" \
    -o "$OUT/obj/$m.cmx" "$SRC/$p.ml"
  CMX="$CMX $OUT/obj/$m.cmx"
done
ocamlfind ocamlopt -output-complete-obj -runtime-variant _pic -o "$OUT/spec_interp.o" $CMX
echo "built $OUT/spec_interp.o"
