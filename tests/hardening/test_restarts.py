"""Restarts lose nothing: the real `stylebot run` process, stopped by SIGTERM or kill -9, redoes."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from tests.fakediscord import FakeDiscord, SentMessage, TypingCall
from tests.features.conftest import decoded, jpeg_bytes
from tests.hardening.processes import GRACE, TOKEN, BotProcess

ANSWER_TIMEOUT = 30.0
BIG_WORDS = "!stylize starry-night size=1024"  # with a 1024x768 photo
STATUS = re.compile(r"^(⏳ You're number \d+ in the queue\.|🎨 Painting…)$")
FIRST_IN_LINE = "⏳ You're number 1 in the queue."
SECOND_IN_LINE = "⏳ You're number 2 in the queue."
RESTARTING = "The bot is restarting; your picture will follow shortly."
REFETCH_FAILED = "I restarted and could not fetch your photo again; please send it once more."
GAVE_UP = "I could not finish your picture after restarting 3 times; please send it once more."


@pytest.fixture(scope="module")
def bot_cache(tmp_path_factory) -> Path:
    """One cache dir (compiled engine, style vectors) for every process in this module."""
    return tmp_path_factory.mktemp("bot-cache")


@pytest_asyncio.fixture(loop_scope="function")
async def bot(fake, tmp_path, bot_cache, mirror_dir) -> AsyncIterator[BotProcess]:
    """The bot process (not started): one worker, no cooldown, 512 px outputs by default."""
    config = tmp_path / "bot.toml"
    config.write_text(
        "[jobs]\nworkers = 1\ncooldown = 0.0\n"
        f"grace_period = {GRACE}\n"
        "[limits]\ndefault_output_side = 512\n"
        "[paths]\n"
        f'data_dir = "{tmp_path / "data"}"\ncache_dir = "{bot_cache}"\nmirror = "{mirror_dir}"\n'
    )
    config.chmod(0o600)
    process = BotProcess(fake, config, tmp_path / "data", tmp_path / "bot.log")
    try:
        yield process
    finally:
        if process.running:
            process.proc.kill()
            await process.proc.wait()
    assert "Traceback" not in process.log, process.log[-3000:]
    assert TOKEN not in process.log


# -- helpers -------------------------------------------------------------------------------


async def ask(fake: FakeDiscord, user: dict[str, Any], data: bytes,
              words: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """`user` posts `words` with a photo; returns the message and its attachment."""
    attachment = fake.add_attachment(data, "photo.jpg")
    message = await fake.send_message(words, author=user, attachments=[attachment])
    return message, attachment


def answers(fake: FakeDiscord, request: dict[str, Any]) -> list[SentMessage]:
    """The bot's replies to `request` that are not queue status lines."""
    return [m for m in fake.messages_created
            if m.reply_to == int(request["id"]) and not STATUS.match(m.content or "")]


async def answer(fake: FakeDiscord, request: dict[str, Any],
                 timeout: float = ANSWER_TIMEOUT) -> SentMessage:
    """Wait for the bot's next reply to `request` that is a painting or a sentence."""
    seen = {m.seq for m in answers(fake, request)}
    return await fake.wait_for(
        lambda m: m.source == "channel" and m.method == "POST" and m.seq not in seen
        and m.reply_to == int(request["id"]) and not STATUS.match(m.content or ""),
        timeout, kind=SentMessage, what=f"the answer to {request['content']!r}")


async def painting(fake: FakeDiscord, request: dict[str, Any], size: tuple[int, int],
                   style: str) -> np.ndarray:
    """Wait for the painting replying to `request` (whenever it came); check size and caption.

    Redone jobs fetch their inputs again concurrently, so they may be painted in any order:
    a painting posted before the wait starts counts too.
    """
    reply = await fake.wait_for(
        lambda m: m.source == "channel" and m.method == "POST" and bool(m.files)
        and m.reply_to == int(request["id"]),
        ANSWER_TIMEOUT, kind=SentMessage, what=f"the painting for {request['content']!r}")
    assert reply.files, f"expected a painting, got {reply.content!r}"
    assert style in (reply.content or "")
    image = decoded(reply.file.data)
    assert image.size == size
    return np.asarray(image, float)


def results(fake: FakeDiscord, request: dict[str, Any]) -> list[SentMessage]:
    return [m for m in answers(fake, request) if m.files]


async def typing_started(fake: FakeDiscord, after: int) -> None:
    """Wait for a typing indicator after `after`: the (first) job is in the worker."""
    await fake.wait_for(kind=TypingCall, after=after, timeout=10,
                        what="the typing indicator of a started job")


async def in_line(fake: FakeDiscord, request: dict[str, Any], line: str) -> None:
    """Wait for the queue status line `line` replying to `request`."""
    await fake.wait_for(lambda m: m.reply_to == int(request["id"]) and m.content == line, 10,
                        kind=SentMessage, what=f"{line!r} for {request['content']!r}")


def figure(name: str, text: str) -> None:
    """Print a measured figure (shown with `pytest -s`)."""
    print(f"\nFIGURE {name}: {text}")


# -- tests ---------------------------------------------------------------------------------


async def test_sigterm_finishes_the_running_job_and_the_queued_ones_follow_the_restart(
        fake, bot, photo):
    big, small = jpeg_bytes(photo("chelsea", (1024, 768))), jpeg_bytes(photo("chelsea"))
    await bot.start()
    bot.hold()  # alice's job stays in the worker until the queued ones have been told
    mark = fake.mark()  # each asks once the one before is accepted (downloads race)
    alice, _ = await ask(fake, fake.alice, big, BIG_WORDS)
    await typing_started(fake, mark)
    bob, _ = await ask(fake, fake.bob, small, "!stylize the-scream")
    await in_line(fake, bob, FIRST_IN_LINE)
    carol, _ = await ask(fake, fake.carol, small, "!stylize udnie")
    await in_line(fake, carol, SECOND_IN_LINE)
    assert not results(fake, alice), "the first job ended before SIGTERM"

    stopping = asyncio.ensure_future(bot.stop(signal.SIGTERM))
    for queued in (bob, carol):  # told at once, while alice's job still runs
        assert (await answer(fake, queued)).content == RESTARTING
    bot.release()
    took = await stopping
    (alices,) = results(fake, alice)  # her job finished within the grace period
    assert decoded(alices.file.data).size == (1024, 768)
    for queued in (bob, carol):
        assert [m.content for m in answers(fake, queued)] == [RESTARTING]
    journaled = bot.journal()
    assert sorted(entry["message_id"] for _, entry in journaled) == [int(bob["id"]),
                                                                    int(carol["id"])]

    await bot.start()
    bobs = await painting(fake, bob, (451, 300), "the-scream")
    carols = await painting(fake, carol, (451, 300), "udnie")
    assert np.abs(bobs - carols).mean() > 10  # each painted in its own style
    await bot.stop()
    assert bot.journal() == []
    assert [len(results(fake, r)) for r in (alice, bob, carol)] == [1, 1, 1]
    figure("restart.sigterm", f"exit after SIGTERM {took:.1f} s (grace {GRACE:g} s); "
           f"starts {', '.join(f'{s:.1f}' for s in bot.starts)} s")
    fake.assert_clean()


async def test_kill_9_mid_job_is_redone_for_message_and_slash(fake, bot, photo):
    big, small = jpeg_bytes(photo("chelsea", (1024, 768))), jpeg_bytes(photo("chelsea"))
    await bot.start()
    bot.hold()  # killed mid-job, deterministically
    mark = fake.mark()
    alice, _ = await ask(fake, fake.alice, big, BIG_WORDS)
    await typing_started(fake, mark)
    slash = await fake.send_interaction(
        "stylize", {"content": fake.add_attachment(small, "bob.jpg"), "style": "the-scream"},
        user=fake.bob)
    await fake.wait_for(lambda m: m.token == slash.token and m.content == FIRST_IN_LINE, 10,
                        kind=SentMessage, what="bob's queue position")
    assert not fake.uploads, "a job ended before the kill"
    await bot.stop(signal.SIGKILL)
    bot.release()
    assert len(bot.journal()) == 2

    await bot.start()
    await painting(fake, alice, (1024, 768), "starry-night")
    followup = await slash.followup(timeout=ANSWER_TIMEOUT)
    assert "the-scream" in (followup.content or "")
    assert decoded(followup.file.data).size == (451, 300)
    await bot.stop()
    assert bot.journal() == []
    assert len(results(fake, alice)) == 1 and len(fake.uploads) == 2
    fake.assert_clean()


async def test_inputs_gone_after_a_restart_get_one_sentence(fake, bot, photo):
    await bot.start()
    bot.hold()
    mark = fake.mark()
    alice, attachment = await ask(fake, fake.alice, jpeg_bytes(photo("chelsea", (1024, 768))),
                                  BIG_WORDS)
    await typing_started(fake, mark)
    await bot.stop(signal.SIGKILL)
    bot.release()
    fake.forget_attachment(attachment)  # as if the CDN link had expired

    await bot.start()
    reply = await answer(fake, alice)
    assert reply.content == REFETCH_FAILED and not reply.files
    await bot.stop()
    assert bot.journal() == []
    assert [m.content for m in answers(fake, alice)] == [REFETCH_FAILED]
    fake.assert_clean()


async def test_a_request_that_keeps_dying_is_given_up_after_3_restarts(fake, bot, photo):
    await bot.start()
    bot.hold()
    mark = fake.mark()
    alice, _ = await ask(fake, fake.alice, jpeg_bytes(photo("chelsea", (1024, 768))), BIG_WORDS)
    await typing_started(fake, mark)
    await bot.stop(signal.SIGKILL)
    bot.release()
    bot.bump_attempts(3)  # three earlier restarts that each died while painting it

    await bot.start()
    reply = await answer(fake, alice)
    assert reply.content == GAVE_UP and not reply.files
    await bot.stop()
    assert bot.journal() == []
    assert not fake.uploads
    fake.assert_clean()


async def test_a_slash_request_whose_token_is_refused_is_answered_in_its_channel(fake, bot,
                                                                                 photo):
    await bot.start()
    bot.hold()
    mark = fake.mark()
    alice, _ = await ask(fake, fake.alice, jpeg_bytes(photo("chelsea", (1024, 768))), BIG_WORDS)
    await typing_started(fake, mark)
    slash = await fake.send_interaction(
        "stylize", {"content": fake.add_attachment(jpeg_bytes(photo("chelsea")), "bob.jpg"),
                    "style": "udnie"}, user=fake.bob)
    await fake.wait_for(lambda m: m.token == slash.token and m.content == FIRST_IN_LINE, 10,
                        kind=SentMessage, what="bob's queue position")
    await bot.stop(signal.SIGKILL)
    bot.release()
    fake.faults.fail("POST", r"/webhooks/\d+/[^/]+", 404,  # as Discord once the token expired
                     body={"message": "Unknown Webhook", "code": 10015})

    await bot.start()
    await painting(fake, alice, (1024, 768), "starry-night")
    posted = await fake.wait_for(
        lambda m: m.source == "channel" and m.method == "POST" and bool(m.files)
        and (m.content or "").startswith(fake.mention(fake.bob)), ANSWER_TIMEOUT,
        kind=SentMessage, what="bob's painting in the channel")
    assert "udnie" in posted.content
    assert decoded(posted.file.data).size == (451, 300)
    allowed = posted.allowed_mentions  # pings bob, and nobody else
    assert [int(u) for u in allowed["users"]] == [int(fake.bob["id"])], allowed
    assert allowed.get("parse") == [] and not allowed.get("roles"), allowed
    assert not slash.followups
    await bot.stop()
    assert bot.journal() == []
    fake.assert_clean()
