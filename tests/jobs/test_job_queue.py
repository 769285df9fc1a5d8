"""JobQueue dispatch, admission limits, positions, errors and timeouts with real threads."""

import asyncio
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.errors import ImageError, StylebotError
from bot.jobs import (
    JobCancelled,
    JobQueue,
    JobRejected,
    JobTimeout,
    OnCooldown,
    QueueFull,
    UserBusy,
)


def sleeper(seconds, value=None):
    def fn():
        time.sleep(seconds)
        return value

    return fn


async def test_concurrency_never_exceeds_workers():
    queue = JobQueue(workers=2, max_queue=20)
    lock = threading.Lock()
    active = peak = 0

    def work(i):
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.03)
        with lock:
            active -= 1
        return i

    jobs = [queue.submit(f"user{i}", lambda i=i: work(i)) for i in range(8)]
    assert queue.running == 2 and len(queue) == 6
    assert [await job.result() for job in jobs] == list(range(8))
    assert peak == 2
    assert queue.running == 0 and len(queue) == 0
    assert queue.stats()["completed"] == 8
    await queue.shutdown(1)


async def test_an_injected_executor_is_still_limited_to_workers():
    executor = ThreadPoolExecutor(max_workers=8)
    lock = threading.Lock()
    active = peak = 0

    def work():
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.02)
        with lock:
            active -= 1

    queue = JobQueue(workers=3, executor=executor)
    jobs = [queue.submit(i, work) for i in range(9)]
    await asyncio.gather(*(job.result() for job in jobs))
    assert peak == 3
    await queue.shutdown(1)
    executor.submit(lambda: None).result()  # the queue must not shut down an executor it was lent
    executor.shutdown()


async def test_jobs_start_in_fifo_order():
    queue = JobQueue(workers=1)
    order = []
    jobs = [queue.submit(i, lambda i=i: order.append(i)) for i in range(6)]
    await asyncio.gather(*(job.result() for job in jobs))
    assert order == list(range(6))
    await queue.shutdown(1)


async def test_full_queue_rejects_without_accepting(gate):
    queue = JobQueue(workers=1, max_queue=2)
    jobs = [queue.submit(i, gate.wait) for i in range(3)]  # 1 running + 2 waiting
    with pytest.raises(QueueFull) as info:
        queue.submit(99, gate.wait)
    assert isinstance(info.value, JobRejected) and isinstance(info.value, StylebotError)
    assert re.fullmatch(r"[^.]+\.", str(info.value))  # one sentence
    assert len(queue) == 2 and queue.running == 1
    assert queue.stats()["submitted"] == 3 and queue.stats()["rejected"] == 1
    gate.set()
    await asyncio.gather(*(job.result() for job in jobs))
    queue.submit(99, lambda: None)  # the rejected user was not counted as busy
    await queue.shutdown(1)


async def test_per_user_limit(gate):
    queue = JobQueue(workers=1, per_user=1)
    first = queue.submit(7, gate.wait)
    with pytest.raises(UserBusy) as info:
        queue.submit(7, gate.wait)
    assert str(info.value) == "You already have a job running; wait for it to finish."
    other = queue.submit(8, lambda: "other user is fine")
    gate.set()
    await first.result()
    assert await other.result() == "other user is fine"
    assert await queue.submit(7, lambda: "again").result() == "again"
    await queue.shutdown(1)


async def test_per_user_counts_waiting_and_running_jobs(gate):
    queue = JobQueue(workers=1, per_user=2)
    queue.submit("u", gate.wait)
    queue.submit("u", gate.wait)
    with pytest.raises(UserBusy):
        queue.submit("u", gate.wait)
    gate.set()
    await queue.shutdown(1)


async def test_cooldown_uses_the_injected_clock():
    now = [100.0]
    queue = JobQueue(cooldown=10, clock=lambda: now[0])
    await queue.submit(1, lambda: None).result()
    now[0] = 103.0
    with pytest.raises(OnCooldown) as info:
        queue.submit(1, lambda: None)
    assert info.value.retry_after == pytest.approx(7.0)
    assert str(info.value) == "You can stylize again in 7 s."
    now[0] = 109.5
    with pytest.raises(OnCooldown) as info:
        queue.submit(1, lambda: None)
    assert str(info.value) == "You can stylize again in 1 s."  # rounded up, never "0 s"
    queue.submit(2, lambda: None)  # other users are unaffected
    now[0] = 110.0
    await queue.submit(1, lambda: None).result()
    assert queue.stats()["rejected"] == 2
    await queue.shutdown(1)


async def test_on_position_reports_every_move_then_zero(gate):
    queue = JobQueue(workers=1)
    seen = {1: [], 2: [], 3: []}

    def recorder(n):
        async def record(position):
            seen[n].append(position)

        return record

    jobs = [queue.submit(n, gate.wait, on_position=recorder(n)) for n in (1, 2, 3)]
    assert [job.position for job in jobs] == [0, 1, 2]
    gate.set()
    await asyncio.gather(*(job.result() for job in jobs))
    await asyncio.sleep(0)  # let the last notifications run
    assert seen == {1: [0], 2: [1, 0], 3: [2, 1, 0]}
    assert [job.position for job in jobs] == [None, None, None]
    await queue.shutdown(1)


async def test_a_failing_slow_on_position_callback_never_breaks_the_queue(gate, caplog):
    queue = JobQueue(workers=1)
    calls = []

    async def bad(position):
        calls.append(position)
        await asyncio.sleep(0.01)
        raise RuntimeError("discord is down")

    queue.submit(1, gate.wait)
    job = queue.submit(2, sleeper(0.2, "fine"), on_position=bad)  # still running when 0 is due
    gate.set()
    assert await job.result() == "fine"
    await asyncio.sleep(0.05)
    assert calls == [1, 0]  # in order, one at a time, despite each call failing
    assert "on_position" in caplog.text
    await queue.shutdown(1)


async def test_exceptions_propagate_unchanged_and_the_queue_keeps_working():
    queue = JobQueue(workers=1)
    error = ImageError("That file is not an image.")

    def boom():
        raise error

    failing = queue.submit(1, boom)
    after = queue.submit(2, lambda: 42)
    with pytest.raises(ImageError) as info:
        await failing.result()
    assert info.value is error
    with pytest.raises(ImageError):  # result() can be awaited again
        await failing.result()
    assert await after.result() == 42
    assert queue.stats()["failed"] == 1 and queue.stats()["completed"] == 1
    await queue.shutdown(1)


async def test_stop_iteration_does_not_lose_the_job():
    queue = JobQueue()

    def stop():
        raise StopIteration

    with pytest.raises(RuntimeError):
        await asyncio.wait_for(queue.submit(1, stop).result(), 1)
    await queue.shutdown(1)


async def test_a_job_the_executor_refuses_still_resolves():
    executor = ThreadPoolExecutor(max_workers=1)
    executor.shutdown()
    queue = JobQueue(workers=1, executor=executor)
    jobs = [queue.submit(i, lambda: None) for i in range(3)]
    for job in jobs:
        with pytest.raises(RuntimeError):
            await job.result()
    assert queue.running == 0 and len(queue) == 0 and queue.stats()["failed"] == 3
    await queue.shutdown(1)


async def test_timeout_fails_the_job_but_keeps_the_slot_until_the_thread_returns(gate):
    queue = JobQueue(workers=1)
    finished_at = []

    def slow():
        gate.wait(10)  # the thread runs on past its timeout until the test lets it return
        finished_at.append(time.monotonic())

    started_at = []
    slow_job = queue.submit(1, slow, timeout=0.05)
    next_job = queue.submit(2, lambda: started_at.append(time.monotonic()))
    with pytest.raises(JobTimeout) as info:
        await slow_job.result()
    assert finished_at == []  # the job failed while its thread was still running
    assert str(info.value) == "The job took longer than 0.05 s and was stopped."
    assert slow_job.done and slow_job.position is None
    assert queue.running == 1 and next_job.position == 1  # no second thread on a busy core
    gate.set()
    await next_job.result()
    assert started_at[0] >= finished_at[0]
    stats = queue.stats()
    assert stats["timed_out"] == 1 and stats["completed"] == 1 and stats["failed"] == 0
    await queue.shutdown(1)


async def test_cancel_a_waiting_job(gate):
    queue = JobQueue(workers=1)
    seen = []

    async def record(position):
        seen.append(position)

    running = queue.submit(1, gate.wait)
    doomed = queue.submit(2, lambda: "never")
    last = queue.submit(3, lambda: "last", on_position=record)
    assert doomed.cancel() is True
    assert doomed.cancel() is False and running.cancel() is False
    assert doomed.done and len(queue) == 1 and last.position == 1
    with pytest.raises(JobCancelled):
        await doomed.result()
    queue.submit(2, lambda: None)  # the cancelled job no longer counts against its user
    gate.set()
    assert await last.result() == "last"
    assert seen == [1, 0]  # 2 became 1 before it could be shown: only the newest is delivered
    assert queue.stats()["cancelled"] == 1
    await queue.shutdown(1)


async def test_a_caller_giving_up_does_not_cancel_the_job(gate):
    queue = JobQueue(workers=1)
    job = queue.submit(1, lambda: gate.wait() and "done")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(job.result(), 0.02)
    gate.set()
    assert await job.result() == "done"
    await queue.shutdown(1)


async def test_job_identity():
    queue = JobQueue(workers=2)
    jobs = [queue.submit(i, lambda: None, label=f"job {i}") for i in range(2)]
    assert all(re.fullmatch(r"[0-9a-f]{8}", job.id) for job in jobs)
    assert jobs[0].id != jobs[1].id
    assert (jobs[1].user_id, jobs[1].label) == (1, "job 1")
    await asyncio.gather(*(job.result() for job in jobs))
    assert all(job.done for job in jobs)
    await queue.shutdown(1)


@pytest.mark.parametrize("kind", ["sleep", "cpu"])
async def test_the_event_loop_keeps_ticking_while_a_job_runs(kind):
    """The job runs until the loop has ticked 10 times: it can end only if the loop is free
    while it runs (how long a tick takes is the machine's business, not asserted)."""
    queue = JobQueue(workers=1)
    running, ticked = threading.Event(), threading.Event()

    def job():
        running.set()
        if kind == "sleep":
            return ticked.wait(30)
        end = time.monotonic() + 30  # a hang guard only
        while not ticked.is_set() and time.monotonic() < end:
            sum(range(1000))
        return ticked.is_set()

    ticks = 0

    async def ticker():
        nonlocal ticks
        while not running.is_set():  # every counted tick happens while the job runs
            await asyncio.sleep(0.001)
        while ticks < 10:
            await asyncio.sleep(0.01)
            ticks += 1
        ticked.set()

    tick = asyncio.create_task(ticker())
    assert await queue.submit(1, job).result() is True
    assert ticks == 10
    await tick
    await queue.shutdown(1)
