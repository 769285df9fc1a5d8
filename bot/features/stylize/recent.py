"""Recent results' inputs, kept for a while so their buttons can re-run them."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bot.features.stylize.painting import RenderRequest


@dataclass(frozen=True)
class RecentResult:
    """Who asked for a result and how it was made."""

    owner_id: int
    request: RenderRequest


class RecentResults:
    """A bounded, expiring map from result message id to its inputs."""

    def __init__(
        self, ttl: float, *, max_entries: int = 256, max_bytes: int = 256 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._clock = clock
        self._items: OrderedDict[int, tuple[float, RecentResult, int]] = OrderedDict()
        self._bytes = 0

    @staticmethod
    def _size(result: RecentResult) -> int:
        request = result.request
        return len(request.content) + sum(len(style.data) for style in request.styles)

    def put(self, message_id: int, result: RecentResult) -> None:
        """Remember `result` for the message, evicting expired and oldest entries."""
        self.pop(message_id)
        size = self._size(result)
        self._items[message_id] = (self._clock() + self._ttl, result, size)
        self._bytes += size
        self._evict()

    def get(self, message_id: int) -> RecentResult | None:
        """The inputs behind a result message, or None if unknown or expired."""
        self._evict()
        item = self._items.get(message_id)
        return item[1] if item else None

    def pop(self, message_id: int) -> RecentResult | None:
        """Forget a message's inputs, returning them if they were known."""
        item = self._items.pop(message_id, None)
        if item is None:
            return None
        self._bytes -= item[2]
        return item[1]

    def _evict(self) -> None:
        now = self._clock()
        while self._items:
            oldest_id, (expires, _, _) = next(iter(self._items.items()))
            too_many = len(self._items) > self._max_entries or self._bytes > self._max_bytes
            if expires > now and not too_many:
                break
            self.pop(oldest_id)

    def __len__(self) -> int:
        return len(self._items)
