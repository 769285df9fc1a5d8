"""Fixtures for the asset tests: a loopback HTTP server serving the mirror (tests/conftest.py)."""

import asyncio
import io
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from PIL import Image

from tests.slow_responses import half_then_hang_up, trickler


@dataclass
class LoopbackServer:
    """A live aiohttp server on 127.0.0.1, its request count and User-Agents per path."""

    base_url: str
    hits: Counter = field(default_factory=Counter)
    user_agents: dict = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"


def big_jpeg() -> bytes:
    """A 2000x1500 RGB JPEG with some structure, for the downscaling test."""
    image = Image.linear_gradient("L").resize((2000, 1500)).convert("RGB")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _make_app(mirror: Path, server: LoopbackServer, release: asyncio.Event) -> web.Application:
    big = big_jpeg()

    async def count(request: web.Request, handler):
        server.hits[request.path] += 1
        server.user_agents[request.path] = request.headers.get("User-Agent")
        return await handler(request)

    def mirror_file(request: web.Request) -> Path:
        path = mirror / request.match_info["folder"] / request.match_info["name"]
        if request.match_info["folder"] not in ("models", "presets") or not path.is_file():
            raise web.HTTPNotFound()
        return path

    async def serve(request: web.Request) -> web.StreamResponse:
        return web.Response(body=mirror_file(request).read_bytes())

    async def chunked(request: web.Request) -> web.StreamResponse:
        """The same file with no Content-Length (chunked transfer encoding)."""
        data = mirror_file(request).read_bytes()
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for start in range(0, len(data), 32 * 1024):
            await resp.write(data[start : start + 32 * 1024])
        await resp.write_eof()
        return resp

    async def truncated(request: web.Request) -> web.StreamResponse:
        return await half_then_hang_up(request, mirror_file(request).read_bytes())

    async def stall(request: web.Request) -> web.StreamResponse:
        """Send the headers and a few bytes, then go quiet until the server stops."""
        resp = web.StreamResponse()
        resp.content_length = 1_000_000
        await resp.prepare(request)
        await resp.write(b"x" * 1000)
        await release.wait()
        return resp

    async def generated(request: web.Request) -> web.StreamResponse:
        return web.Response(body=big, content_type="image/jpeg")

    async def html(request: web.Request) -> web.StreamResponse:
        return web.Response(text="<html><body>a wiki page</body></html>", content_type="text/html")

    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"/files/{request.match_info['folder']}/{request.match_info['name']}")

    app = web.Application(middlewares=[web.middleware(count)])
    app.router.add_get("/files/{folder}/{name}", serve)
    app.router.add_get("/chunked/{folder}/{name}", chunked)
    app.router.add_get("/truncated/{folder}/{name}", truncated)
    app.router.add_get("/redirect/{folder}/{name}", redirect)
    app.router.add_get("/stall", stall)
    app.router.add_get("/trickle", trickler(release))
    app.router.add_get("/generated/big.jpg", generated)
    app.router.add_get("/page.html", html)
    return app


@pytest.fixture(scope="session")
def http_server(mirror_dir: Path):
    """Serve the mirror on 127.0.0.1 from a background thread (usable from any event loop)."""
    loop = asyncio.new_event_loop()
    release = asyncio.Event()
    started = threading.Event()
    box: dict = {}

    async def start() -> None:
        server = LoopbackServer(base_url="")
        runner = web.AppRunner(_make_app(mirror_dir, server, release), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        server.base_url = f"http://127.0.0.1:{port}"
        box.update(server=server, runner=runner)

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(start())
        except BaseException as exc:  # surface start-up errors in the test thread
            box["error"] = exc
        started.set()
        if "error" not in box:
            loop.run_forever()

    thread = threading.Thread(target=run, name="loopback-http", daemon=True)
    thread.start()
    started.wait(10)
    if "error" in box:
        raise box["error"]
    yield box["server"]

    async def stop() -> None:
        release.set()
        await box["runner"].cleanup()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def server(http_server: LoopbackServer) -> LoopbackServer:
    """The loopback server with its hit counter reset for this test."""
    http_server.hits.clear()
    http_server.user_agents.clear()
    return http_server
