#!/usr/bin/env bash
# The ClusterFuzzLite build without Docker: runs .clusterfuzzlite/build.sh with a local stand-in
# for OSS-Fuzz's compile_python_fuzzer (PyInstaller --onefile + a wrapper script; no sanitizer
# runtime), in a scratch virtualenv that has only what the builder image has (Python, atheris,
# PyInstaller 6.10.0), then runs every packaged target on its seed corpus for a few hundred
# inputs in a clean environment (no virtualenv, no PYTHONPATH, outside the checkout), so a
# missing PyInstaller hint shows as an import error here rather than in ClusterFuzzLite.
#
#   tools/cflite_local_build.sh [TARGET…]     default: every fuzz_targets/*.py
# Environment: ITFUZZ_CFLITE_WORK (default build/cflite), ITFUZZ_CFLITE_RUNS (default 300),
# PYTHON (default python3; must be 3.11+).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${ITFUZZ_CFLITE_WORK:-$ROOT/build/cflite}
RUNS=${ITFUZZ_CFLITE_RUNS:-300}
PY=${PYTHON:-python3}
say() { echo "cflite_local_build: $*" >&2; }

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
VENV=$WORK/venv
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check "pyinstaller==6.10.0" "atheris>=3.0"

# The builder image's layout: the checkout in $SRC/itfuzz, outputs in $OUT, tools on PATH
# (python3 and pip3 from the scratch virtualenv).
export SRC=$WORK/src OUT=$WORK/out
rm -rf "$OUT" "$SRC/pyfuzzworkdir" "$WORK/bin"
mkdir -p "$OUT" "$SRC" "$WORK/bin"
ln -sfn "$ROOT" "$SRC/itfuzz"
cat > "$WORK/bin/compile_python_fuzzer" <<'SHIM'
#!/usr/bin/env bash
# Local stand-in for OSS-Fuzz's compile_python_fuzzer: $OUT/NAME.pkg (PyInstaller --onefile,
# executable bit cleared so that only wrappers look like fuzz targets) and an executable
# $OUT/NAME wrapper that makes the package executable and runs it, preloading the sanitizer
# runtime when one is there.
set -euo pipefail
fuzzer=$1; shift
name=$(basename "$fuzzer" .py)
pyinstaller --log-level=WARN --noconfirm --distpath "$OUT" --workpath "$SRC/pyfuzzworkdir/$name" \
  --specpath "$SRC/pyfuzzworkdir/$name" --onefile --name "$name.pkg" "$@" "$fuzzer"
chmod -x "$OUT/$name.pkg"
cat > "$OUT/$name" <<WRAP
#!/bin/sh
# LLVMFuzzerTestOneInput (marks this file as a fuzz target)
here=\$(dirname "\$0")
chmod +x "\$here/$name.pkg"
if [ -f "\$here/sanitizer_with_fuzzer.so" ]; then export LD_PRELOAD="\$here/sanitizer_with_fuzzer.so"; fi
exec "\$here/$name.pkg" "\$@"
WRAP
chmod +x "$OUT/$name"
SHIM
chmod +x "$WORK/bin/compile_python_fuzzer"

# Build only the requested targets: a copy of build.sh sees a filtered fuzz_targets/ glob.
BUILD=$ROOT/.clusterfuzzlite/build.sh
if [ $# -gt 0 ]; then
  pattern=$(printf 'fuzz_targets/%s.py ' "$@")
  sed "s|for fuzzer in fuzz_targets/\*.py; do|for fuzzer in $pattern; do|" "$BUILD" > "$WORK/build.sh"
  BUILD=$WORK/build.sh
fi
say "running $BUILD"
start=$(date +%s)
PATH="$WORK/bin:$VENV/bin:$PATH" bash -eu "$BUILD"
say "build took $(( $(date +%s) - start )) s"

# Run each packaged target the way ClusterFuzzLite does: from $OUT, on its unpacked seeds.
status=0
for pkg in "$OUT"/*.pkg; do
  name=$(basename "$pkg" .pkg)
  for f in "$OUT/$name" "$OUT/$name.options"; do
    [ -e "$f" ] || { say "missing $f"; status=1; }
  done
  run=$WORK/run/$name
  rm -rf "$run"; mkdir -p "$run/corpus"
  if [ -f "$OUT/${name}_seed_corpus.zip" ]; then
    "$VENV/bin/python" -m zipfile -e "$OUT/${name}_seed_corpus.zip" "$run/corpus"
  fi
  say "$name: $RUNS inputs from $(ls "$run/corpus" | wc -l) seeds"
  if (cd "$run" && env -i PATH=/usr/bin:/bin HOME="${HOME:-/tmp}" TMPDIR="${TMPDIR:-/tmp}" \
        "$OUT/$name" -runs="$RUNS" -timeout=30 -print_final_stats=1 \
        -artifact_prefix="$run/" corpus > "$run/log" 2>&1) &&
     # libFuzzer may count one run more than -runs (e.g. "Done 301 runs" for 300)
     [ "$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$run/log" | head -1)" -ge "$RUNS" ] 2>/dev/null
  then
    say "$name: ok ($(grep -m1 'stat::average_exec_per_sec' "$run/log" | tr -s ' '))"
  else
    say "$name: FAILED; last lines of $run/log:"
    tail -n 30 "$run/log" >&2
    status=1
  fi
done
exit $status
