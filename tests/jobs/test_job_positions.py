"""Throttled position notifications: first and 0 at once, then the newest once per interval."""

import asyncio

import pytest

from bot.jobs import JobQueue

INTERVAL = 0.2  # long next to the few milliseconds a move takes here, short for the suite
LONG = 30.0  # an interval no test may ever wait out



class Recorder:
    """An on_position callback noting each position with the loop time it arrived."""

    def __init__(self, seconds_per_call: float = 0.0) -> None:
        self.calls: list[tuple[int, float]] = []
        self.seconds_per_call = seconds_per_call

    @property
    def positions(self) -> list[int]:
        return [position for position, _ in self.calls]

    def arrived(self, position: int) -> float:
        return next(at for seen, at in self.calls if seen == position)

    async def __call__(self, position: int) -> None:
        self.calls.append((position, asyncio.get_running_loop().time()))
        if self.seconds_per_call:
            await asyncio.sleep(self.seconds_per_call)


async def until(condition, timeout: float = 2.0) -> None:
    """Poll condition() until it holds; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.002)


def other_tasks() -> set[asyncio.Task]:
    return {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}


@pytest.mark.parametrize(
    ("interval", "expected"), [(0.0, [5, 4, 3, 2, 1, 0]), (INTERVAL, [5, 2, 1, 0])]
)
async def test_moves_within_an_interval_are_skipped_and_only_the_newest_follows(
        gate, interval, expected):
    loop = asyncio.get_running_loop()
    queue = JobQueue(workers=1, max_queue=10, position_interval=interval)
    running = queue.submit("r", gate.wait)
    ahead = [queue.submit(n, lambda: None) for n in range(4)]
    seen = Recorder()
    watched = queue.submit("me", lambda: "mine", on_position=seen)
    await until(lambda: seen.positions == [5])  # the first position goes out at once
    for job in ahead[:3]:  # three moves, each with time for the notifier to run
        job.cancel()
        await asyncio.sleep(0.01)
    assert watched.position == 2
    await until(lambda: seen.positions[-1] == 2)
    await asyncio.sleep(interval + 0.05)  # the interval has passed: the next move goes at once
    moved = loop.time()
    ahead[3].cancel()
    await until(lambda: seen.positions[-1] == 1)
    assert seen.arrived(1) - moved < INTERVAL / 2
    gate.set()  # the watched job starts right after its position 1 was shown
    assert await watched.result() == "mine"
    assert await running.result() is True
    assert seen.positions == expected
    if interval:
        assert seen.arrived(2) - seen.arrived(5) >= interval - 0.01
    assert seen.arrived(0) - seen.arrived(1) < INTERVAL / 2  # "started" never waits
    await queue.shutdown(1)


async def test_starting_cuts_a_wait_short_and_skips_the_position_still_pending(gate):
    queue = JobQueue(workers=1, position_interval=LONG)
    running = queue.submit(1, gate.wait)
    skipped = queue.submit(2, lambda: None)
    seen = Recorder()
    watched = queue.submit(3, lambda: "painted", on_position=seen)
    await until(lambda: seen.positions == [2])
    skipped.cancel()  # watched moves to 1: its notifier now waits out LONG
    await asyncio.sleep(0.01)
    gate.set()  # watched starts well within LONG
    await until(lambda: seen.positions == [2, 0], timeout=1.0)
    assert await watched.result() == "painted" and await running.result() is True
    await queue.shutdown(1)


@pytest.mark.parametrize("interval", [0.0, INTERVAL])
async def test_nothing_is_delivered_once_the_job_is_done(gate, interval):
    queue = JobQueue(workers=1, position_interval=interval)
    queue.submit(1, gate.wait)
    seen = Recorder(seconds_per_call=0.1)  # a slow edit of the status line
    watched = queue.submit(2, lambda: "quick", on_position=seen)
    await until(lambda: seen.positions == [1])
    gate.set()  # starts and ends while "number 1" is still being shown
    assert await watched.result() == "quick"
    await until(lambda: not other_tasks())
    assert seen.positions == [1]  # 0 came too late: the job was done by then
    await queue.shutdown(1)


async def test_a_waiting_notifier_stops_as_soon_as_its_job_is_cancelled(gate):
    loop = asyncio.get_running_loop()
    queue = JobQueue(workers=1, position_interval=LONG)
    queue.submit(1, gate.wait)
    skipped = queue.submit(2, lambda: None)
    seen = Recorder()
    watched = queue.submit(3, lambda: None, on_position=seen)
    await until(lambda: seen.positions == [2])
    skipped.cancel()  # watched moves to 1: its notifier now waits out LONG
    await asyncio.sleep(0.01)
    assert other_tasks(), "the notifier should be waiting"
    started = loop.time()
    assert watched.cancel() is True
    await until(lambda: not other_tasks(), timeout=1.0)
    assert loop.time() - started < 1.0
    assert seen.positions == [2]
    await queue.shutdown(0.05)


async def test_shutdown_ends_a_notifier_waiting_out_its_interval(gate):
    loop = asyncio.get_running_loop()
    queue = JobQueue(workers=1, position_interval=LONG)
    running = queue.submit(1, gate.wait)
    skipped = queue.submit(2, lambda: None)
    seen = Recorder()
    watched = queue.submit(3, lambda: None, on_position=seen)
    await until(lambda: seen.positions == [2])
    skipped.cancel()
    await asyncio.sleep(0.01)
    assert other_tasks(), "the notifier should be waiting"
    started = loop.time()
    assert await queue.shutdown(grace=0.05) == [running, watched]
    await until(lambda: not other_tasks(), timeout=1.0)
    assert loop.time() - started < 1.0
    assert seen.positions == [2]


def test_a_negative_interval_is_refused():
    with pytest.raises(ValueError, match="position_interval"):
        JobQueue(position_interval=-1)
