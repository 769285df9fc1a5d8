"""Work prepared ahead: a waiting job's first step started on another thread before its turn."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Generic, TypeVar

P = TypeVar("P")
T = TypeVar("T")


class Ahead(Generic[P, T]):
    """A job callable `run(prepare())` whose `prepare()` may start early, on another thread.

    The queue calls start() for jobs next in line (on the event loop's thread) and the worker
    calls the object itself: it takes the early result, waiting for it if it is still being
    made, or prepares on the spot if nothing started. An exception raised by `prepare` is the
    job's exception either way.
    """

    def __init__(self, prepare: Callable[[], P], run: Callable[[P], T]) -> None:
        self._prepare = prepare
        self._run = run
        self._early: concurrent.futures.Future[P] | None = None

    @property
    def started(self) -> bool:
        """Whether the preparation was started early."""
        return self._early is not None

    def start(self, executor: concurrent.futures.Executor) -> None:
        """Begin preparing on `executor` (once)."""
        if self._early is None:
            self._early = executor.submit(self._prepare)

    def drop(self) -> None:
        """Forget the early preparation (the job will not run); stop it if it has not begun."""
        early, self._early = self._early, None
        if early is not None:
            early.cancel()

    def __call__(self) -> T:
        early, self._early = self._early, None  # the prepared value is freed with the job
        if early is None or early.cancelled():
            return self._run(self._prepare())
        return self._run(early.result())
