"""LatestOnly: deliver the newest of a stream of values, one at a time, at most every interval."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# Runs a coroutine as a task its owner keeps a reference to (see JobQueue).
Spawner = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]


class LatestOnly(Generic[T]):
    """Hands values to an async `deliver` callback, newest only, one delivery at a time.

    A slow callback (editing a Discord message) never shows a stale value last, and values
    that changed meanwhile are skipped rather than replayed one by one. After a delivery the
    next waits `interval` seconds, except the first and those `put` as `urgent`. Nothing goes
    out after `close()`. Call it from the event loop's thread only.
    """

    def __init__(self, deliver: Callable[[T], Awaitable[None]], interval: float,
                 spawn: Spawner, *, name: str = "") -> None:
        self._deliver = deliver
        self._interval = interval
        self._spawn = spawn
        self._name = name
        self._pending: T | None = None
        self._has_pending = False
        self._urgent = False
        self._closed = False
        self._delivered_at: float | None = None  # loop time the last delivery ended
        self._wake = asyncio.Event()  # ends the notifier's wait early: urgent or closed
        self._notifier: asyncio.Task[None] | None = None

    def put(self, value: T, *, urgent: bool = False) -> None:
        """Deliver `value` as soon as allowed, replacing any value not yet delivered."""
        if self._closed:
            return
        self._pending, self._has_pending, self._urgent = value, True, urgent
        if urgent:
            self._wake.set()
        if self._notifier is None or self._notifier.done():
            self._notifier = self._spawn(self._run())

    def close(self) -> None:
        """Deliver nothing more (a delivery under way finishes)."""
        self._closed = True
        self._pending, self._has_pending = None, False
        self._wake.set()

    def _wait_before_next(self) -> float:
        if self._delivered_at is None or self._urgent:
            return 0.0
        return self._delivered_at + self._interval - asyncio.get_running_loop().time()

    async def _run(self) -> None:
        while self._has_pending and not self._closed:
            wait = self._wait_before_next()
            if wait > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
                continue  # look again: the value may have changed or the stream closed
            value = self._pending
            self._pending, self._has_pending, self._urgent = None, False, False
            try:
                await self._deliver(value)  # type: ignore[arg-type]  # set with _has_pending
            except Exception:
                log.exception("%s: delivering %r failed", self._name or "LatestOnly", value)
            finally:
                self._delivered_at = asyncio.get_running_loop().time()
