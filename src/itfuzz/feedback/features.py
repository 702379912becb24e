"""Value-free features of a decoded case: what each target's seed corpus must cover.

One function per kind of case; each target names its own (`itfuzz.targets`)."""
from __future__ import annotations

from itfuzz.model.resources import GuestHandle, Handle, has_guest
from itfuzz.model.types import Enum, Flags, List, Map, Record, Tuple, Variant, _VariantLike, walk


def signature_case_features(sig) -> set[str]:
    """Type kinds, string encoding(s), component and call shape, flat-count and case/flag-count
    boundaries of a signature."""
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
            if isinstance(node, Map):  # every key kind, through the adapter or to the host
                out.add(f"map-key:{node.key.kind}:{sig.shape}")
                out.add(f"map-of:{node.value.kind}")
            out.update(f"map-in:{node.kind}" for c in node.children() if isinstance(c, Map))
            # where handles sit (the guest walks to each borrow to drop it)
            out.update(f"{c.kind}-in:{node.kind}:{sig.shape}" for c in node.children()
                       if isinstance(c, Handle))
            # where `gr` handles sit (`f` turns each own into its rep, each rep into an own)
            out.update(f"gr-{c.kind}-in:{node.kind}" for c in node.children()
                       if isinstance(c, GuestHandle))
        out.add(f"depth:{min(t.depth, 8)}")
    if any(isinstance(t, Handle) for _, t in sig.params):
        out.add(f"handle-param:spilled={sig.spills_params}")
    if sig.guest:
        out.update(f"gr-{h.kind}-param:{t.kind}:spilled={sig.spills_params}"
                   for _, t in sig.params for h in walk(t) if isinstance(h, GuestHandle))
        if sig.result is not None and has_guest(sig.result):
            out.add(f"gr-result:retptr={sig.uses_retptr}")
    return out


def roundtrip_case_features(case) -> set[str]:
    """A round-trip (or static) case: its signature's features (and its maps' entry shapes)."""
    return signature_case_features(case.sig) | map_value_features(case)


def map_value_features(case) -> set[str]:
    """The shapes of the map values a case sends and returns: empty, large (64+ entries), with
    duplicate keys (all kept, in order: the spec's list<tuple<K, V>>)."""
    out: set[str] = set()
    if not case.sig.has_maps:  # (a static case's values are not model values)
        return out
    for call in case.calls:
        pairs = list(zip((t for _, t in case.sig.params), call.args))
        if case.sig.result is not None:
            pairs.append((case.sig.result, call.ret))
        budget = [2000]
        for t, v in pairs:
            _map_shapes(t, v, out, budget)
    return out


def _map_shapes(t, v, out: set[str], budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0 or not t.has_pointer and t.kind != "map":
        return
    if isinstance(t, Map):
        keys = [k for k, _ in v]
        out.add("map-entries:" + ("empty" if not v else "large" if len(v) >= 64 else "some"))
        if len(set(keys)) < len(keys):
            out.add(f"map-entries:dup-keys:{t.key.kind}")
        pairs = [(t.elem, e) for e in v]
    elif isinstance(t, List):
        pairs = [(t.elem, e) for e in v]
    elif isinstance(t, (Record, Tuple)):
        pairs = list(zip(t.children(), v))
    elif isinstance(t, _VariantLike) and not isinstance(t, Enum):
        payload = dict(t.cases()).get(v[0])
        pairs = [(payload, v[1])] if payload is not None else []
    else:
        return
    for ct, cv in pairs:
        _map_shapes(ct, cv, out, budget)


def misuse_only_features(case) -> set[str]:
    """The misuse site, kind, type kind and depth of a host_api_misuse case (for the C-level
    twin: its site, kind and node kind; for a resource misuse also the handle's parent kind)."""
    cm = getattr(case, "c_misuse", None)
    if getattr(case, "lane", "py") == "c" and cm is not None:
        return {f"c-misuse-site:{cm.where}", f"c-misuse:{cm.where}:{cm.kind}:{cm.node or 'none'}"}
    misuse = case.misuse
    out = {f"misuse-site:{case.where}"}
    if misuse is not None:
        node = misuse.node.kind if misuse.node is not None else "none"
        out.add(f"misuse:{case.where}:{misuse.kind}:{node}")
        out.add(f"misuse-depth:{min(misuse.depth, 3)}")
    res = getattr(case, "res", None)
    if res is not None:  # a bad resource handle: which kind, in which compound, own or borrow
        out.add(f"res-misuse:{case.where}:{res.kind}:{res.at.parent}:{res.at.handle.kind}")
    return out


def misuse_case_features(case) -> set[str]:
    """A host_api_misuse case: its signature's and its misuse's features."""
    return signature_case_features(case.sig) | misuse_only_features(case)


def core_case_features(case) -> set[str]:
    """Value-free features of a case, for the seed corpus: source, engine, export kinds,
    parameter and result types, function and call counts, imports."""
    out = {f"source:{case.source}", f"engine:{case.engine}", f"{case.source}:{case.engine}"}
    if case.wasm is None:
        return out | {"no-module"}
    funcs = case.info.funcs()
    out.add(f"funcs:{min(len(funcs), 6)}")
    out.add(f"calls:{min(len(case.calls) // 4, 5)}")
    out.update(f"import:{i.kind}" for i in case.info.imports)
    for e in case.info.exports:
        out.add(f"export:{e.kind}")
        if e.kind == "func":
            out.update(f"param:{t}" for t in e.type[0])
            out.update(f"result:{t}" for t in e.type[1])
            out.add(f"results:{min(len(e.type[1]), 3)}")
        elif e.kind == "global":
            out.add(f"global:{e.type[0]}:{'mut' if e.type[1] else 'const'}")
        elif e.kind == "table":
            out.add(f"table:{e.type[0]}")
    return out


def hostile_case_features(case) -> set[str]:
    """A component_hostile case: direction, encoding, type kinds, what was made hostile, and the
    model's verdict (every trap reason is a feature, per direction and encoding)."""
    d, enc, v = case.direction, case.sig.encoding, case.expected
    out = {f"direction:{d}", f"{d}:{enc}", f"verdict:{d}:{v.name}", f"verdict:{enc}:{v.name}"}
    if case.sig.callee_encoding:  # the adapter: its transcoding pair
        out.add(f"pair:{enc}->{case.sig.callee_encoding}")
    if case.note:
        return out | {"no-case"}
    for t in case.types:
        for node in walk(t):
            out.add(f"{d}:kind:{node.kind}")
    out.update(f"mutation:{m.where}" for m in case.mutations)
    out.update(f"realloc-answer:{k}" for k in set(case.answer_kinds))
    if v.reallocs:
        n = len(v.reallocs)
        out.add(f"reallocs:{n if n < 4 else 'many'}")
    return out
