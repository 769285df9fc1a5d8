"""JobQueue.submit(prepare=...): the next job's first step runs ahead, on its own thread."""

import asyncio
import threading

import pytest

from bot.errors import ImageError
from bot.jobs import JobCancelled, JobQueue, ShuttingDown


class Recorder:
    """A prepare step that notes which thread ran it and signals when it has."""

    def __init__(self, value):
        self.value = value
        self.threads: list[str] = []
        self.ran = threading.Event()

    def __call__(self):
        self.threads.append(threading.current_thread().name)
        self.ran.set()
        return self.value


async def eventually(condition, timeout=2.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.01)


async def test_the_next_job_is_prepared_while_the_one_ahead_runs(gate):
    queue = JobQueue(workers=1, max_queue=5)
    first = queue.submit("alice", gate.wait)
    ahead = Recorder("photo")
    second = queue.submit("bob", lambda prepared: f"painted {prepared}", prepare=ahead)
    await eventually(ahead.ran.is_set)
    assert not first.done and second.position == 1  # prepared while still waiting
    gate.set()
    assert await second.result() == "painted photo"
    assert ahead.threads == ["stylebot-prepare_0"]  # once, on the helper thread
    await queue.shutdown(1)


async def test_only_the_jobs_next_in_line_are_prepared_early(gate):
    queue = JobQueue(workers=1, max_queue=5)
    queue.submit("alice", gate.wait)
    steps = [Recorder(n) for n in range(3)]
    jobs = [queue.submit(f"user{n}", lambda value: value * 10, prepare=steps[n])
            for n in range(3)]
    await eventually(steps[0].ran.is_set)
    await asyncio.sleep(0.1)
    assert not steps[1].ran.is_set() and not steps[2].ran.is_set()
    gate.set()
    assert [await job.result() for job in jobs] == [0, 10, 20]
    assert all(len(step.threads) == 1 for step in steps)
    await queue.shutdown(1)


async def test_a_job_that_starts_at_once_prepares_in_its_worker():
    queue = JobQueue(workers=1, max_queue=5)
    step = Recorder(2)
    job = queue.submit("alice", lambda value: value + 1, prepare=step)
    assert await job.result() == 3
    assert step.threads == ["stylebot-job_0"]
    await queue.shutdown(1)


async def test_a_failing_preparation_fails_only_its_job(gate):
    queue = JobQueue(workers=1, max_queue=5)
    queue.submit("alice", gate.wait)

    def broken():
        raise ImageError("The photo is damaged or incomplete.")

    bad = queue.submit("bob", lambda value: value, prepare=broken)
    good = queue.submit("carol", lambda value: value, prepare=Recorder("fine"))
    await asyncio.sleep(0.1)  # bob's preparation has failed by now, ahead of his turn
    gate.set()
    with pytest.raises(ImageError, match="damaged"):
        await bad.result()
    assert await good.result() == "fine"
    assert queue.stats()["failed"] == 1
    await queue.shutdown(1)


async def test_a_cancelled_job_never_runs_and_is_never_prepared(gate):
    queue = JobQueue(workers=1, max_queue=5)
    queue.submit("alice", gate.wait)
    second = queue.submit("bob", lambda value: value, prepare=Recorder("b"))
    third_step = Recorder("c")
    third = queue.submit("carol", lambda value: value, prepare=third_step)
    assert third.cancel()
    with pytest.raises(JobCancelled):
        await third.result()
    gate.set()
    assert await second.result() == "b"
    await asyncio.sleep(0.1)
    assert not third_step.ran.is_set()
    await queue.shutdown(1)


async def test_when_the_next_job_is_cancelled_the_one_after_is_prepared(gate):
    queue = JobQueue(workers=1, max_queue=5)
    queue.submit("alice", gate.wait)
    second = queue.submit("bob", lambda value: value, prepare=Recorder("b"))
    third_step = Recorder("c")
    third = queue.submit("carol", lambda value: value, prepare=third_step)
    assert second.cancel()
    await eventually(third_step.ran.is_set)
    assert not third.started  # prepared while alice still runs
    gate.set()
    assert await third.result() == "c"
    await queue.shutdown(1)


async def test_shutdown_drops_prepared_jobs(gate):
    queue = JobQueue(workers=1, max_queue=5)
    queue.submit("alice", gate.wait)
    step = Recorder("b")
    waiting = queue.submit("bob", lambda value: value, prepare=step)
    await eventually(step.ran.is_set)
    closing = asyncio.create_task(queue.shutdown(1))
    await asyncio.sleep(0.05)  # bob is dropped while alice still runs
    gate.set()
    unfinished = await closing
    assert waiting in unfinished
    with pytest.raises(ShuttingDown):
        await waiting.result()
