"""A bounded least-recently-used cache: the one shape every compile/generate cache here uses."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

V = TypeVar("V")


class LRU(OrderedDict):
    """An OrderedDict that keeps at most `size` entries, dropping the least recently used."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The cached value of `key`, or `make()` stored under it (an exception stores nothing)."""
        try:
            value = self[key]
        except KeyError:
            value = self[key] = make()
            if len(self) > self.size:
                self.popitem(last=False)
            return value
        self.move_to_end(key)
        return value
