"""download_file against a real loopback HTTP server serving the mirror's files."""

import asyncio
import hashlib
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from bot.assets.download import USER_AGENT, download_file
from bot.assets.models import PREDICTION_INT8, TRANSFER_INT8
from bot.errors import AssetError

MODEL = TRANSFER_INT8.filename


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest_asyncio.fixture(loop_scope="function")  # the test's own loop, not the session's
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


def assert_empty(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == []


def test_user_agent_is_descriptive():
    assert USER_AGENT.startswith("stylebot/0.")
    assert "https://github.com/stylebot/stylebot" in USER_AGENT


async def test_success_bytes_and_sha_equal(server, session, mirror_dir, tmp_path):
    dest = tmp_path / "dl" / MODEL
    got = await download_file(
        session, server.url(f"files/models/{MODEL}"), dest, sha256=TRANSFER_INT8.sha256
    )
    assert got == dest
    assert dest.read_bytes() == (mirror_dir / "models" / MODEL).read_bytes()
    assert sha256_of(dest) == TRANSFER_INT8.sha256
    assert [p.name for p in dest.parent.iterdir()] == [MODEL]


async def test_success_chunked_without_content_length(server, session, mirror_dir, tmp_path):
    dest = tmp_path / MODEL
    await download_file(session, server.url(f"chunked/models/{MODEL}"), dest, sha256=None)
    assert dest.read_bytes() == (mirror_dir / "models" / MODEL).read_bytes()


async def test_follows_redirects(server, session, tmp_path):
    dest = tmp_path / MODEL
    await download_file(
        session, server.url(f"redirect/models/{MODEL}"), dest, sha256=TRANSFER_INT8.sha256
    )
    assert sha256_of(dest) == TRANSFER_INT8.sha256


async def test_replaces_an_existing_file(server, session, tmp_path):
    dest = tmp_path / MODEL
    dest.write_bytes(b"old")
    await download_file(session, server.url(f"files/models/{MODEL}"), dest)
    assert sha256_of(dest) == TRANSFER_INT8.sha256


async def test_progress_bar_goes_to_stderr(server, session, tmp_path, capsys):
    await download_file(
        session, server.url(f"files/models/{MODEL}"), tmp_path / MODEL, progress=True
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    assert MODEL in captured.err


async def test_404(server, session, tmp_path):
    with pytest.raises(AssetError) as info:
        await download_file(session, server.url("files/models/nope.tflite"), tmp_path / MODEL)
    assert str(info.value) == f"Downloading {MODEL} failed: the server answered 404."
    assert_empty(tmp_path)


async def test_truncated_body(server, session, tmp_path):
    with pytest.raises(AssetError) as info:
        await download_file(session, server.url(f"truncated/models/{MODEL}"), tmp_path / MODEL)
    assert str(info.value).startswith(f"Downloading {MODEL} failed: ")
    assert_empty(tmp_path)


async def test_wrong_checksum(server, session, tmp_path):
    with pytest.raises(AssetError) as info:
        await download_file(
            session, server.url(f"files/models/{MODEL}"), tmp_path / MODEL, sha256="0" * 64
        )
    assert str(info.value) == (
        f"Downloading {MODEL} failed: its SHA-256 checksum does not match the expected one."
    )
    assert_empty(tmp_path)


async def test_too_large_by_content_length(server, session, tmp_path):
    with pytest.raises(AssetError, match="more than the 1000 allowed"):
        await download_file(
            session, server.url(f"files/models/{MODEL}"), tmp_path / MODEL, max_bytes=1000
        )
    assert_empty(tmp_path)


async def test_too_large_while_streaming(server, session, tmp_path):
    name = PREDICTION_INT8.filename
    with pytest.raises(AssetError, match="larger than the 100000 bytes allowed"):
        await download_file(
            session, server.url(f"chunked/models/{name}"), tmp_path / name, max_bytes=100_000
        )
    assert_empty(tmp_path)


async def test_stalled_server_times_out(server, session, tmp_path):
    with pytest.raises(AssetError) as info:
        await download_file(session, server.url("stall"), tmp_path / MODEL, timeout=0.5)
    assert str(info.value).startswith(f"Downloading {MODEL} failed: ")
    assert "0.5 s" in str(info.value)
    assert_empty(tmp_path)


async def test_read_stall_is_detected_before_the_total_timeout(
    server, session, tmp_path, monkeypatch
):
    monkeypatch.setattr("bot.assets.download.STALL_TIMEOUT", 0.3)
    with pytest.raises(AssetError) as info:
        await download_file(session, server.url("stall"), tmp_path / MODEL, timeout=10)
    assert str(info.value) == f"Downloading {MODEL} failed: the server sent nothing for 0.3 s."
    assert_empty(tmp_path)


async def test_cancelled_download_leaves_nothing(server, session, tmp_path):
    task = asyncio.create_task(
        download_file(session, server.url("stall"), tmp_path / MODEL, timeout=10)
    )
    await asyncio.sleep(0.3)
    assert len(list(tmp_path.iterdir())) == 1  # the temp file, while streaming
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert_empty(tmp_path)


async def test_slow_transfer_hits_the_total_timeout(server, session, tmp_path):
    with pytest.raises(AssetError) as info:
        await download_file(session, server.url("trickle"), tmp_path / MODEL, timeout=0.5)
    assert str(info.value) == f"Downloading {MODEL} failed: it did not finish within 0.5 s."
    assert_empty(tmp_path)


async def test_connection_refused(session, tmp_path):
    # Port 9 on loopback (discard) is closed in any sane test environment.
    with pytest.raises(AssetError, match=f"^Downloading {MODEL} failed: could not talk to"):
        await download_file(session, "http://127.0.0.1:9/x", tmp_path / MODEL, timeout=5)
    assert_empty(tmp_path)


async def test_sends_the_user_agent(tmp_path):
    from aiohttp import web

    seen = {}

    async def handler(request):
        seen.update(request.headers)
        return web.Response(body=b"ok")

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as s:
            await download_file(
                s,
                f"http://127.0.0.1:{port}/",
                tmp_path / "f",
                headers={"X-A": "1", "User-Agent": "x"},
            )
    finally:
        await runner.cleanup()
    assert seen["User-Agent"] == USER_AGENT
    assert seen["X-A"] == "1"
