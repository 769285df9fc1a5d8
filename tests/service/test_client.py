"""The bot's client for the service (bot/service/client.py): answers, sentences, retries."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.service.client import (
    RetryPolicy,
    ServiceClient,
    ServiceRefused,
    ServiceStyle,
)
from bot.service.errors import NOT_ANSWERING, ServiceUnavailable
from tests.features.stylize.test_animated import gif_clip
from tests.service.cluster import LOOPBACK, free_port
from tests.service.http import photo_bytes


async def test_a_painting_with_a_preset_and_an_uploaded_style(service, mirror_dir, http):
    client = ServiceClient(http, service.url + "/")
    painting = await client.stylize(
        photo_bytes(),
        [
            ServiceStyle(preset="udnie", weight=2),
            ServiceStyle(image=(mirror_dir / "presets" / "nantes.jpg").read_bytes()),
        ],
        strength=0.8,
        keep_colours=True,
        max_size=200,
        image_format="webp",
    )
    assert (painting.media_type, painting.width, painting.height) == ("image/webp", 200, 133)
    assert painting.data[:4] == b"RIFF" and painting.attempts == 1
    assert painting.seconds > 0 and painting.replica and painting.node
    assert await client.healthy()
    assert "starry-night" in {p["slug"] for p in await client.presets()}


async def test_a_4xx_is_the_users_sentence_and_is_not_retried(service, http):
    client = ServiceClient(http, service.url, RetryPolicy(retries=3, backoff=5))
    start = time.monotonic()
    with pytest.raises(ServiceRefused) as refused:
        await client.stylize(photo_bytes(), [ServiceStyle(preset="mona lisa")])
    assert refused.value.status == 400
    assert str(refused.value).startswith("There is no preset called “mona lisa”.")
    assert time.monotonic() - start < 5  # no backoff pause: not retried


async def test_nobody_listening_is_retried_then_one_sentence(http):
    client = ServiceClient(
        http, f"http://{LOOPBACK}:{free_port()}", RetryPolicy(retries=3, backoff=0.05)
    )
    assert not await client.healthy()
    start = time.monotonic()
    with pytest.raises(ServiceUnavailable) as caught:
        await client.stylize(b"photo", [ServiceStyle(preset="udnie")])
    assert str(caught.value) == NOT_ANSWERING
    assert time.monotonic() - start < 3


async def test_a_service_that_never_answers_ends_at_the_total_timeout(http):
    accepted = []

    async def hold(reader, writer):  # reads the request and never answers
        accepted.append(writer)
        await reader.read(-1)

    server = await asyncio.start_server(hold, LOOPBACK, 0)
    port = server.sockets[0].getsockname()[1]
    client = ServiceClient(http, f"http://{LOOPBACK}:{port}", RetryPolicy(total_timeout=1.0))
    start = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        await client.stylize(b"photo", [ServiceStyle(preset="udnie")])
    assert 0.9 < time.monotonic() - start < 3
    assert accepted
    server.close()
    for writer in accepted:
        writer.close()


def test_a_style_is_a_preset_or_an_image():
    with pytest.raises(ValueError):
        ServiceStyle()
    with pytest.raises(ValueError):
        ServiceStyle(preset="udnie", image=b"x")


async def test_progress_counts_the_services_frames_then_gives_the_animation(service, http):
    client = ServiceClient(http, service.url)
    counts: list[tuple[int, int]] = []
    painting = await client.stylize(
        gif_clip(6, (96, 64)), [ServiceStyle(preset="udnie")], image_format=None,
        progress=lambda done, total: counts.append((done, total)),
    )
    assert counts == [(n, 6) for n in range(1, 7)]
    assert (painting.media_type, painting.frames, painting.width) == ("image/gif", 6, 96)
    assert painting.data[:6] == b"GIF89a" and painting.attempts == 1


async def test_a_stream_cut_before_the_painting_is_retried_then_one_sentence(http):
    tries = []
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=cut\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    json = b'{"frame": 1, "frames": 6}'
    part = (b"--cut\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s\r\n"
            % (len(json), json))

    async def cut(reader, writer):  # one progress part, then the connection drops
        tries.append(1)
        await reader.readuntil(b"\r\n\r\n")
        writer.write(head + f"{len(part):x}\r\n".encode() + part + b"\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(cut, LOOPBACK, 0)
    port = server.sockets[0].getsockname()[1]
    client = ServiceClient(http, f"http://{LOOPBACK}:{port}", RetryPolicy(retries=2, backoff=0.05))
    counts: list[int] = []
    with pytest.raises(ServiceUnavailable) as caught:
        await client.stylize(b"GIF89a", [ServiceStyle(preset="udnie")],
                             progress=lambda done, total: counts.append(done))
    assert str(caught.value) == NOT_ANSWERING
    assert len(tries) == 3 and counts == [1, 1, 1]  # each try counted again from its start
    server.close()


async def test_each_part_is_read_as_it_arrives_and_an_error_part_is_the_users_sentence(http):
    counts: list[int] = []
    seen = asyncio.Event()

    def part(body: bytes) -> bytes:
        return (b"--b\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s\r\n"
                % (len(body), body))

    async def answer(reader, writer):  # the final part waits until the progress part was read
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=b\r\n"
                     b"Connection: close\r\n\r\n" + part(b'{"frame": 1, "frames": 2}'))
        await writer.drain()
        await asyncio.wait_for(seen.wait(), 10)
        writer.write(part(b'{"error": "The photo is damaged or incomplete.", "status": 400}')
                     + b"--b--\r\n")
        await writer.drain()
        writer.close()

    def progress(done: int, total: int) -> None:
        counts.append(done)
        seen.set()

    server = await asyncio.start_server(answer, LOOPBACK, 0)
    port = server.sockets[0].getsockname()[1]
    client = ServiceClient(http, f"http://{LOOPBACK}:{port}", RetryPolicy(retries=0))
    with pytest.raises(ServiceRefused) as refused:
        await client.stylize(b"GIF89a", [ServiceStyle(preset="udnie")], progress=progress)
    assert (str(refused.value), refused.value.status) == (
        "The photo is damaged or incomplete.", 400)
    assert counts == [1]
    server.close()
