# OSS-Fuzz / ClusterFuzzLite builder for itfuzz (.clusterfuzzlite/Dockerfile links here).
# Python 3.11, atheris, PyInstaller and compile_python_fuzzer come with the base image; the
# OCaml spec interpreter needs OCaml from the distribution's packages.
FROM gcr.io/oss-fuzz-base/base-builder-python
RUN apt-get update && \
    apt-get install -y --no-install-recommends ocaml-nox ocaml-findlib && \
    rm -rf /var/lib/apt/lists/*
COPY . $SRC/itfuzz
WORKDIR $SRC/itfuzz
COPY .clusterfuzzlite/build.sh $SRC/
