#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build of itfuzz (runs in the builder image, see ../Dockerfile;
# tools/cflite_local_build.sh runs the same steps without Docker).
#   1. install the package: builds the OCaml spec interpreter and its cffi module, pulls
#      wasmtime (with its ctypes-loaded shared library) and wasm-tools;
#   2. package every fuzz_targets/*.py with compile_python_fuzzer (PyInstaller) plus the hints
#      PyInstaller cannot find alone (tools/cflite_helper.py pyinstaller-args);
#   3. next to each target: TARGET_seed_corpus.zip (corpus/TARGET/) and TARGET.options.
cd "$SRC/itfuzz"
pip3 install .

hint_lines=$(python3 tools/cflite_helper.py pyinstaller-args)
mapfile -t hints <<< "$hint_lines"
for fuzzer in fuzz_targets/*.py; do
  name=$(basename "$fuzzer" .py)
  compile_python_fuzzer "$fuzzer" "${hints[@]}"
  python3 tools/cflite_helper.py options "$name" "$OUT/$name.options"
  if [ -d "corpus/$name" ]; then
    python3 tools/cflite_helper.py seed-zip "$name" "$OUT/${name}_seed_corpus.zip"
  fi
done
