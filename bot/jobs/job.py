"""Job: one accepted piece of work, its result future and its position notifications."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

PositionCallback = Callable[[int], Awaitable[None]]
# Runs a coroutine as a task its owner keeps a reference to (see JobQueue).
Spawner = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]


class Job(Generic[T]):
    """One accepted piece of work; created by JobQueue.submit(), never directly.

    Its owner (the queue) reads `seq`, `work` and `timeout`, moves it with `move_to()` and
    resolves it with `settle()`; `cancel` and `spawn` are the owner's, handed in, so a job
    never reaches back into the queue.
    """

    def __init__(
        self,
        seq: int,
        user_id: Hashable,
        work: Callable[[], T],
        *,
        future: asyncio.Future[T],
        on_position: PositionCallback | None,
        position_interval: float,
        timeout: float | None,
        label: str,
        cancel: Callable[[Job[T]], bool],
        spawn: Spawner,
    ) -> None:
        # 32 random bits: short enough for replies, unique enough for logs and journals.
        self.id = secrets.token_hex(4)
        self.user_id = user_id
        self.label = label
        #: 0 = running, n = n-th in line, None = not yet placed or finished.
        self.position: int | None = None
        self.started = False
        #: submission order, the callable a worker runs, and its timeout in seconds
        self.seq = seq
        self.work = work
        self.timeout = timeout
        self._cancel = cancel
        self._spawn = spawn
        self._on_position = on_position
        self._position_interval = position_interval
        self._pending_position: int | None = None  # newest position not yet delivered
        self._delivered_at: float | None = None  # loop time the last delivery ended
        self._wake = asyncio.Event()  # ends the notifier's wait early: position 0 or finished
        self._notifier: asyncio.Task[None] | None = None
        self._future = future

    def __repr__(self) -> str:
        return f"<Job {self.id} user={self.user_id!r} label={self.label!r} pos={self.position}>"

    @property
    def done(self) -> bool:
        return self._future.done()

    async def result(self) -> T:
        """The callable's return value, or its exception, JobTimeout, JobCancelled, ShuttingDown."""
        # shield: a caller giving up on waiting must not cancel the job itself.
        return await asyncio.shield(self._future)

    def cancel(self) -> bool:
        """Drop the job if it is still waiting; False once it has started or finished."""
        return self._cancel(self)

    def settle(self, value: Any = None, exc: BaseException | None = None) -> bool:
        """Resolve result() once (the owner's call); later calls (e.g. a thread returning after
        a timeout) lose and return False."""
        if self._future.done():
            return False
        self.position = None
        self._pending_position = None
        self._wake.set()  # a notifier waiting out the interval stops now
        if exc is None:
            self._future.set_result(value)
        else:
            self._future.set_exception(exc)
            # Mark it retrieved: the queue logs failures, and nobody may ever await a dropped job.
            self._future.exception()
        return True

    def move_to(self, position: int) -> None:
        """The owner placed the job at `position` (0 = started): notify if it changed."""
        if position == self.position:
            return
        self.position = position
        if self._on_position is None:
            return
        # One notifier task per job delivers positions one at a time, newest only: a slow
        # callback (editing a Discord message) never shows a stale position last, and
        # positions that changed meanwhile are skipped rather than replayed one by one.
        self._pending_position = position
        if position == 0:
            self._wake.set()  # "started" never waits out the interval
        if self._notifier is None or self._notifier.done():
            self._notifier = self._spawn(self._notify_positions())

    def _wait_before_next(self) -> float:
        """Seconds until the pending position may go out: at least the interval after the
        previous delivery, except the first one and position 0."""
        if self._delivered_at is None or self._pending_position == 0:
            return 0.0
        loop = asyncio.get_running_loop()
        return self._delivered_at + self._position_interval - loop.time()

    async def _notify_positions(self) -> None:
        assert self._on_position is not None
        while self._pending_position is not None and not self.done:
            wait = self._wait_before_next()
            if wait > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
                continue  # look again: the job may have started or finished meanwhile
            position, self._pending_position = self._pending_position, None
            try:
                await self._on_position(position)
            except Exception:
                log.exception("job %s: on_position(%d) failed", self.id, position)
            finally:
                self._delivered_at = asyncio.get_running_loop().time()
