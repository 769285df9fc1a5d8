"""Load on the two-node cluster: requests spread over both replicas; a full queue is a 503."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from bot.service.errors import BUSY
from tests.service.cluster import haproxy_painters_up, wait_for_painters
from tests.service.http import Answer, multipart, photo_bytes, stylize


async def test_concurrent_requests_spread_over_both_replicas_and_nodes(service, http):
    await asyncio.to_thread(wait_for_painters, 2)
    assert haproxy_painters_up() == 2  # the requests below go through HAProxy
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
    """Each replica holds max_ongoing_requests (1) plus max_queued_requests (2) requests. Six
    requests whose bodies are held back fill both replicas (HAProxy gives each new request to
    the replica holding fewer), so they stay full however fast this machine paints; a further
    request is refused at once by its replica: 503 with Retry-After, the API's JSON sentence.
    Once their bodies arrive, every held request is painted."""
    release = asyncio.Event()
    body, kind = multipart([("content", photo_bytes(), "chelsea.jpg"),
                            ("style", b"nantes", None), ("max_size", b"128", None)])

    async def held_back_body() -> AsyncIterator[bytes]:
        yield body[:64]
        await release.wait()
        yield body[64:]

    async def held_request() -> Answer:
        async with http.post(f"{service.url}/v1/stylize", data=held_back_body(),
                             headers={"Content-Type": kind}) as response:
            return Answer(response.status, response.headers.copy(), await response.read())

    await asyncio.to_thread(wait_for_painters, 2)
    settings = service.settings.service
    slots = 2 * (settings.max_ongoing_requests + settings.max_queued_requests)
    held = []
    for _ in range(slots):
        held.append(asyncio.create_task(held_request()))
        await asyncio.sleep(0.3)  # taken by a replica before the next arrives
    try:
        assert not [task for task in held if task.done()]
        for _ in range(2):
            answer = await asyncio.wait_for(stylize(
                http, service.url, ("style", "nantes", None), ("max_size", "128", None)), 10)
            assert answer.status == 503
            assert answer.headers["Content-Type"] == "application/json"
            assert answer.headers["Retry-After"] == "2"
            assert answer.error == BUSY
    finally:
        release.set()
        async with asyncio.timeout(60):
            answers = await asyncio.gather(*held)
    assert [answer.status for answer in answers] == [200] * slots


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
