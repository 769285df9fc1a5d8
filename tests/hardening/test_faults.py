"""Faults end to end (real bot, real engine, loopback Discord): CDN, uploads, gateway, engine."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import pytest

from bot.errors import EngineError
from tests.fakediscord import FakeDiscord, SentMessage
from tests.fakediscord import fixtures as fake_fixtures
from tests.features import conftest as bot_fixtures
from tests.features.conftest import decoded, jpeg_bytes

# The end-to-end fixtures of tests/cogs, for this directory too.
fake_discord = fake_fixtures.fake_discord
settings = bot_fixtures.settings
make_bot = bot_fixtures.make_bot

DOWNLOAD_TIMEOUT = 0.5  # limits.download_timeout in these tests
STATUS = re.compile(r"^(⏳ You're number \d+ in the queue\.|🎨 Painting…)$")
SOMETHING_WRONG = re.compile(
    r"^Something went wrong \(error ([0-9a-f]{6})\); it has been logged\.$")


# -- helpers -------------------------------------------------------------------------------


def answers(fake: FakeDiscord, request: dict[str, Any]) -> list[SentMessage]:
    """The bot's outcome messages for `request`: replies to it that are not queue status lines."""
    return [m for m in fake.messages_created
            if m.reply_to == int(request["id"]) and not STATUS.match(m.content or "")]


async def answer(fake: FakeDiscord, request: dict[str, Any], timeout: float = 30) -> SentMessage:
    """Wait for the bot's outcome message for `request` (a painting or a sentence)."""
    return await fake.wait_for(
        lambda m: m.source == "channel" and m.method == "POST"
        and m.reply_to == int(request["id"]) and not STATUS.match(m.content or ""),
        timeout, kind=SentMessage, what=f"the answer to {request['content']!r}")


def assert_sentence(text: str | None) -> str:
    """One line, one sentence, no traceback."""
    assert text and "\n" not in text and "Traceback" not in text, text
    assert text.endswith(".") and text[0].isupper(), text
    return text


async def assert_serves(fake: FakeDiscord, data: bytes, size: tuple[int, int],
                        words: str = "!stylize starry-night") -> None:
    """A normal request right after a fault gets its painting at the right size."""
    request = await fake.send_message(words, attachments=[fake.add_attachment(data, "ok.jpg")])
    reply = await answer(fake, request)
    assert reply.files, f"expected a painting, got {reply.content!r}"
    assert decoded(reply.file.data).size == size


def figure(name: str, text: str) -> None:
    """Print a measured figure (shown with `pytest -s`; docs/reliability.md quotes them)."""
    print(f"\nFIGURE {name}: {text}")


# -- CDN -----------------------------------------------------------------------------------

TOO_SLOW = f"Downloading the photo took longer than {DOWNLOAD_TIMEOUT:g} s."


@pytest.mark.parametrize(("fault", "expected", "stalls"), [
    ("500", "I could not download the photo (Discord answered 500).", False),
    ("404", "I could not download the photo (Discord answered 404).", False),
    ("timeout", TOO_SLOW, True),
    ("trickle", TOO_SLOW, True),
])
async def test_cdn_fault_gets_one_sentence_within_the_timeout(fake_discord, make_bot, settings,
                                                              photo, fault, expected, stalls):
    cat = photo("chelsea")
    data = jpeg_bytes(cat)
    bot = make_bot(settings, limits={"download_timeout": DOWNLOAD_TIMEOUT})
    async with fake_discord.running(bot):
        attachment = fake_discord.add_attachment(data, "cat.jpg")
        faults = fake_discord.faults
        if fault == "500":
            faults.cdn_status, faults.cdn_status_count = 500, 1
        elif fault == "404":
            fake_discord.forget_attachment(attachment)  # expired, as Discord's links do
        elif fault == "timeout":
            faults.cdn_delay = 4 * DOWNLOAD_TIMEOUT
        else:
            assert len(data) > 4 * 2000 * DOWNLOAD_TIMEOUT
            faults.cdn_trickle = 2000  # bytes per second: the photo would take many seconds
        start = time.monotonic()
        request = await fake_discord.send_message("!stylize starry-night",
                                                  attachments=[attachment])
        reply = await answer(fake_discord, request)
        took = reply.time - start
        faults.reset()
        await assert_serves(fake_discord, data, cat.size)
    assert assert_sentence(reply.content) == expected
    assert not reply.files
    assert len(answers(fake_discord, request)) == 1
    if stalls:  # the reply says the timeout fired, and it cannot fire early (no upper bound:
        # the stalled download would have taken 4x the timeout or more, and its painting
        # would have been the reply)
        assert took >= DOWNLOAD_TIMEOUT, took
    figure(f"cdn-{fault}", f"reply after {took:.2f} s (download_timeout {DOWNLOAD_TIMEOUT} s)")
    fake_discord.assert_clean()


# -- uploads -------------------------------------------------------------------------------


@pytest.mark.parametrize(("n429", "n500"), [(1, 0), (0, 1), (1, 1)],
                         ids=["429", "500", "429-then-500"])
async def test_upload_retried_after_429_and_500(fake_discord, make_bot, settings, photo,
                                                n429, n500):
    cat = photo("chelsea")
    fake_discord.faults.upload_429_count = n429
    fake_discord.faults.upload_retry_after = 0.3
    fake_discord.faults.upload_500_count = n500
    async with fake_discord.running(make_bot(settings)):
        start = time.monotonic()
        request = await fake_discord.send_message(
            "!stylize starry-night", attachments=[(jpeg_bytes(cat), "cat.jpg")])
        reply = await answer(fake_discord, request)
        took = reply.time - start
    posts = [r.status for r in fake_discord.requests
             if r.method == "POST" and r.path.endswith(f"/channels/{fake_discord.channel_id}"
                                                         "/messages")]
    assert posts == [429] * n429 + [500] * n500 + [200], posts
    [image] = answers(fake_discord, request)  # exactly one message for the request
    assert image is reply and decoded(image.file.data).size == cat.size
    assert len(fake_discord.uploads) == 1  # failed attempts are not recorded as messages
    assert took >= 0.3 * n429 + 1.0 * n500  # discord.py waited retry_after, then 1 s after a 500
    figure(f"upload-{n429}x429-{n500}x500", f"attempts {posts}, image after {took:.2f} s")
    fake_discord.assert_clean()


# -- gateway -------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["close", "abort", "invalid-session"])
async def test_gateway_lost_mid_job_the_result_is_still_posted(fake_discord, make_bot, settings,
                                                               photo, gated_engine, how):
    big = photo("chelsea", (1024, 681))
    small = photo("chelsea", (192, 128))
    bot = make_bot(settings)
    bot.engine, gate = gated_engine  # the job paints only once the gateway is back
    async with fake_discord.running(bot):
        mark = fake_discord.mark()
        request = await fake_discord.send_message(
            "!stylize starry-night size=1024", attachments=[(jpeg_bytes(big), "big.jpg")])
        await fake_discord.next_typing(timeout=10)  # the job has started
        start = time.monotonic()
        if how == "invalid-session":
            await fake_discord.invalidate_session()  # not resumable: a fresh IDENTIFY
        else:
            await fake_discord.drop_gateway(abort=how == "abort")  # RESUME
        back = time.monotonic() - start
        gate.set()
        reply = await answer(fake_discord, request)
        await assert_serves(fake_discord, jpeg_bytes(small), small.size)  # events flow again
    events = [e for e in fake_discord.gateway_events if e.seq > mark]
    dropped = next(e for e in events if e.event == "close")
    assert dropped.seq < reply.seq, "the result was posted before the connection was lost"
    assert decoded(reply.file.data).size == big.size
    assert len(answers(fake_discord, request)) == 1
    kinds = [e.event for e in events if e.event in ("identify", "resume")]
    assert kinds == (["identify"] if how == "invalid-session" else ["resume"]), kinds
    figure(f"gateway-{how}", f"reconnected ({kinds[0]}) in {back:.2f} s; result still posted")
    fake_discord.assert_clean()


# -- engine and worker ---------------------------------------------------------------------

MARKED = "strength=0.37"  # the request the faulty engine fails on


class FaultyEngine:
    """Fault injection, not a mock: the real lite engine, except that painting a request of
    strength 0.37 raises `failure` inside the worker thread."""

    def __init__(self, real, failure: BaseException) -> None:
        self._real = real
        self._failure = failure
        self.name = real.name

    def stylize(self, content, styles, strength: float = 1.0):
        if abs(strength - 0.37) < 1e-9:
            raise self._failure
        return self._real.stylize(content, styles, strength)

    def warm_up(self, styles) -> None:
        self._real.warm_up(styles)

    def close(self) -> None:  # the session's engine is closed by its fixture
        pass


@pytest.mark.parametrize("failure", [
    RuntimeError("inference failed"), MemoryError(), EngineError("The style network failed."),
    SystemExit(1), KeyboardInterrupt(),
], ids=lambda e: type(e).__name__)
async def test_engine_failure_is_told_with_an_error_id_and_the_next_job_works(
        fake_discord, make_bot, settings, photo, caplog, failure):
    cat = photo("chelsea", (240, 160))
    data = jpeg_bytes(cat)
    bot = make_bot(settings, jobs={"workers": 1})
    bot.engine = FaultyEngine(bot.engine, failure)
    caplog.set_level(logging.ERROR, logger="bot")
    async with fake_discord.running(bot):
        request = await fake_discord.send_message(
            f"!stylize starry-night {MARKED}", attachments=[(data, "cat.jpg")])
        reply = await answer(fake_discord, request)
        for _ in range(2):  # the worker slot is free again, twice over
            await assert_serves(fake_discord, data, cat.size)
    text = assert_sentence(reply.content)
    if isinstance(failure, EngineError):
        match = re.fullmatch(r"The style network failed \(error ([0-9a-f]{6})\); "
                             r"it has been logged\.", text)
    else:
        match = SOMETHING_WRONG.match(text)
    assert match, text
    assert not reply.files and len(answers(fake_discord, request)) == 1
    logged = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info, "the error id must lead to a logged traceback"
    figure(f"engine-{type(failure).__name__}", f"reply {text!r}; next two jobs painted")
    fake_discord.assert_clean()
