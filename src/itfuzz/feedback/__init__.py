"""Coverage feedback: value-free features of cases and outcomes (corpus features per target, and
semantic features reported to libFuzzer)."""
