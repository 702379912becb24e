"""Fuzzing operations behind the CLI verbs, generic over `targets.FACTORIES`.

`run` (one input through `Target.execute`, with a time limit, as a comparable `Result`),
`libfuzzer` (command lines for a target's executable script), `minimize` (libFuzzer's
`-minimize_crash` plus a structural shrink that keeps the finding signature), `corpus`
(`-merge=1` with sizes), `triage` (crash files grouped by signature), `reproducer`
(standalone wasmtime-only scripts), `isolate` (an input in a child process, so that an abort is
an outcome), `spec_test` (`.wast` scripts on the spec interpreter), `releases` (a virtualenv per
wasmtime-py release) and `sweep` (inputs × releases).
"""
