"""JobQueue.shutdown: running jobs finish, waiting ones are handed back, nothing is lost."""

import asyncio
import threading
import time

import pytest

from bot.jobs import JobQueue, ShuttingDown


async def test_shutdown_lets_running_jobs_finish_and_returns_the_waiting_ones():
    queue = JobQueue(workers=1)

    def slow():
        time.sleep(0.1)
        return "finished"

    running = queue.submit(1, slow)
    waiting = [queue.submit(n, lambda: "never") for n in (2, 3)]
    dropped = await queue.shutdown(grace=2)
    assert dropped == waiting
    assert await running.result() == "finished"
    for job in waiting:
        with pytest.raises(ShuttingDown) as info:
            await job.result()
        assert str(info.value) == "The bot is restarting; please try again in a minute."
    with pytest.raises(ShuttingDown):
        queue.submit(4, lambda: None)
    assert len(queue) == 0 and queue.running == 0
    assert queue.stats()["completed"] == 1 and queue.stats()["cancelled"] == 2


async def test_shutdown_is_idempotent():
    queue = JobQueue(workers=1)
    queue.submit(1, lambda: time.sleep(0.05))
    waiting = queue.submit(2, lambda: None)
    first, second = await asyncio.gather(queue.shutdown(1), queue.shutdown(1))
    assert first == [waiting] and second == []
    assert await queue.shutdown(1) == []


async def test_jobs_still_running_after_the_grace_are_returned_too():
    queue = JobQueue(workers=1)
    gate = threading.Event()
    try:
        stuck = queue.submit(1, gate.wait)
        waiting = queue.submit(2, lambda: None)
        dropped = await queue.shutdown(grace=0.05)  # returns with the gate still closed
        assert dropped == [stuck, waiting]  # submission order
        with pytest.raises(ShuttingDown):
            await stuck.result()
    finally:
        gate.set()


async def test_shutdown_of_an_unused_queue():
    assert await JobQueue().shutdown(0) == []
