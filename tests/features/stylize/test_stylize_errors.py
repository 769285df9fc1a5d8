"""Every `!stylize` failure is one friendly sentence replying to the user: real bot and engine."""

from __future__ import annotations

import io
import logging
import re
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from PIL import Image

from bot.engine.lite import LiteEngine
from tests.fakediscord import FakeDiscord, SentMessage
from tests.features.conftest import jpeg_bytes

MB = 1024 * 1024
TRACEBACK_MARKERS = ("Traceback", 'File "', "Error:", "Exception", "<", "\n")


def bot_replies(fake: FakeDiscord, request: dict[str, Any]) -> list[SentMessage]:
    """Every message the bot posted in reply to the user's request message."""
    return [m for m in fake.messages_created if m.reply_to == int(request["id"])]


def cdn_downloads(fake: FakeDiscord) -> list[str]:
    """Paths of the attachment downloads the fake CDN was asked for."""
    return [r.path for r in fake.requests
            if r.path.startswith(("/attachments/", "/media/attachments/"))]


async def the_error_reply(fake: FakeDiscord, request: dict[str, Any],
                          timeout: float = 10.0) -> SentMessage:
    """Wait for the bot's reply to `request` and check it is one friendly sentence, no upload."""
    reply = await fake.wait_for(lambda r: r.reply_to == int(request["id"]), timeout,
                                kind=SentMessage, what="an error reply")
    assert_friendly_sentence(reply)
    return reply


def assert_friendly_sentence(reply: SentMessage) -> None:
    """A single short sentence in a reply: no traceback, no file, no buttons, no pings."""
    text = reply.content or ""
    assert reply.source == "channel" and reply.method == "POST", reply
    assert reply.message_reference is not None, "the error is not a reply to the user"
    assert not reply.files, f"an error reply carried files: {reply.files}"
    assert not reply.embeds and not reply.components, reply
    assert (reply.allowed_mentions or {}).get("parse") == [], reply.allowed_mentions
    assert 10 <= len(text) <= 300, text
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, f"{marker!r} in error reply {text!r}"
    assert text[0].isupper() or text[0] in "“\"`", text  # starts like a sentence
    assert text.endswith((".", "?")), text


def assert_only_reply(fake: FakeDiscord, request: dict[str, Any], reply: SentMessage) -> None:
    """After the bot closed: that reply was its only answer and nothing was uploaded at all."""
    assert [m.seq for m in bot_replies(fake, request)] == [reply.seq]
    assert fake.uploads == []
    fake.assert_clean()


# -- inputs --------------------------------------------------------------------------------------


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width`×`height` (a decompression bomb's header)."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def noise_png(width: int, height: int) -> bytes:
    """A PNG of random pixels: about 3 bytes a pixel, whatever the compressor tries."""
    pixels = np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


@dataclass
class Case:
    """One bad request: the words, how to build the attachment, settings, faults, the sentence."""

    words: str
    expected: str  # a regex the reply must match
    attachment: Callable[[FakeDiscord, Any], dict[str, Any]]
    limits: dict[str, Any] = field(default_factory=dict)
    faults: dict[str, Any] = field(default_factory=dict)
    downloads: int | None = None  # how many CDN downloads must have happened (None: any)


def cat(fake: FakeDiscord, photo) -> dict[str, Any]:
    return fake.add_attachment(jpeg_bytes(photo("chelsea")), "cat.jpg")


CASES = {
    "text named png": Case(
        "!stylize starry-night",
        r"^The photo is not a PNG, JPEG, GIF, WebP, BMP or TIFF image\.$",
        lambda fake, photo: fake.add_attachment(b"just some text, honestly\n" * 20, "cat.png")),
    "truncated jpeg": Case(
        "!stylize starry-night", r"^The photo is damaged or incomplete\.$",
        lambda fake, photo: fake.add_attachment(
            (data := jpeg_bytes(photo("chelsea")))[: len(data) // 2], "cat.jpg")),
    "reported too big": Case(
        "!stylize starry-night", r"^The photo is 9\.5 MB; the limit is 1 MB\.$",
        lambda fake, photo: fake.add_attachment(
            jpeg_bytes(photo("chelsea", (64, 48))), "cat.jpg", size=10_000_000),
        limits={"max_input_bytes": MB}, downloads=0),
    "body too big, size lied": Case(
        "!stylize starry-night",
        r"^The photo (is 1\.\d MB; the limit is 1 MB|is larger than the limit of 1 MB)\.$",
        lambda fake, photo: fake.add_attachment(noise_png(800, 800), "noise.png", size=900),
        limits={"max_input_bytes": MB}, downloads=1),
    "pixel bomb": Case(
        "!stylize starry-night",
        r"^The photo (is 30000×30000 pixels, more than the limit of 40 megapixels"
        r"|has too many pixels to process safely)\.$",
        lambda fake, photo: fake.add_attachment(png_claiming(30_000, 30_000), "bomb.png",
                                                width=40, height=30)),
    "unknown preset": Case(
        "!stylize starry-nite", r"^There is no preset called “starry-nite”\. "
                                r"Did you mean starry-night[,?]", cat, downloads=0),
    "no style": Case("!stylize", r"^Pick a style: a preset such as starry-night", cat, downloads=0),
    "too many styles": Case(
        "!stylize starry-night great-wave the-scream", r"^I can blend at most 2 styles at once\.$",
        cat, limits={"max_styles": 2}, downloads=0),
    "strength 2": Case("!stylize starry-night strength=2",
                       r"^Strength must be between 0 and 1, e\.g\. strength=0\.6\.$", cat,
                       downloads=0),
    "colors blue": Case("!stylize starry-night colors=blue",
                        r"^Colors must be keep or style, e\.g\. colors=keep\.$", cat, downloads=0),
    "size big": Case("!stylize starry-night size=big",
                     r"^Size must be a whole number of pixels, e\.g\. size=1536\.$", cat,
                     downloads=0),
    "unknown option": Case("!stylize starry-night foo=1",
                           r"^I don't know the option “foo”; options are strength=0\.\.1, "
                           r"colors=keep\|style and size=PIXELS\.$", cat, downloads=0),
    "cdn 404": Case("!stylize starry-night",
                    r"^I could not download the photo \(Discord answered 404\)\.$", cat,
                    faults={"cdn_status": 404}, downloads=1),
    "cdn 500": Case("!stylize starry-night",
                    r"^I could not download the photo \(Discord answered 500\)\.$", cat,
                    faults={"cdn_status": 500}, downloads=1),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_bad_request_gets_one_sentence(case: Case, fake_discord, make_bot, settings, photo):
    bot = make_bot(settings, limits=case.limits)
    async with fake_discord.running(bot):
        for name, value in case.faults.items():
            setattr(fake_discord.faults, name, value)
        request = await fake_discord.send_message(
            case.words, attachments=[case.attachment(fake_discord, photo)])
        reply = await the_error_reply(fake_discord, request)
    assert re.search(case.expected, reply.content), reply.content
    assert_only_reply(fake_discord, request, reply)
    if case.downloads is not None:
        assert len(cdn_downloads(fake_discord)) == case.downloads, cdn_downloads(fake_discord)


async def test_a_trickling_download_is_stopped_at_the_timeout(fake_discord, make_bot, settings,
                                                              photo):
    bot = make_bot(settings, limits={"download_timeout": 0.5})
    async with fake_discord.running(bot):
        fake_discord.faults.cdn_trickle = 2_000  # the ~40 KB photo would take ~20 s
        started = time.monotonic()
        request = await fake_discord.send_message(
            "!stylize starry-night", attachments=[cat(fake_discord, photo)])
        reply = await the_error_reply(fake_discord, request, timeout=5)
        took = reply.time - started
        fake_discord.faults.reset()
    assert reply.content == "Downloading the photo took longer than 0.5 s.", reply.content
    assert took >= 0.5, f"answered after {took:.2f} s"  # the sentence says the timeout fired
    assert_only_reply(fake_discord, request, reply)


async def test_a_job_over_its_time_limit_is_stopped(fake_discord, make_bot, settings, photo):
    bot = make_bot(settings, limits={"job_timeout": 0.01})
    async with fake_discord.running(bot):
        request = await fake_discord.send_message(
            "!stylize starry-night", attachments=[cat(fake_discord, photo)])
        reply = await the_error_reply(fake_discord, request)
    assert reply.content == "The job took longer than 0.01 s and was stopped."
    assert_only_reply(fake_discord, request, reply)


def logged_error_id(reply: SentMessage, caplog) -> tuple[str, logging.LogRecord]:
    """The error id the reply quotes, and the ERROR log record (with a traceback) naming it."""
    match = re.search(r"\(error ([0-9a-f]{6})\); it has been logged\.$", reply.content or "")
    assert match, reply.content
    error_id = match.group(1)
    records = [r for r in caplog.records
               if r.levelno >= logging.ERROR and error_id in r.getMessage()]
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    assert records[0].exc_info is not None, "the log does not carry the traceback"
    return error_id, records[0]


async def test_an_engine_error_quotes_a_logged_error_id(fake_discord, make_bot, settings, photo,
                                                        model_paths, tmp_path, caplog):
    # A real engine padding to multiples of 2: the transfer network refuses a 450 px wide photo.
    engine = LiteEngine(*model_paths, threads=2, vector_dir=tmp_path / "vectors",
                        size_bucket=2)
    try:
        bot = make_bot(settings)
        bot.engine = engine  # used from setup_hook on; the bot leaves closing it to us
        async with fake_discord.running(bot):
            att = fake_discord.add_attachment(jpeg_bytes(photo("chelsea", (450, 300))), "cat.jpg")
            request = await fake_discord.send_message("!stylize starry-night", attachments=[att])
            reply = await the_error_reply(fake_discord, request, timeout=20)
    finally:
        engine.close()
    assert reply.content.startswith(
        "The transfer network needs multiples of 4, not 450x300 (error "), reply.content
    _, record = logged_error_id(reply, caplog)
    assert "EngineError" in caplog.text
    assert record.name == "bot.features.stylize.cog"
    assert_only_reply(fake_discord, request, reply)


async def test_an_unexpected_error_quotes_a_logged_error_id(fake_discord, make_bot, settings,
                                                            photo, caplog):
    # An upload cap below what any JPEG needs makes the encoder raise a plain ValueError.
    bot = make_bot(settings, limits={"max_upload_bytes": 1_000})
    async with fake_discord.running(bot):
        request = await fake_discord.send_message(
            "!stylize starry-night", attachments=[cat(fake_discord, photo)])
        reply = await the_error_reply(fake_discord, request)
    assert reply.content.startswith("Something went wrong (error "), reply.content
    logged_error_id(reply, caplog)
    assert "ValueError" in caplog.text
    assert_only_reply(fake_discord, request, reply)

