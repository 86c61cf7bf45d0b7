"""The answer caches' bounds: entries, the largest entry, and bytes in all; least recently used out first."""

from server.sparql.answer_cache import ResultCache


def test_the_least_recently_used_entry_goes_first_past_the_entry_count() -> None:
    cache: ResultCache[bytes] = ResultCache(entries=2, entry_bytes=100, total_bytes=1000)
    cache.put("a", b"1")
    cache.put("b", b"2")
    assert cache.get("a") == b"1"  # now b is the least recently used
    cache.put("c", b"3")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1", None, b"3")


def test_an_entry_over_the_entry_limit_is_not_kept() -> None:
    cache: ResultCache[bytes] = ResultCache(entries=10, entry_bytes=4, total_bytes=1000)
    cache.put("small", b"1234")
    cache.put("large", b"12345")
    assert (cache.get("small"), cache.get("large"), cache.held_bytes) == (b"1234", None, 4)


def test_the_bytes_held_stay_within_the_total() -> None:
    cache: ResultCache[bytes] = ResultCache(entries=100, entry_bytes=10, total_bytes=25)
    for key in "abcde":
        cache.put(key, b"x" * 10)
        assert cache.held_bytes <= 25
    # The two most recent entries fit; the older ones were evicted, oldest first.
    assert [key for key in "abcde" if cache.get(key) is not None] == ["d", "e"]
    assert cache.held_bytes == 20


def test_replacing_an_entry_counts_its_new_size_only() -> None:
    cache: ResultCache[bytes] = ResultCache(entries=10, entry_bytes=10, total_bytes=100)
    cache.put("a", b"x" * 10)
    cache.put("a", b"x" * 3)
    assert (cache.get("a"), cache.held_bytes) == (b"xxx", 3)


def test_entries_are_measured_by_the_given_size() -> None:
    cache: ResultCache[tuple[bytes, str]] = ResultCache(entries=10, entry_bytes=5, total_bytes=100, size=lambda e: len(e[0]))
    cache.put("page", (b"12345", "a long next-page URL that is not counted"))
    assert cache.get("page") == (b"12345", "a long next-page URL that is not counted")


def test_no_entries_turns_the_cache_off() -> None:
    cache: ResultCache[bytes] = ResultCache(entries=0, entry_bytes=10, total_bytes=100)
    cache.put("a", b"1")
    assert (cache.get("a"), cache.held_bytes) == (None, 0)
