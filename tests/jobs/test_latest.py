"""LatestOnly: newest value only, one delivery at a time, at most every interval."""

from __future__ import annotations

import asyncio

from bot.jobs.latest import LatestOnly

LONG = 600.0  # longer than any test: a delivery waiting it out never comes by itself


class Sink:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.tasks: set[asyncio.Task[None]] = set()

    async def deliver(self, value: str) -> None:
        await asyncio.sleep(0)
        self.seen.append(value)

    def spawn(self, coro) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def idle(self) -> None:
        for _ in range(100):
            if not self.tasks:
                return
            await asyncio.sleep(0.01)


async def test_the_first_goes_at_once_then_only_the_newest_after_the_interval():
    sink = Sink()
    line = LatestOnly(sink.deliver, LONG, sink.spawn)
    line.put("1/6")
    await asyncio.sleep(0.05)
    line.put("2/6")
    line.put("3/6")
    await asyncio.sleep(0.05)
    assert sink.seen == ["1/6"]  # the others wait out the interval
    line.put("Painting…", urgent=True)  # urgent: no wait, and it replaces what waited
    await asyncio.sleep(0.05)
    assert sink.seen == ["1/6", "Painting…"]
    line.put("4/6")
    line.close()  # nothing after close, and the waiting task ends now
    await sink.idle()
    assert sink.seen == ["1/6", "Painting…"] and not sink.tasks
    line.put("5/6")
    await asyncio.sleep(0.02)
    assert sink.seen == ["1/6", "Painting…"]


async def test_a_zero_interval_delivers_every_value_in_order():
    sink = Sink()
    line = LatestOnly(sink.deliver, 0.0, sink.spawn)
    for index in range(1, 4):
        line.put(f"{index}/3")
        await asyncio.sleep(0.02)
    await sink.idle()
    assert sink.seen == ["1/3", "2/3", "3/3"]


async def test_a_failing_delivery_is_logged_and_the_next_still_goes(caplog):
    sink = Sink()

    async def flaky(value: str) -> None:
        if value == "bad":
            raise RuntimeError("edit failed")
        await sink.deliver(value)

    line = LatestOnly(flaky, 0.0, sink.spawn, name="test line")
    line.put("bad")
    await asyncio.sleep(0.02)
    line.put("good")
    await sink.idle()
    assert sink.seen == ["good"]
    assert "test line: delivering 'bad' failed" in caplog.text
