"""The structure prefix of an input ("head": everything a decoder reads before the values) and
a cache of decoded heads by their prefix bytes.

A head step reads from the front only (never `arbitrary_len`). When decoding it stops before the
end of the data, no read ran short and no `is_empty` check was true, so any input that starts
with the same bytes and has at least one more byte decodes to the same head. The cache keeps
those heads (bounded) and finds one by trying the prefix lengths it holds, which skips the type
generation of every input whose structure was seen before (most of them, with the
structure-keeping mutator in `generators.mutator`).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from itfuzz.generators.unstructured import Unstructured

H = TypeVar("H")


class HeadCache(Generic[H]):
    """`decode(data)` = (head_of(u), u) for u = Unstructured(data) with its cursor after the
    head, served from a cache of prefixes when it can be (same result either way)."""

    def __init__(self, head_of: Callable[[Unstructured], H], size: int = 1024) -> None:
        self.head_of = head_of
        self.size = size
        self.heads: dict[bytes, H] = {}
        self.lengths: dict[int, int] = {}  # prefix length → how many cached heads have it

    def decode(self, data: bytes) -> tuple[H, Unstructured]:
        u = Unstructured(data)
        n = len(u.data)
        for length in self.lengths:
            if length < n:
                head = self.heads.get(u.data[:length])
                if head is not None:
                    u.front = length
                    return head, u
        head = self.head_of(u)
        if u.front < n:  # the head did not run into the end of the data: cacheable
            if len(self.heads) >= self.size:
                self.heads.clear()
                self.lengths.clear()
            self.heads[u.data[:u.front]] = head
            self.lengths[u.front] = self.lengths.get(u.front, 0) + 1
        return head, u

    def end(self, data: bytes) -> int:
        """Where the values start: the length of the structure prefix."""
        return self.decode(data)[1].front


def prefix_end(head_of: Callable[[Unstructured], object]) -> Callable[[bytes], int]:
    """`structure_end` of a decoder whose structure is `head_of` (uncached)."""
    def end(data: bytes) -> int:
        u = Unstructured(data)
        head_of(u)
        return u.front
    return end
