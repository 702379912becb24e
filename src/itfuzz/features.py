"""Value-free features of a decoded case: what the seed corpus must cover."""
from __future__ import annotations

from .types import Enum, Flags, Variant, walk


def case_features(case) -> set[str]:
    """Type kinds, string encoding(s), component and call shape, flat-count and case/flag-count
    boundaries of a case."""
    if not hasattr(case, "sig"):  # differential_spec: a core module and its calls
        from .oracles.differential import case_features as module_features
        return module_features(case)
    sig = case.sig
    out = {f"encoding:{sig.encoding}", f"echo:{sig.echo}", f"shape:{sig.shape}",
           f"params:{min(len(sig.params), 6)}",
           f"flat-results:{min(len(sig.flat_results), 2)}"}
    n = len(sig.flat_params)
    out.add(f"flat-params:{n if n in (0, 1, 15, 16, 17) else 'many' if n > 17 else 'some'}")
    if sig.shape == "composed":
        pair = "->".join(sig.encoding_pair)
        out.add(f"pair:{pair}")
        if any(node.kind == "string" for t in sig.types() for node in walk(t)):
            out.add(f"pair-string:{pair}")  # the fused adapter transcodes
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
    misuse = getattr(case, "misuse", None)  # host_api_misuse cases
    if hasattr(case, "where"):
        out.add(f"misuse-site:{case.where}")
    if misuse is not None:
        node = misuse.node.kind if misuse.node is not None else "none"
        out.add(f"misuse:{case.where}:{misuse.kind}:{node}")
        out.add(f"misuse-depth:{min(misuse.depth, 3)}")
    return out
