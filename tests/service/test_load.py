"""Load on the two-node cluster: requests spread over both replicas; a full queue is a 503."""

from __future__ import annotations

import asyncio

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
    """Both painters are frozen (SIGSTOP), so they stay busy however fast this machine paints:
    of 7 requests sent at once, at most 2 can be handed to a painter and 2 wait in the queue
    (max_queued_requests = 2); the others are refused at once. Once the painters go on, every
    accepted request is painted."""
    painters = painter_actors()
    assert len(painters) == 2
    sent = 7
    with frozen([p["pid"] for p in painters]):
        tasks = [
            asyncio.create_task(
                stylize(http, service.url, ("style", "nantes", None), ("max_size", "128", None))
            )
            for _ in range(sent)
        ]
        refused = []
        async with asyncio.timeout(30):
            while len(refused) < sent - 4:
                done, _ = await asyncio.wait(
                    [t for t in tasks if not t.done()], return_when=asyncio.FIRST_COMPLETED
                )
                refused += [t.result() for t in done]
        await asyncio.sleep(1)  # anything else refused comes back now too
        refused = [t.result() for t in tasks if t.done()]
        assert sent - 4 <= len(refused) <= sent - 2
        for answer in refused:
            assert answer.status == 503
            assert answer.headers["Retry-After"] == "2"
            assert answer.error == BUSY
    async with asyncio.timeout(60):
        answers = await asyncio.gather(*tasks)
    statuses = [answer.status for answer in answers]
    assert statuses.count(503) == len(refused)
    assert statuses.count(200) == sent - len(refused)
