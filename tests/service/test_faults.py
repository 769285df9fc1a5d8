"""A painter killed (kill -9) while it paints: HAProxy answers a 5xx, the client's retry still
gets the image, and Serve starts a replica in its place."""

from __future__ import annotations

import asyncio
import io
import os
import signal

import psutil
from PIL import Image

from bot.service.client import RetryPolicy, ServiceClient, ServiceStyle
from tests.service.cluster import painter_actors, wait_for_painters
from tests.service.http import EXAMPLES, Answer, post


def big_photo() -> bytes:
    """A 2048x1536 JPEG: a painting long enough (about a second) to be killed in the middle."""
    with Image.open(EXAMPLES / "chelsea.jpg") as image:
        large = image.convert("RGB").resize((2048, 1536))
    buffer = io.BytesIO()
    large.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


async def kill_the_busy_painter(painters: list[dict], timeout: float = 60) -> dict:
    """Watch the painters' CPU time; SIGKILL the first one that works (it paints)."""
    processes = {p["pid"]: psutil.Process(p["pid"]) for p in painters}
    used = {pid: sum(proc.cpu_times()[:2]) for pid, proc in processes.items()}
    async with asyncio.timeout(timeout):
        while True:
            await asyncio.sleep(0.05)
            for painter in painters:
                now = sum(processes[painter["pid"]].cpu_times()[:2])
                if now - used[painter["pid"]] > 0.025:  # half a core over 50 ms: painting
                    os.kill(painter["pid"], signal.SIGKILL)
                    return painter
                used[painter["pid"]] = now


async def test_a_painter_killed_mid_painting_is_retried_and_replaced(service, http):
    painters = wait_for_painters(2)
    client = ServiceClient(
        http, service.url, RetryPolicy(retries=5, backoff=0.2, total_timeout=120)
    )
    request = asyncio.create_task(
        client.stylize(big_photo(), [ServiceStyle(preset="starry-night")], max_size=2048)
    )
    killed = await kill_the_busy_painter(painters)
    painting = await request
    assert painting.attempts >= 2  # the first attempt died with its painter
    assert (painting.width, painting.height) == (2048, 1536)
    assert Image.open(io.BytesIO(painting.data)).size == (2048, 1536)
    assert not psutil.pid_exists(killed["pid"]) or psutil.Process(killed["pid"]).status() in (
        psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    replaced = wait_for_painters(2, without={killed["actor_id"]})
    assert {p["node_id"] for p in replaced} == {p["node_id"] for p in painters}
    assert killed["actor_id"] not in {p["actor_id"] for p in painter_actors()}


async def test_a_painter_killed_before_answering_is_a_5xx_the_client_retries(service, http):
    """Without the client's retries: the request the killed painter held is answered by
    HAProxy (the connection to the replica's server broke): 500 "Internal Server Error", plain
    text that Serve's HAProxy manager writes, never a traceback; any 5xx is retried by the
    client (the test above)."""
    painters = wait_for_painters(2)
    request = asyncio.create_task(stylize_big(http, service.url))
    killed = await kill_the_busy_painter(painters)
    answer = await request
    try:
        assert (answer.status, answer.body) == (500, b"Internal Server Error")
    finally:  # whatever the answer, the next tests find both painters again
        wait_for_painters(2, without={killed["actor_id"]})


async def stylize_big(http, url: str) -> Answer:
    return await post(http, url, ("content", big_photo(), "big.jpg"),
                      ("style", "starry-night", None), ("max_size", "2048", None))
