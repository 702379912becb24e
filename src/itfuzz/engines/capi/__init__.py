"""The C-API lane: Wasmtime's component C API called directly (cffi, API mode), with values
built and compared in C. `lane.load()` says whether it can run here (extension built, library
found, value layout equal to wasmtime-py's) and why not."""
