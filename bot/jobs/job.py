"""Job: one accepted piece of work, its result future and its position notifications."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from bot.jobs.latest import LatestOnly, Spawner

log = logging.getLogger(__name__)

T = TypeVar("T")

PositionCallback = Callable[[int], Awaitable[None]]


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
        # Positions go out newest only, one at a time, at most every position_interval: a slow
        # callback (editing a Discord message) never shows a stale position last.
        self._positions: LatestOnly[int] | None = None
        if on_position is not None:
            self._positions = LatestOnly(on_position, position_interval, spawn,
                                         name=f"job {self.id} on_position")
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
        if self._positions is not None:
            self._positions.close()  # a notifier waiting out the interval stops now
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
        if self._positions is not None:
            self._positions.put(position, urgent=position == 0)  # "started" never waits
