"""A bounded in-memory cache of answers, least recently used evicted first."""

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

Entry = TypeVar("Entry")


class ResultCache(Generic[Entry]):
    """Answers by key (which names the data version), least recently used evicted first.

    Bounded three ways: at most `entries` entries, none over `entry_bytes`, and `total_bytes` in
    all (sizes by `size`, by default the length in bytes), so that clients asking for many large
    answers cannot grow the server's memory past a known figure.
    """

    def __init__(
        self, entries: int, entry_bytes: int, total_bytes: int, size: Callable[[Entry], int] = len  # type: ignore[assignment]
    ):
        self._entries = entries
        self._entry_bytes = entry_bytes
        self._total_bytes = total_bytes
        self._size = size
        self._items: OrderedDict[str, tuple[Entry, int]] = OrderedDict()
        self._held = 0

    @property
    def held_bytes(self) -> int:
        """The size of all entries kept."""
        return self._held

    def get(self, key: str) -> Entry | None:
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: str, entry: Entry) -> None:
        size = self._size(entry)
        if self._entries == 0 or size > min(self._entry_bytes, self._total_bytes):
            return
        previous = self._items.pop(key, None)
        if previous is not None:
            self._held -= previous[1]
        self._items[key] = (entry, size)
        self._held += size
        while len(self._items) > self._entries or self._held > self._total_bytes:
            _, (_, evicted) = self._items.popitem(last=False)
            self._held -= evicted
