"""Compiling a generated component, as every component oracle does: a documented limit of the
release under test is a discard (`compat.RELEASE_LIMITS`), any other rejection a finding. Compiles
go through the on-disk component cache when it is on (`engines.component_cache`)."""
from __future__ import annotations

from collections.abc import Callable, MutableMapping

import wasmtime
from wasmtime import component as wc

from itfuzz.engines.compat import release_limitation
from itfuzz.engines.component_cache import DEFAULT_CONFIG, compile_cached
from itfuzz.findings import Discard, Finding, first_line, normalize_error, root_cause

# First lines that only say where an error arose, the same for every rule the validator enforces:
# the finding names the root cause after them, so different rejections are different findings.
CONTEXT_ONLY = ("failed to parse WebAssembly module",)


def rejection(e: BaseException, limit: int = 200) -> str:
    """What a compile error says: its first line, with the root cause when that line is only
    context (`CONTEXT_ONLY`)."""
    first, cause = first_line(e, limit), root_cause(e)
    return f"{first}: {cause}"[:limit] if first in CONTEXT_ONLY and cause else first


def compile_checked(engine, wat: str, stats: MutableMapping[str, int],
                    finding: Callable[[str, str, str], Finding],
                    config_key: str = DEFAULT_CONFIG) -> wc.Component:
    """The compiled component; `Discard` on a release limit; `finding(check, detail, message)`
    raised when Wasmtime rejects a valid component. `config_key` names `engine`'s configuration
    (the disk cache's key; "default" for Wasmtime's default engine)."""
    stats["compiles"] = stats.get("compiles", 0) + 1
    try:
        return compile_cached(engine, wat, stats, config_key)
    except wasmtime.WasmtimeError as e:
        limit = release_limitation(e)
        if limit:
            key = f"discard:release-limit:{limit}"
            stats[key] = stats.get(key, 0) + 1
            raise Discard(f"release-limit:{limit}") from None
        raise finding("compile", normalize_error(rejection(e)) or "",
                      f"Wasmtime rejected a valid component: {rejection(e, 500)}") from None
