"""aiohttp answers of misbehaving servers, shared by the download and the CDN fetch tests."""

import asyncio

from aiohttp import web


def trickler(release: asyncio.Event):
    """A handler sending one byte every 50 ms of a promised 1000: it never stalls, but takes
    far too long overall (until `release` is set)."""

    async def trickle(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_length = 1000
        await resp.prepare(request)
        for _ in range(1000):
            if release.is_set():
                break
            await resp.write(b"x")
            await asyncio.sleep(0.05)
        return resp

    return trickle


async def half_then_hang_up(request: web.Request, data: bytes) -> web.StreamResponse:
    """Promise all of `data`, send half of it, then drop the connection."""
    resp = web.StreamResponse()
    resp.content_length = len(data)
    await resp.prepare(request)
    await resp.write(data[: len(data) // 2])
    request.transport.close()
    return resp
