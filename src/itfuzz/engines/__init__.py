"""Everything that touches wasmtime-py or libwasmtime: engines, value conversion, raw core calls,
invalid host values, and the differences between releases (`compat`)."""
