"""Value-free features of a decoded case: what the seed corpus must cover."""
from __future__ import annotations

from .types import Enum, Flags, Variant, walk


def case_features(case) -> set[str]:
    """Type kinds, encoding, shape, flat-count and case/flag-count boundaries of a case."""
    sig = case.sig
    out = {f"encoding:{sig.encoding}", f"echo:{sig.echo}",
           f"params:{min(len(sig.params), 6)}",
           f"flat-results:{min(len(sig.flat_results), 2)}"}
    n = len(sig.flat_params)
    out.add(f"flat-params:{n if n in (0, 1, 15, 16, 17) else 'many' if n > 17 else 'some'}")
    for t in sig.types():
        for node in walk(t):
            out.add(f"kind:{node.kind}")
            out.add(f"{sig.encoding}:{node.kind}")
            if isinstance(node, (Variant, Enum)):
                c = len(node.cases())
                if c in (1, 2, 255, 256, 257):
                    out.add(f"{node.kind}-cases:{c}")
            if isinstance(node, Flags) and len(node.labels) in (1, 8, 9, 16, 17, 32):
                out.add(f"flags:{len(node.labels)}")
        out.add(f"depth:{min(t.depth, 8)}")
    return out
