"""Strings (CanonicalABI.md §Loading `load_string_from_range`, §Storing `store_string_*`):
the three encodings, the latin1+utf16 tag bit, and the exact transcoding paths with the spec's
sequence of `realloc` calls (old ptr, old size, align, new size).

Naming: the required API calls the from-a-range operations `load_string(cx, ptr, units)` and
`store_string(cx, s, …)`; they are the spec's `load_string_from_range` and
`store_string_into_range` (both names exist here). The spec's `load_string(cx, ptr)` /
`store_string(cx, v, ptr)`, which go through a (ptr, len) pair in memory, are part of
`load.load` / `store.store`.
"""
from __future__ import annotations

from typing import NamedTuple

from itfuzz.abi.context import Context
from itfuzz.abi.errors import Trap

UTF16_TAG = 1 << 31                 # utf16_tag('i32')
MAX_STRING_BYTE_LENGTH = (1 << 28) - 1
REALLOC_I32_MAX = 2**32 - 1


class String(NamedTuple):
    """The spec's `String`: the text and its hint (source encoding, tagged code units)."""

    s: str
    encoding: str
    tagged_code_units: int


def load_string_from_range(cx: Context, ptr: int, tagged_code_units: int) -> String:
    """Lift the string at (ptr, tagged_code_units); traps in the spec's order: too long,
    misaligned, out of bounds, undecodable."""
    enc = cx.string_encoding
    if enc == "utf8":
        alignment, byte_length, codec = 1, tagged_code_units, "utf-8"
    elif enc == "utf16":
        alignment, byte_length, codec = 2, 2 * tagged_code_units, "utf-16-le"
    elif tagged_code_units & UTF16_TAG:
        alignment, byte_length, codec = 2, 2 * (tagged_code_units ^ UTF16_TAG), "utf-16-le"
    else:
        alignment, byte_length, codec = 2, tagged_code_units, "latin-1"
    if byte_length > MAX_STRING_BYTE_LENGTH:
        raise Trap("string-too-long", f"{byte_length} bytes ({enc}, length {tagged_code_units:#x})")
    if ptr % alignment:
        raise Trap("string-misaligned", f"ptr {ptr:#x} not aligned to {alignment} ({enc})")
    mem = cx.memory
    if ptr + byte_length > len(mem):
        raise Trap("string-oob", f"ptr {ptr:#x} + {byte_length} bytes > memory size {len(mem):#x}")
    try:
        s = mem[ptr:ptr + byte_length].decode(codec)
    except UnicodeDecodeError as e:
        reason = "utf8-invalid" if codec == "utf-8" else "utf16-invalid"
        raise Trap(reason, f"at ptr {ptr:#x}: {e.reason} at byte {e.start}") from None
    return String(s, enc, tagged_code_units)


def load_string(cx: Context, ptr: int, tagged_code_units: int) -> str:
    """`load_string_from_range`, text only."""
    return load_string_from_range(cx, ptr, tagged_code_units).s


def lift_string(cx: Context, ptr: int, tagged_code_units: int) -> str | String:
    """What `load`/`lift_flat` return for a string: `String` with `cx.keep_string_hints`."""
    v = load_string_from_range(cx, ptr, tagged_code_units)
    return v if cx.keep_string_hints else v.s


def code_units(s: str, encoding: str) -> int:
    """The tagged code units a source in `encoding` would report for `s` (latin1+utf16: Latin-1
    when every code point is below 256, else UTF-16 with the tag)."""
    if encoding == "utf8":
        return len(s.encode("utf-8"))
    if encoding == "utf16":
        return len(s.encode("utf-16-le")) // 2
    if encoding == "latin1+utf16":
        if max(s, default="\0") < "\u0100":
            return len(s)
        return (len(s.encode("utf-16-le")) // 2) | UTF16_TAG
    raise ValueError(f"unknown string encoding {encoding!r}")


def store_string(cx: Context, s: str, src_encoding: str = "utf8",
                 src_code_units: int | None = None) -> tuple[int, int]:
    """Lower `s` (hinted as coming from `src_encoding` with `src_code_units` tagged code units;
    by default what that encoding gives) into `cx`; returns (ptr, packed length). Host strings
    in Wasmtime are ``store_string(cx, s, 'utf8', len(s.encode()))``."""
    if src_code_units is None:
        src_code_units = code_units(s, src_encoding)
    return store_string_into_range(cx, String(s, src_encoding, src_code_units))


def store_string_into_range(cx: Context, v: String) -> tuple[int, int]:
    src, src_encoding, src_tagged_code_units = v
    if src_encoding == "latin1+utf16":
        if src_tagged_code_units & UTF16_TAG:
            src_simple, src_code_units = "utf16", src_tagged_code_units ^ UTF16_TAG
        else:
            src_simple, src_code_units = "latin1", src_tagged_code_units
    else:
        src_simple, src_code_units = src_encoding, src_tagged_code_units
    dst = cx.string_encoding
    if dst == "utf8":
        if src_simple == "utf8":
            return store_string_copy(cx, src, src_code_units, 1, 1, "utf-8")
        if src_simple == "utf16":
            return store_utf16_to_utf8(cx, src, src_code_units)
        return store_latin1_to_utf8(cx, src, src_code_units)
    if dst == "utf16":
        if src_simple == "utf8":
            return store_utf8_to_utf16(cx, src, src_code_units)
        return store_string_copy(cx, src, src_code_units, 2, 2, "utf-16-le")
    if src_encoding in ("utf8", "utf16"):
        return store_string_to_latin1_or_utf16(cx, src, src_code_units)
    if src_simple == "latin1":
        return store_string_copy(cx, src, src_code_units, 1, 2, "latin-1")
    return store_probably_utf16_to_latin1_or_utf16(cx, src, src_code_units)


def _check_hint(encoded: bytes, expected: int, what: str) -> None:
    if len(encoded) != expected:
        raise ValueError(f"string hint says {expected} bytes of {what}, text has {len(encoded)}")


def store_string_copy(cx: Context, src: str, src_code_units: int, dst_code_unit_size: int,
                      dst_alignment: int, dst_encoding: str) -> tuple[int, int]:
    """Same-size encodings: one exact allocation, then a (possibly inflating) copy."""
    dst_byte_length = dst_code_unit_size * src_code_units
    assert dst_byte_length <= REALLOC_I32_MAX
    encoded = src.encode(dst_encoding)
    _check_hint(encoded, dst_byte_length, dst_encoding)
    ptr = cx.allocate(dst_alignment, dst_byte_length)
    cx.memory[ptr:ptr + dst_byte_length] = encoded
    return ptr, src_code_units


def store_utf16_to_utf8(cx: Context, src: str, src_code_units: int) -> tuple[int, int]:
    return store_string_to_utf8(cx, src, src_code_units, src_code_units * 3)


def store_latin1_to_utf8(cx: Context, src: str, src_code_units: int) -> tuple[int, int]:
    return store_string_to_utf8(cx, src, src_code_units, src_code_units * 2)


def _first_at_least(src: str, limit: str) -> int:
    """Index of the first code point >= `limit`, or -1."""
    for i, c in enumerate(src):
        if c >= limit:
            return i
    return -1


def store_string_to_utf8(cx: Context, src: str, src_code_units: int,
                         worst_case_size: int) -> tuple[int, int]:
    """Optimistic ASCII allocation; at the first non-ASCII code point grow to the worst case,
    write the rest, then shrink to the exact size."""
    assert src_code_units <= REALLOC_I32_MAX
    ptr = cx.allocate(1, src_code_units)
    i = -1 if src.isascii() else _first_at_least(src, "\x80")
    if i < 0:
        _check_hint(src.encode("ascii"), src_code_units, "ASCII")
        cx.memory[ptr:ptr + src_code_units] = src.encode("ascii")
        return ptr, src_code_units
    cx.memory[ptr:ptr + i] = src[:i].encode("ascii")
    assert worst_case_size <= REALLOC_I32_MAX
    ptr = cx.call_realloc(ptr, src_code_units, 1, worst_case_size)
    encoded = src.encode("utf-8")
    if len(encoded) > worst_case_size:
        raise ValueError(f"string hint of {src_code_units} code units is too small")
    cx.memory[ptr + i:ptr + len(encoded)] = encoded[i:]
    if worst_case_size > len(encoded):
        ptr = cx.call_realloc(ptr, worst_case_size, 1, len(encoded))
    return ptr, len(encoded)


def store_utf8_to_utf16(cx: Context, src: str, src_code_units: int) -> tuple[int, int]:
    """Worst-case allocation (2 bytes per UTF-8 byte), then shrink to the exact size."""
    worst_case_size = 2 * src_code_units
    assert worst_case_size <= REALLOC_I32_MAX
    encoded = src.encode("utf-16-le")
    if len(encoded) > worst_case_size:
        raise ValueError(f"string hint of {src_code_units} UTF-8 bytes is too small")
    ptr = cx.allocate(2, worst_case_size)
    cx.memory[ptr:ptr + len(encoded)] = encoded
    if len(encoded) < worst_case_size:
        ptr = cx.call_realloc(ptr, worst_case_size, 2, len(encoded))
    return ptr, len(encoded) // 2


def store_string_to_latin1_or_utf16(cx: Context, src: str, src_code_units: int) -> tuple[int, int]:
    """Speculate Latin-1 (one byte per source code unit); at the first code point >= 256 grow
    to 2 bytes per source code unit, inflate the bytes written so far in place, write the rest
    as UTF-16 and shrink; a pure Latin-1 result shrinks if it came out shorter."""
    assert src_code_units <= REALLOC_I32_MAX
    ptr = cx.allocate(2, src_code_units)
    i = _first_at_least(src, "\u0100")
    if i < 0:
        latin1 = src.encode("latin-1")
        dst_byte_length = len(latin1)
        if dst_byte_length > src_code_units:
            raise ValueError(f"string hint of {src_code_units} code units is too small")
        cx.memory[ptr:ptr + dst_byte_length] = latin1
        if dst_byte_length < src_code_units:
            ptr = cx.call_realloc(ptr, src_code_units, 2, dst_byte_length)
        return ptr, dst_byte_length
    dst_byte_length = i
    cx.memory[ptr:ptr + i] = src[:i].encode("latin-1")
    worst_case_size = 2 * src_code_units
    assert worst_case_size <= REALLOC_I32_MAX
    ptr = cx.call_realloc(ptr, src_code_units, 2, worst_case_size)
    mem = cx.memory
    # The spec's backwards loop never reads a byte it already overwrote: a snapshot is the same.
    inflated = bytearray(2 * dst_byte_length)
    inflated[0::2] = mem[ptr:ptr + dst_byte_length]
    mem[ptr:ptr + 2 * dst_byte_length] = inflated
    encoded = src.encode("utf-16-le")
    if len(encoded) > worst_case_size:
        raise ValueError(f"string hint of {src_code_units} code units is too small")
    mem[ptr + 2 * dst_byte_length:ptr + len(encoded)] = encoded[2 * dst_byte_length:]
    if worst_case_size > len(encoded):
        ptr = cx.call_realloc(ptr, worst_case_size, 2, len(encoded))
    return ptr, (len(encoded) // 2) | UTF16_TAG


def store_probably_utf16_to_latin1_or_utf16(cx: Context, src: str,
                                            src_code_units: int) -> tuple[int, int]:
    """Tagged UTF-16 source: allocate for UTF-16 and copy; if every code point is below 256,
    compact to Latin-1 in place and shrink with ``realloc(ptr, 2n, 1, n)`` (alignment 1)."""
    src_byte_length = 2 * src_code_units
    assert src_byte_length <= REALLOC_I32_MAX
    encoded = src.encode("utf-16-le")
    _check_hint(encoded, src_byte_length, "UTF-16")
    ptr = cx.allocate(2, src_byte_length)
    mem = cx.memory
    mem[ptr:ptr + len(encoded)] = encoded
    if _first_at_least(src, "\u0100") >= 0:
        return ptr, (len(encoded) // 2) | UTF16_TAG
    latin1_size = len(encoded) // 2
    # The spec's forward loop never reads a byte it already overwrote: a snapshot is the same.
    mem[ptr:ptr + latin1_size] = mem[ptr:ptr + 2 * latin1_size:2]
    ptr = cx.call_realloc(ptr, src_byte_length, 1, latin1_size)
    return ptr, latin1_size


def without_hints(v: object) -> object:
    """A lifted value with every `String` replaced by its text (the value model's form)."""
    if isinstance(v, String):
        return v.s
    if type(v) is tuple:
        return tuple(without_hints(x) for x in v)
    if type(v) is list:
        return [without_hints(x) for x in v]
    return v
