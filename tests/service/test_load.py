"""Load on the two-node cluster: requests spread over both replicas; a full queue is a 503."""

from __future__ import annotations

import asyncio
import time

from bot.service.errors import BUSY
from tests.service.cluster import frozen, painter_actors
from tests.service.http import stylize


async def test_concurrent_requests_spread_over_both_replicas_and_nodes(service, http):
    replicas, nodes = set(), set()
    for _ in range(3):
        # Two at once, no more than the queue holds: Serve counts a request as queued until a
        # replica takes it, so more arriving in the same instant could be refused.
        answers = await asyncio.gather(*(
            stylize(http, service.url, ("style", "udnie", None), ("max_size", "512", None))
            for _ in range(2)
        ))
        assert [a.status for a in answers] == [200] * 2
        replicas |= {a.headers["X-Stylebot-Replica"] for a in answers}
        nodes |= {a.headers["X-Stylebot-Node"] for a in answers}
    assert len(replicas) == 2
    assert len(nodes) == 2  # one CPU per node, one CPU per replica: a replica on each node


async def test_a_full_queue_answers_503_with_retry_after_then_the_queue_is_painted(service, http):
    """Both painters are frozen (SIGSTOP), so they stay busy however fast this machine paints.
    Requests are sent one by one: each is either held (handed to a painter, or waiting in the
    queue of max_queued_requests = 2) or refused at once; once painters and queue are full, every
    further request is a 503 with Retry-After. When the painters go on, every held request is
    painted. (One at a time: Serve counts a request as queued until a painter accepts it, so a
    burst arriving in one instant may be refused before the painters' slots are counted.)"""
    painters = painter_actors()
    assert len(painters) == 2

    def request() -> asyncio.Task:
        return asyncio.create_task(
            stylize(http, service.url, ("style", "nantes", None), ("max_size", "128", None))
        )

    held: list[asyncio.Task] = []
    with frozen([p["pid"] for p in painters]):
        refused = None
        for _ in range(12):
            task = request()
            done, _ = await asyncio.wait([task], timeout=3)
            if done:
                refused = task.result()
                break
            held.append(task)
        assert refused is not None, "nothing was refused while both painters were frozen"
        assert len(held) >= 2  # the queue holds 2, whatever the painters took
        again = await asyncio.wait_for(request(), 10)  # still full: refused at once too
        for answer in (refused, again):
            assert answer.status == 503  # Serve's proxy's answer, made JSON (bot.service.proxy)
            assert answer.headers["Content-Type"] == "application/json"
            assert answer.headers["Retry-After"] == "2"
            assert answer.error == BUSY
    async with asyncio.timeout(60):
        answers = await asyncio.gather(*held)
    assert [answer.status for answer in answers] == [200] * len(held)


async def test_a_replica_holding_two_requests_works_on_one_at_a_time(service, http):
    """With max_ongoing_requests = 2 one replica takes both requests at once but decodes and
    paints them in turn (its engine already has all its CPUs): the later answer comes no sooner
    than both paintings' own seconds added up. (Worked on at once, each painting's own time
    would span much of the other's, and their sum would exceed the wall time.) The replica
    reserves no CPU (num_cpus 0, so a 2-thread engine): the session's painters hold the
    cluster's two."""
    from dataclasses import replace

    from bot.service.app import delete_service, run_service

    held = replace(service.settings, service=replace(
        service.settings.service, replicas=1, num_cpus=0, max_ongoing_requests=2))
    await asyncio.to_thread(run_service, held, "/held", "held")
    try:
        url = f"{service.url}/held"
        size = ("max_size", "768", None)
        await stylize(http, url, ("style", "udnie", None), size)  # compiled, vector cached

        async def timed():
            start = time.perf_counter()
            answer = await stylize(http, url, ("style", "udnie", None), size)
            return answer, time.perf_counter() - start

        (first, first_trip), (second, second_trip) = await asyncio.gather(timed(), timed())
        assert first.status == second.status == 200
        assert first.headers["X-Stylebot-Replica"] == second.headers["X-Stylebot-Replica"]
        own = float(first.headers["X-Stylebot-Seconds"]) + float(
            second.headers["X-Stylebot-Seconds"])
        assert max(first_trip, second_trip) >= own
    finally:
        await asyncio.to_thread(delete_service, "held")
