"""The shared LRU cache: bounded, recency-ordered, and a failing make() stores nothing."""
import pytest

from itfuzz.lru import LRU


def test_keeps_the_most_recently_used_within_its_size():
    cache = LRU(2)
    made = []
    make = lambda k: (lambda: made.append(k) or k * 10)  # noqa: E731
    assert cache.get_or_make(1, make(1)) == 10
    assert cache.get_or_make(2, make(2)) == 20
    assert cache.get_or_make(1, make(1)) == 10  # hit: 1 becomes most recent
    cache.get_or_make(3, make(3))  # evicts 2, the least recently used
    assert list(cache) == [1, 3] and made == [1, 2, 3]
    cache.get_or_make(2, make(2))
    assert made == [1, 2, 3, 2] and len(cache) == 2


def test_a_failing_make_is_not_cached():
    cache = LRU(4)

    def boom():
        raise ValueError("no")
    with pytest.raises(ValueError):
        cache.get_or_make("k", boom)
    assert "k" not in cache
    assert cache.get_or_make("k", lambda: 1) == 1
