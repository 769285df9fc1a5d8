"""fetch_image_bytes against loopback aiohttp servers; check_attachment and avatar_url on real
discord.py objects (built from payloads on a never-connected client's state)."""

import asyncio
import gzip
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import discord
import pytest
import pytest_asyncio
from aiohttp import web

from bot.discordio import (
    FetchPolicy,
    avatar_url,
    check_attachment,
    fetch_image_bytes,
    is_allowed_url,
)
from bot.errors import ImageError, ImageTooLarge
from tests.fakediscord.server import FakeDiscord
from tests.imaging.helpers import assert_one_sentence
from tests.slow_responses import half_then_hang_up, trickler

PHOTO = (Path(__file__).resolve().parents[2] / "examples" / "chelsea.jpg").read_bytes()
CAP = 100 * 1024
LOOPBACK = FetchPolicy(max_bytes=CAP, max_pixels=40_000_000, timeout=5.0,
                       allow_http_loopback=True)
DISCORD_ONLY = FetchPolicy(max_bytes=CAP, max_pixels=40_000_000, timeout=5.0)
NOT_DISCORD = "I can only fetch images from Discord."


@dataclass
class Site:
    """One running loopback server and the paths it was asked for."""

    base: str = ""
    hits: Counter = field(default_factory=Counter)
    runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"


async def start_site(routes: dict) -> Site:
    site = Site()

    @web.middleware
    async def count(request: web.Request, handler):
        site.hits[request.path] += 1
        return await handler(request)

    app = web.Application(middlewares=[count])
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    site.runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await site.runner.setup()
    await web.TCPSite(site.runner, "127.0.0.1", 0).start()
    site.base = f"http://127.0.0.1:{site.runner.addresses[0][1]}"
    return site


def cdn_routes(elsewhere: Site, release: asyncio.Event) -> dict:
    async def photo(request):
        return web.Response(body=PHOTO, content_type="image/jpeg")

    async def sized(request):
        return web.Response(body=b"x" * int(request.match_info["n"]))

    async def chunked(request):
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for start in range(0, len(PHOTO), 8192):
            await resp.write(PHOTO[start:start + 8192])
        await resp.write_eof()
        return resp

    async def gzipped(request):  # small on the wire, 1 MB once aiohttp inflates it
        return web.Response(body=gzip.compress(bytes(1 << 20)),
                            headers={"Content-Encoding": "gzip"})

    async def status(request):
        return web.Response(status=int(request.match_info["code"]), text="no")

    async def away(request):
        raise web.HTTPFound(elsewhere.url("photo.jpg"))

    async def home(request):
        raise web.HTTPFound("/photo.jpg")

    async def declared_huge(request):
        """Promise 10 MB, send nothing: only the Content-Length can fail the request fast."""
        resp = web.StreamResponse()
        resp.content_length = 10 * 1024 * 1024
        await resp.prepare(request)
        await release.wait()
        return resp

    async def endless(request):
        """No Content-Length; send just over the cap, then go quiet."""
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for _ in range(CAP // 16384 + 1):
            await resp.write(b"x" * 16384)
        await release.wait()
        return resp

    async def truncated(request):
        return await half_then_hang_up(request, PHOTO)

    return {"/photo.jpg": photo, "/sized/{n}": sized, "/chunked.jpg": chunked,
            "/gzip.png": gzipped, "/status/{code}": status, "/away.png": away,
            "/home.png": home, "/huge.png": declared_huge, "/endless.png": endless,
            "/trickle.png": trickler(release), "/truncated.jpg": truncated}


@pytest_asyncio.fixture(loop_scope="function")
async def sites():
    """(cdn, elsewhere): a fake Discord CDN and another host it may redirect to."""
    release = asyncio.Event()
    async def photo(request):
        return web.Response(body=PHOTO)

    elsewhere = await start_site({"/photo.jpg": photo})
    cdn = await start_site(cdn_routes(elsewhere, release))
    yield cdn, elsewhere
    release.set()
    await cdn.runner.cleanup()
    await elsewhere.runner.cleanup()


@pytest_asyncio.fixture(loop_scope="function")
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


async def refused(coro, kind=ImageError) -> str:
    with pytest.raises(kind) as info:
        await coro
    assert type(info.value) is kind
    assert_one_sentence(str(info.value))
    return str(info.value)


async def test_success_returns_the_exact_bytes(sites, session):
    cdn, _ = sites
    assert await fetch_image_bytes(session, cdn.url("photo.jpg"), LOOPBACK) == PHOTO
    assert await fetch_image_bytes(session, cdn.url("chunked.jpg"), LOOPBACK) == PHOTO


async def test_a_body_of_exactly_the_cap_is_fine_one_more_byte_is_not(sites, session):
    cdn, _ = sites
    assert len(await fetch_image_bytes(session, cdn.url(f"sized/{CAP}"), LOOPBACK)) == CAP
    message = await refused(
        fetch_image_bytes(session, cdn.url(f"sized/{CAP + 1}"), LOOPBACK, what="photo"),
        ImageTooLarge)
    assert message == "The photo is larger than the limit of 100 KB."


@pytest.mark.parametrize("code", [404, 500])
async def test_error_status(sites, session, code):
    cdn, _ = sites
    message = await refused(
        fetch_image_bytes(session, cdn.url(f"status/{code}"), LOOPBACK, what="photo"))
    assert message == f"I could not download the photo (Discord answered {code})."


@pytest.mark.parametrize("path", ["away.png", "home.png"])
async def test_redirects_are_never_followed(sites, session, path):
    cdn, elsewhere = sites
    message = await refused(fetch_image_bytes(session, cdn.url(path), LOOPBACK, what="photo"))
    assert "never follow redirects" in message
    assert cdn.hits[f"/{path}"] == 1
    assert cdn.hits["/photo.jpg"] == 0
    assert sum(elsewhere.hits.values()) == 0


async def test_content_length_over_the_cap_fails_before_any_body(sites, session):
    cdn, _ = sites
    message = await refused(
        fetch_image_bytes(session, cdn.url("huge.png"), LOOPBACK, what="photo"), ImageTooLarge)
    # the server never sends a byte of body: waiting for one would end in the timeout sentence
    assert message == "The photo is 10 MB; the limit is 100 KB."


async def test_a_streamed_body_fails_as_soon_as_it_passes_the_cap(sites, session):
    cdn, _ = sites
    message = await refused(
        fetch_image_bytes(session, cdn.url("endless.png"), LOOPBACK, what="photo"),
        ImageTooLarge)
    # it did not wait for the (never coming) end: that would end in the timeout sentence
    assert message == "The photo is larger than the limit of 100 KB."


async def test_the_cap_counts_decompressed_bytes(sites, session):
    cdn, _ = sites
    await refused(fetch_image_bytes(session, cdn.url("gzip.png"), LOOPBACK), ImageTooLarge)


async def test_a_slow_trickle_hits_the_total_timeout(sites, session):
    cdn, _ = sites
    policy = FetchPolicy(CAP, 40_000_000, timeout=0.5, allow_http_loopback=True)
    message = await refused(
        fetch_image_bytes(session, cdn.url("trickle.png"), policy, what="photo"))
    assert message == "Downloading the photo took longer than 0.5 s."


async def test_truncated_body(sites, session):
    cdn, _ = sites
    message = await refused(
        fetch_image_bytes(session, cdn.url("truncated.jpg"), LOOPBACK, what="photo"))
    assert message == "Downloading the photo broke off before the end."


async def test_connection_refused(session):
    message = await refused(fetch_image_bytes(session, "http://127.0.0.1:9/a.png", LOOPBACK))
    assert message == "I could not download the image."


async def test_loopback_needs_the_policy_flag_and_is_refused_without_a_request(sites, session):
    cdn, _ = sites
    assert await refused(fetch_image_bytes(session, cdn.url("photo.jpg"), DISCORD_ONLY)) == (
        NOT_DISCORD)
    assert sum(cdn.hits.values()) == 0


@pytest.mark.parametrize("url", [
    "http://cdn.discordapp.com/attachments/1/2/a.png",  # https only
    "https://example.com/a.png",
    "https://cdn.discordapp.com.evil.test/a.png",
    "https://cdn.discordapp.com./a.png",
    "https://user@cdn.discordapp.com/a.png",
    "https://cdn.discordapp.com:8443/a.png",
    "https://cdn.discordapp.com\\@evil.test/a.png",
    "ftp://cdn.discordapp.com/a.png",
    "//cdn.discordapp.com/a.png",
    "/attachments/1/2/a.png",
    "",
])
async def test_other_urls_are_refused_before_any_connection(session, url):
    for policy in (DISCORD_ONLY, LOOPBACK):
        assert await refused(fetch_image_bytes(session, url, policy)) == NOT_DISCORD
        assert not is_allowed_url(url, policy)


def test_allowed_urls():
    for url in ("https://cdn.discordapp.com/attachments/1/2/a.png?ex=1&is=2",
                "https://media.discordapp.net/attachments/1/2/a.png",
                "HTTPS://CDN.DiscordApp.com/a.png", "https://cdn.discordapp.com:443/a.png"):
        assert is_allowed_url(url, DISCORD_ONLY) and is_allowed_url(url, LOOPBACK), url
    for url in ("http://127.0.0.1:8080/a.png", "http://localhost/a.png"):
        assert is_allowed_url(url, LOOPBACK) and not is_allowed_url(url, DISCORD_ONLY), url
    only_media = FetchPolicy(CAP, 1, 1.0, allowed_hosts=frozenset({"media.discordapp.net"}))
    assert not is_allowed_url("https://cdn.discordapp.com/a.png", only_media)


@pytest.mark.parametrize("bad", [
    {"max_bytes": 0}, {"max_pixels": -1}, {"timeout": 0}, {"max_bytes": True},
    {"allowed_hosts": {"cdn.discordapp.com"}},
])
def test_policy_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        FetchPolicy(**{"max_bytes": 1, "max_pixels": 1, "timeout": 1.0, **bad})


# -- check_attachment and avatar_url on real discord.py objects -------------------------------

STATE = discord.Client(intents=discord.Intents.none())._connection  # never connects
MB = 1024 * 1024
ATTACHMENT_POLICY = FetchPolicy(max_bytes=25 * MB, max_pixels=40_000_000, timeout=30.0)


def attachment(**changes) -> discord.Attachment:
    data = {"id": "1", "filename": "cat.jpg", "size": 38_702, "content_type": "image/jpeg",
            "width": 451, "height": 300,
            "url": "https://cdn.discordapp.com/attachments/1/2/cat.jpg",
            "proxy_url": "https://media.discordapp.net/attachments/1/2/cat.jpg", **changes}
    return discord.Attachment(data=data, state=STATE)


def refusal(kind=ImageError, **changes) -> str:
    with pytest.raises(kind) as info:
        check_attachment(attachment(**changes), ATTACHMENT_POLICY, what="photo")
    assert type(info.value) is kind
    assert_one_sentence(str(info.value))
    return str(info.value)


@pytest.mark.parametrize("changes", [
    {}, {"content_type": None}, {"width": None, "height": None},
    {"content_type": "image/png; charset=binary"}, {"size": 25 * MB},
    {"width": 8000, "height": 5000}, {"url": "https://media.discordapp.net/a/b/c.jpg"},
])
def test_check_attachment_accepts(changes):
    check_attachment(attachment(**changes), ATTACHMENT_POLICY, what="photo")


def test_check_attachment_sizes():
    assert refusal(ImageTooLarge, size=31 * MB) == "The photo is 31 MB; the limit is 25 MB."
    assert refusal(ImageTooLarge, size=25 * MB + 1) == (
        "The photo is larger than the limit of 25 MB.")
    assert refusal(ImageTooLarge, width=8000, height=6000) == (
        "The photo is 8000×6000 pixels, more than the limit of 40 megapixels.")


@pytest.mark.parametrize(("content_type", "kind"), [
    ("video/mp4", "a video"), ("audio/mpeg", "an audio file"),
    ("text/plain; charset=utf-8", "a text file"), ("application/pdf", "a PDF document"),
    ("application/zip", "a “application/zip” file"),
    ("application/`*evil*`", "a “application/evil” file"),
])
def test_check_attachment_refuses_non_images(content_type, kind):
    message = refusal(content_type=content_type, size=31 * MB, width=None, height=None)
    assert message == f"The photo is not an image (it is {kind})."


def test_check_attachment_without_type_or_dimensions_is_not_an_image():
    assert refusal(content_type=None, width=None) == "The photo is not an image."


def test_check_attachment_refuses_foreign_urls():
    assert refusal(url="https://evil.test/cat.jpg") == NOT_DISCORD
    assert refusal(url="http://cdn.discordapp.com/attachments/1/2/cat.jpg") == NOT_DISCORD


def user(avatar: str | None, user_id: int = 80351110224678912) -> discord.User:
    return discord.User(state=STATE, data={"id": str(user_id), "username": "dora",
                                           "discriminator": "0", "avatar": avatar,
                                           "global_name": None})


def test_avatar_url_is_a_png_of_the_asked_size_on_discord():
    base = "https://cdn.discordapp.com"
    assert avatar_url(user("abc")) == f"{base}/avatars/80351110224678912/abc.png?size=1024"
    assert avatar_url(user("a_abc"), 256) == (
        f"{base}/avatars/80351110224678912/a_abc.png?size=256")
    default = avatar_url(user(None), size=512)
    assert default.startswith(f"{base}/embed/avatars/") and default.endswith(".png?size=512")
    for url in (avatar_url(user("abc")), default):
        assert is_allowed_url(url, DISCORD_ONLY)


# -- against the fake Discord's CDN, as the bot will use it ------------------------------------

async def test_attachment_and_avatar_from_the_fake_discord_cdn(session):
    async with FakeDiscord() as fake:
        payload = fake.add_attachment(PHOTO, "cat.jpg")
        att = discord.Attachment(data=payload, state=STATE)
        check_attachment(att, LOOPBACK, what="photo")
        assert await fetch_image_bytes(session, att.url, LOOPBACK, what="photo") == PHOTO
        fake.forget_attachment(payload)
        assert await refused(fetch_image_bytes(session, att.url, LOOPBACK, what="photo")) == (
            "I could not download the photo (Discord answered 404).")

        fake.faults.cdn_truncate_at = 1000
        later = fake.add_attachment(PHOTO, "cat.jpg")
        assert await refused(fetch_image_bytes(session, later["url"], LOOPBACK)) == (
            "Downloading the image broke off before the end.")
        fake.faults.reset()

        lie = fake.add_attachment(b"not really", "clip.png", content_type="video/mp4")
        with pytest.raises(ImageError, match=r"not an image \(it is a video\)"):
            check_attachment(discord.Attachment(data=lie, state=STATE), LOOPBACK, what="photo")

        with fake.patch():
            dora = discord.User(state=STATE, data=fake.make_user("dora", avatar=PHOTO))
            url = avatar_url(dora, size=128)
        assert url.startswith(fake.base_url) and ".png?size=128" in url
        assert await fetch_image_bytes(session, url, LOOPBACK, what="avatar") == PHOTO
