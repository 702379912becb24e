"""A Wasmtime engine configuration chosen by a test case (pure data; `itfuzz.engines.configs`
turns it into a `wasmtime.Config`).

`None` in a field means "leave Wasmtime's default": a test case without any configuration
(`TestCase.config is None`) runs on Wasmtime's default engine. Only combinations Wasmtime accepts
are constructible (`__post_init__` checks `invalid_reason`): an invalid one would abort the
process when the engine is made (the C API unwraps the configuration error).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

STRATEGIES = ("cranelift", "winch", "pulley")
OPT_LEVELS = ("none", "speed", "speed_and_size")
KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
# On-demand allocation: memories move when they outgrow their reservation (0: every access is
# bounds-checked, nothing reserved ahead).
RESERVATIONS = (0, 64 * KiB, 16 * MiB, 4 * GiB)
# Pooling: a slot never moves and `max_memory_size` is the reservation, so it must hold the
# largest memory a generated case grows (well below 64 MiB) or `memory.grow` fails.
POOL_RESERVATIONS = (64 * MiB, 4 * GiB)
GUARD_SIZES = (0, 64 * KiB, 2 * GiB)

# Combinations Wasmtime refuses (engine creation panics in the C API, or every function fails to
# compile), as (condition, reason): the decoder never makes them; `itfuzz features` lists them.
EXCLUDED = (
    ("winch without signals-based traps",
     "Winch requires the signals-based-traps option (engine creation fails)"),
    ("winch with exceptions",
     "Winch compiles no function at all with exceptions on ('support for GC types disabled')"),
    ("pooling with a reservation below 64 MiB",
     "the pool's max_memory_size is the reservation; generated memories must grow past it"),
)


@dataclass(frozen=True)
class EngineConfig:
    """Strategy and the settings Wasmtime's own fuzzers vary; hashable (a cache key part)."""

    strategy: str = "cranelift"
    opt_level: str | None = None           # Cranelift's (and Pulley's, which Cranelift emits)
    pooling: bool = False                  # pooling instance allocator, else on-demand
    memory_reservation: int | None = None
    guard_size: int | None = None
    signals_based_traps: bool | None = None
    concurrency: bool | None = None        # component-model async runtime support
    exceptions: bool | None = None
    custom_page_sizes: bool | None = None

    def __post_init__(self) -> None:
        reason = self.invalid_reason()
        if reason:
            raise ValueError(f"invalid engine configuration {self.text()}: {reason}")

    def invalid_reason(self) -> str | None:
        """Why Wasmtime refuses this combination (one of `EXCLUDED`), or None."""
        if self.strategy not in STRATEGIES:
            return f"unknown strategy {self.strategy!r}"
        if self.opt_level is not None and self.opt_level not in OPT_LEVELS:
            return f"unknown opt level {self.opt_level!r}"
        if self.strategy == "winch":
            if self.signals_based_traps is False:
                return EXCLUDED[0][1]
            if self.exceptions:
                return EXCLUDED[1][1]
            if self.opt_level is not None:
                return "Winch has no optimizer: opt_level stays unset"
        if self.pooling and self.memory_reservation is not None \
                and self.memory_reservation < POOL_RESERVATIONS[0]:
            return EXCLUDED[2][1]
        return None

    def text(self) -> str:
        """A short form for reports: the strategy, then each setting that is not the default,
        e.g. `winch,pooling,reserve=64M,guard=0,signals=on,async=off`."""
        parts = [self.strategy]
        for f in fields(self)[1:]:
            v = getattr(self, f.name)
            if v is None or v is False and f.name == "pooling":
                continue
            name = SHORT_NAMES[f.name]
            if f.name == "pooling":
                parts.append(name)
            elif isinstance(v, bool):
                parts.append(f"{name}={'on' if v else 'off'}")
            elif isinstance(v, int):
                parts.append(f"{name}={size_text(v)}")
            else:
                parts.append(f"{name}={v}")
        return ",".join(parts)

    def __str__(self) -> str:
        return self.text()


SHORT_NAMES = {"opt_level": "opt", "pooling": "pooling", "memory_reservation": "reserve",
               "guard_size": "guard", "signals_based_traps": "signals", "concurrency": "async",
               "exceptions": "exceptions", "custom_page_sizes": "page-sizes"}


def size_text(n: int) -> str:
    for unit, size in (("G", GiB), ("M", MiB), ("K", KiB)):
        if n and n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


def engine_text(config: EngineConfig | None) -> str:
    """How reports name the engine of a case: `default` or the configuration's short form."""
    return "default" if config is None else config.text()
