"""JobQueue: bounded FIFO dispatcher running blocking callables in an executor."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, TypeVar, overload

from bot.errors import StylebotError
from bot.jobs.ahead import Ahead
from bot.jobs.errors import (
    JobCancelled,
    JobRejected,
    JobTimeout,
    OnCooldown,
    QueueFull,
    ShuttingDown,
    UserBusy,
)
from bot.jobs.job import Job, PositionCallback

log = logging.getLogger(__name__)

T = TypeVar("T")
P = TypeVar("P")


def _call(fn: Callable[[], T]) -> T:
    """Run fn in the worker thread, turning what must not cross into the event loop into
    RuntimeError: StopIteration (an asyncio future refuses it) and BaseExceptions such as
    SystemExit or KeyboardInterrupt (re-raised by asyncio, they would stop the whole loop)."""
    try:
        return fn()
    except StopIteration as exc:
        raise RuntimeError("job raised StopIteration") from exc
    except Exception:
        raise
    except BaseException as exc:
        raise RuntimeError(f"job raised {type(exc).__name__}") from exc


class JobQueue:
    """FIFO queue feeding at most `workers` concurrent jobs to an executor.

    All bookkeeping happens on the event-loop thread (submit, cancel, the executor future's
    done callback and the timeout timer all run there), so no locks are needed; worker
    threads only ever run the job's callable.

    A thread cannot be killed. When a job times out its result() fails at once with
    JobTimeout, but its worker slot and its user's per-user slot stay taken until the thread
    really returns, so the cores are never oversubscribed and `running` counts such threads.

    `position_interval` throttles each job's on_position callback: after one delivery the
    next waits that many seconds and then carries only the newest position. The first
    position and 0 ("started") go out at once, and nothing goes out once the job is done.
    """

    def __init__(
        self,
        workers: int = 1,
        max_queue: int = 20,
        per_user: int = 1,
        cooldown: float = 0.0,
        executor: concurrent.futures.Executor | None = None,
        clock: Callable[[], float] = time.monotonic,
        position_interval: float = 0.0,
    ) -> None:
        if workers < 1 or per_user < 1 or min(max_queue, cooldown, position_interval) < 0:
            raise ValueError(
                "workers and per_user must be >= 1; max_queue, cooldown and position_interval >= 0"
            )
        self.workers = workers
        self.max_queue = max_queue
        self.per_user = per_user
        self.cooldown = cooldown
        self.position_interval = position_interval
        self._clock = clock
        self._owns_executor = executor is None
        self._executor = executor or concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="stylebot-job"
        )
        self._preparer: concurrent.futures.ThreadPoolExecutor | None = None  # for Ahead jobs
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: deque[Job[Any]] = deque()
        self._slots: set[Job[Any]] = set()  # jobs whose callable is still executing
        self._per_user: Counter[Hashable] = Counter()  # jobs waiting or executing, per user
        self._last_accepted: dict[Hashable, float] = {}
        self._seq = itertools.count()
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False
        self._shutdown: asyncio.Future[list[Job[Any]]] | None = None
        self._stats = Counter(
            submitted=0, completed=0, failed=0, timed_out=0, cancelled=0, rejected=0
        )

    def __len__(self) -> int:
        """Number of jobs waiting (not counting running ones)."""
        return len(self._waiting)

    @property
    def running(self) -> int:
        """Worker slots in use, including threads still finishing a timed-out job."""
        return len(self._slots)

    def stats(self) -> dict[str, int]:
        """Counters: submitted (accepted), completed, failed, timed_out, cancelled, rejected."""
        return dict(self._stats)

    # -- submitting -------------------------------------------------------------------

    @overload
    def submit(
        self,
        user_id: Hashable,
        fn: Callable[[], T],
        *,
        prepare: None = None,
        on_position: PositionCallback | None = None,
        timeout: float | None = None,
        label: str = "",
    ) -> Job[T]: ...

    @overload
    def submit(
        self,
        user_id: Hashable,
        fn: Callable[[P], T],
        *,
        prepare: Callable[[], P],
        on_position: PositionCallback | None = None,
        timeout: float | None = None,
        label: str = "",
    ) -> Job[T]: ...

    def submit(
        self,
        user_id: Hashable,
        fn: Callable[..., T],
        *,
        prepare: Callable[[], Any] | None = None,
        on_position: PositionCallback | None = None,
        timeout: float | None = None,
        label: str = "",
    ) -> Job[T]:
        """Accept fn or raise a JobRejected subclass; call from the event loop's thread.

        With `prepare`, the job runs fn(prepare()), and prepare() starts on a helper thread as
        soon as the job is next in line, so it overlaps the job ahead (e.g. decoding the next
        photo while the current one is painted); only those next in line are prepared early.
        """
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError("a JobQueue is bound to the event loop it was first used on")
        try:
            self._check_admission(user_id)
        except JobRejected:
            self._stats["rejected"] += 1
            raise
        work: Callable[[], T] = fn if prepare is None else Ahead(prepare, fn)
        job: Job[T] = Job(
            next(self._seq), user_id, work, future=loop.create_future(),
            on_position=on_position, position_interval=self.position_interval,
            timeout=timeout, label=label, cancel=self._cancel, spawn=self._spawn,
        )
        self._stats["submitted"] += 1
        self._per_user[user_id] += 1
        self._last_accepted[user_id] = self._clock()
        self._waiting.append(job)
        log.info("job %s accepted: user=%s label=%r", job.id, user_id, label)
        self._dispatch()
        return job

    def check(self, user_id: Hashable) -> None:
        """Raise what `submit` would raise for this user now, accepting nothing.

        Callers use it to refuse early, before fetching a job's inputs."""
        self._check_admission(user_id)

    def _check_admission(self, user_id: Hashable) -> None:
        if self._closing:
            raise ShuttingDown()
        if self._per_user[user_id] >= self.per_user:
            raise UserBusy()
        last = self._last_accepted.get(user_id)
        if last is not None and self.cooldown > 0:
            elapsed = self._clock() - last
            if elapsed < self.cooldown:
                raise OnCooldown(self.cooldown - elapsed)
        # Dispatch is eager, so a job waits only when every slot is taken.
        if len(self._slots) >= self.workers and len(self._waiting) >= self.max_queue:
            raise QueueFull()

    # -- running ----------------------------------------------------------------------

    def _dispatch(self) -> None:
        """Start waiting jobs while slots are free, then renumber the rest."""
        started = False
        while self._waiting and len(self._slots) < self.workers:
            self._start(self._waiting.popleft())
            started = True
        if started or self._waiting:
            self._positions_changed()
        self._prepare_next()

    def _prepare_next(self) -> None:
        """Start preparing the jobs that will take the next free workers."""
        for job in itertools.islice(self._waiting, self.workers):
            if isinstance(job.work, Ahead) and not job.work.started:
                if self._preparer is None:
                    self._preparer = concurrent.futures.ThreadPoolExecutor(
                        max_workers=1, thread_name_prefix="stylebot-prepare")
                job.work.start(self._preparer)

    def _positions_changed(self) -> None:
        # O(len(queue)); Job.move_to only notifies jobs whose number really moved.
        for position, job in enumerate(self._waiting, start=1):
            job.move_to(position)

    def _start(self, job: Job[Any]) -> None:
        assert self._loop is not None
        self._slots.add(job)
        self._idle.clear()
        job.started = True
        job.move_to(0)
        log.info("job %s started", job.id)
        started_at = time.monotonic()
        try:
            future = self._loop.run_in_executor(self._executor, _call, job.work)
        except Exception as exc:  # e.g. a lent executor was shut down under us
            # Fail this job rather than lose it. _finished() re-enters _dispatch(), which is
            # safe: every pass pops from the same deque, so each job is started at most once.
            self._finished(job, None, exc, started_at)
            return
        timer = None
        if job.timeout is not None:
            timer = self._loop.call_later(job.timeout, self._timed_out, job)
        future.add_done_callback(lambda f: self._thread_returned(job, f, timer, started_at))

    def _timed_out(self, job: Job[Any]) -> None:
        # The thread keeps going; only result() is resolved now. The slot is freed later.
        if job.settle(exc=JobTimeout(job.timeout or 0.0)):
            self._stats["timed_out"] += 1
            log.warning("job %s timed out after %g s; waiting for its thread", job.id, job.timeout)

    def _thread_returned(
        self,
        job: Job[Any],
        future: asyncio.Future[Any],
        timer: asyncio.TimerHandle | None,
        started_at: float,
    ) -> None:
        if timer is not None:
            timer.cancel()
        exc: BaseException | None
        if future.cancelled():  # only if the loop itself is being torn down
            value, exc = None, ShuttingDown()
        else:
            exc = future.exception()
            value = None if exc is not None else future.result()
        self._finished(job, value, exc, started_at)

    def _finished(
        self, job: Job[Any], value: Any, exc: BaseException | None, started_at: float
    ) -> None:
        took = time.monotonic() - started_at
        if job.settle(value, exc):
            self._stats["completed" if exc is None else "failed"] += 1
            if exc is None:
                log.info("job %s done in %.2f s", job.id, took)
            else:
                log.info("job %s failed in %.2f s: %r", job.id, took, exc)
        else:
            log.info("job %s: thread returned after %.2f s (result discarded)", job.id, took)
        self._slots.discard(job)
        self._release_user(job)
        if not self._slots:
            self._idle.set()
        if not self._closing:
            self._dispatch()

    # -- cancelling and shutting down -------------------------------------------------

    def _release_user(self, job: Job[Any]) -> None:
        self._per_user[job.user_id] -= 1
        if self._per_user[job.user_id] <= 0:
            del self._per_user[job.user_id]

    def _drop_waiting(self, job: Job[Any], exc: StylebotError) -> None:
        if isinstance(job.work, Ahead):
            job.work.drop()
        job.settle(exc=exc)
        self._release_user(job)
        self._stats["cancelled"] += 1
        log.info("job %s dropped while waiting: %s", job.id, exc)

    def _cancel(self, job: Job[Any]) -> bool:
        if job.started or job.done:
            return False
        self._waiting.remove(job)
        self._drop_waiting(job, JobCancelled())
        self._positions_changed()
        self._prepare_next()
        return True

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)  # keep a reference so the task is not garbage-collected
        task.add_done_callback(self._tasks.discard)
        return task

    async def shutdown(self, grace: float) -> list[Job[Any]]:
        """Stop accepting, drop waiting jobs, give running ones `grace` s; return the unfinished.

        The returned jobs (in submission order) are the waiting ones plus any still running
        when the grace ran out; result() of each raises ShuttingDown (the threads of the
        latter cannot be stopped and run on). Idempotent: later calls wait for the first
        one and return an empty list, so nobody is told twice.
        """
        if self._shutdown is not None:
            await asyncio.shield(self._shutdown)
            return []
        self._closing = True
        self._shutdown = asyncio.ensure_future(self._close(grace))
        return await asyncio.shield(self._shutdown)

    async def _close(self, grace: float) -> list[Job[Any]]:
        # Every job ends settled here, and settling wakes a position notifier waiting out its
        # interval, so none outlives the queue (Job.settle); one mid-callback finishes it.
        dropped = list(self._waiting)
        self._waiting.clear()
        for job in dropped:
            self._drop_waiting(job, ShuttingDown())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace)
        late = [job for job in self._slots if not job.done]
        for job in late:
            job.settle(exc=ShuttingDown())
            self._stats["cancelled"] += 1
            log.warning("job %s still running at shutdown; abandoned", job.id)
        if self._owns_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)
        if self._preparer is not None:
            self._preparer.shutdown(wait=False, cancel_futures=True)
        log.info("job queue shut down: %s", self.stats())
        return sorted(dropped + late, key=lambda job: job.seq)
