"""cffi API-mode build of ``itfuzz.engines.capi._capi_lane`` from ``lane.c``.

Needs only a C compiler: libwasmtime is not linked but looked up at run time in the copy
wasmtime-py loaded (``itl_open``), so one build serves every wasmtime-py release whose value
layout matches (checked at start-up by ``layout.py``).
"""
import os
from pathlib import Path

from cffi import FFI

HERE = Path(os.path.abspath(__file__)).parent
ROOT = HERE.parents[3]

# The cffi declarations are the header itself, without its preprocessor lines.
CDEF = "\n".join(line for line in (HERE / "lane.h").read_text().splitlines()
                 if not line.lstrip().startswith("#"))



def builder(source: str) -> FFI:
    ffi = FFI()
    ffi.cdef(CDEF)
    ffi.set_source("itfuzz.engines.capi._capi_lane", '#include "lane.h"', sources=[source],
                   include_dirs=[str(HERE)], libraries=["dl"],
                   extra_compile_args=["-O2", "-std=c11", "-D_GNU_SOURCE"])
    return ffi


# setup.py's (cffi_modules): relative to setup.py's directory, setuptools refuses absolute paths
ffibuilder = builder((HERE / "lane.c").relative_to(ROOT).as_posix())

if __name__ == "__main__":  # in-place rebuild in a checkout: python src/itfuzz/engines/capi/_build.py
    out = builder(str(HERE / "lane.c")).compile(tmpdir=str(ROOT / "build" / "capi_lane"))
    os.replace(out, HERE / Path(out).name)
