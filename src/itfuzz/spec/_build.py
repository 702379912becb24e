"""cffi API-mode build of ``itfuzz.spec._spec_interp``: OCaml interpreter object + C stubs.

Runs ``build_spec_interp.sh`` first when the OCaml object is missing or older than its sources.
The object's directory is ``build/spec_interp`` unless ``SPEC_INTERP_BUILD_DIR`` says otherwise.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from cffi import FFI

ROOT = Path(os.path.abspath(__file__)).parents[3]
SRC = ROOT / "spec_interp"
SCRIPT = ROOT / "build_spec_interp.sh"
OUT_DIR = Path(os.environ.get("SPEC_INTERP_BUILD_DIR") or ROOT / "build" / "spec_interp").resolve()
OBJECT = OUT_DIR / "spec_interp.o"
APT_HINT = "the OCaml toolchain is missing: apt-get install ocaml-nox ocaml-findlib"

PROTOTYPES = """
typedef struct itf_reply itf_reply;
int itf_init(void);
int itf_call(const char *name, const uint8_t *req, size_t len, uint8_t **resp, size_t *resp_len);
void itf_free(void *p);
void itf_set_host(void (*fn)(uint32_t, const uint8_t *, size_t, itf_reply *));
int itf_reply_set(itf_reply *reply, const uint8_t *data, size_t len);
"""

# cffi declarations: the C prototypes plus the Python callback for host functions.
CDEF = PROTOTYPES + 'extern "Python" void itf_py_host(uint32_t, const uint8_t *, size_t, itf_reply *);\n'


def _fail(msg: str) -> None:
    sys.exit(f"itfuzz.spec build: {msg}")


def _ocaml_where() -> str:
    if shutil.which("ocamlfind") is None or shutil.which("ocamlopt") is None:
        _fail(APT_HINT)
    return subprocess.run(["ocamlfind", "ocamlc", "-where"], check=True, capture_output=True,
                          text=True).stdout.strip()


def _stale() -> bool:
    if not OBJECT.exists():
        return True
    inputs = [SCRIPT, *(f for ext in ("*.ml", "*.mli", "*.c") for f in SRC.rglob(ext))]
    newest = max((p.stat().st_mtime for p in inputs if p.exists()), default=0.0)
    return newest > OBJECT.stat().st_mtime


def build_object() -> Path:
    """Compile the OCaml interpreter to ``OBJECT`` if needed and return its path."""
    if not SCRIPT.exists():
        if not OBJECT.exists():
            _fail(f"{OBJECT} is missing and {SCRIPT} does not exist")
    elif _stale():
        env = dict(os.environ, SPEC_INTERP_BUILD_DIR=str(OUT_DIR))
        if subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, env=env).returncode != 0:
            _fail(f"{SCRIPT.name} failed (see its output above)")
        if not OBJECT.exists():
            _fail(f"{SCRIPT.name} did not produce {OBJECT}")
    return OBJECT


ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "itfuzz.spec._spec_interp",
    PROTOTYPES,
    # relative to setup.py's directory: setuptools refuses absolute source paths
    sources=[(SRC / "host" / "stubs.c").relative_to(ROOT).as_posix()],
    include_dirs=[_ocaml_where()],
    extra_objects=[str(build_object())],
    libraries=["m", "dl"],
)
