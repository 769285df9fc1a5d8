"""Load end to end (real bot, real engine, loopback Discord): a 200-request burst and a soak."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import re
import threading
import time
from collections import Counter
from typing import Any

import psutil

from tests.fakediscord import FakeDiscord, SentMessage
from tests.fakediscord import fixtures as fake_fixtures
from tests.fakediscord.ratelimits import RateLimits
from tests.features import conftest as bot_fixtures
from tests.features.conftest import decoded, jpeg_bytes
from tests.features.stylize.answers import Asked, answers, sentence

# The end-to-end fixtures of tests/cogs, for this directory too.
fake_discord = fake_fixtures.fake_discord
settings = bot_fixtures.settings
make_bot = bot_fixtures.make_bot

STATUS = re.compile(r"^(⏳ You're number \d+ in the queue\.|🎨 Painting…)$")
FULL = "The queue is full right now; please try again in a few minutes."
BUSY = "You already have a job running; wait for it to finish."
PRESETS = ("starry-night", "great-wave", "the-scream", "udnie", "the-kiss")
TINY = (96, 64)  # photo size; painted at size=64, so 64×43 outputs
PACE = 0.01  # seconds between two requests of the burst (spreads it; no assertion needs it)
MAX_QUEUE = 20


def outcomes(fake: FakeDiscord, request_ids: list[int]) -> dict[int, list[SentMessage]]:
    """Outcome messages (a painting or a sentence, not a status line) per request id: replies,
    and refusals folded into one message naming their users while the channel's budget is
    short (tests/features/stylize/answers.py)."""
    asked = [Asked(rid, int(fake.message(rid)["author"]["id"]),
                   int(fake.message(rid)["channel_id"])) for rid in request_ids]
    return answers(fake.messages_created, asked)


async def all_answered(fake: FakeDiscord, request_ids: list[int], timeout: float) -> float:
    """Wait until every request has an outcome; return when the last one came (monotonic)."""
    deadline = time.monotonic() + timeout
    while True:
        found = outcomes(fake, request_ids)
        if all(found.values()):
            return max(messages[0].time for messages in found.values())
        if time.monotonic() > deadline:
            missing = [rid for rid, messages in found.items() if not messages]
            raise AssertionError(f"{len(missing)} requests unanswered after {timeout} s")
        await asyncio.sleep(0.1)


async def statuses_removed(fake: FakeDiscord, timeout: float) -> None:
    """Wait until every queue status line the bot posted has been deleted again."""
    deadline = time.monotonic() + timeout
    while True:
        deleted = {d.message_id for d in fake.messages_deleted}
        left = [m for m in fake.messages_created
                if STATUS.match(m.content or "") and m.message_id not in deleted]
        if not left:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(left)} status lines left behind, e.g. {left[0]!r}")
        await asyncio.sleep(0.1)


def tiny_photos(photo) -> list[bytes]:
    """A few different small photos as JPEG bytes."""
    return [jpeg_bytes(photo(name, TINY)) for name in ("chelsea", "coffee", "astronaut")]


async def all_decided(fake: FakeDiscord, bot, request_ids: list[int], timeout: float) -> None:
    """Wait until each request is either refused (one outcome message) or in the job queue."""
    deadline = time.monotonic() + timeout
    while True:
        refused = sum(1 for messages in outcomes(fake, request_ids).values() if messages)
        queued = bot.jobs.stats()["submitted"]
        if refused + queued == len(request_ids):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout} s, {refused} refused and {queued} queued "
                                 f"of {len(request_ids)}")
        await asyncio.sleep(0.05)


async def test_burst_of_200_requests_from_50_users(fake_discord, make_bot, settings, photo,
                                                   gated_engine):
    """Four rounds over 50 users while the worker is held: exactly 1 running + MAX_QUEUE waiting
    jobs are admitted, each from a different user (per_user = 1); every other request of those
    users is told it is busy, every request of the others that the queue is full. Then the
    gate opens and the admitted ones are all painted."""
    users = [fake_discord.make_user(f"user{i}") for i in range(50)]
    pictures = tiny_photos(photo)
    bot = make_bot(settings, jobs={"workers": 1, "max_queue": MAX_QUEUE, "per_user": 1})
    engine, gate = gated_engine
    bot.engine = engine
    requests: list[dict[str, Any]] = []
    async with fake_discord.running(bot):
        heartbeat_mark = len(fake_discord.gateway.heartbeats)
        gateway_mark = fake_discord.mark()
        start = time.monotonic()
        for i in range(200):  # four rounds over the 50 users
            await asyncio.sleep(PACE)
            attachment = fake_discord.add_attachment(pictures[i % 3], "photo.jpg")
            requests.append(await fake_discord.send_message(
                f"!stylize {PRESETS[i % len(PRESETS)]} size=64", author=users[i % 50],
                attachments=[attachment]))
        sent = time.monotonic() - start
        ids = [int(r["id"]) for r in requests]
        await all_decided(fake_discord, bot, ids, timeout=60)
        gate.set()
        last = await all_answered(fake_discord, ids, timeout=60)
        drained = last - start
        await statuses_removed(fake_discord, timeout=10)
        gap = fake_discord.gateway.max_heartbeat_gap()
        beats = list(fake_discord.gateway.heartbeats)[heartbeat_mark:]
        reconnects = [e.event for e in fake_discord.gateway_events
                      if e.seq > gateway_mark and e.event in ("close", "identify", "resume")]
    interval = fake_discord.gateway.heartbeat_interval
    found = outcomes(fake_discord, ids)
    counts = Counter()
    painted_for: set[int] = set()
    for request in requests:
        [message] = found[int(request["id"])]  # exactly one outcome per request
        if message.files:
            assert decoded(message.file.data).size == (64, 43)
            counts["image"] += 1
            painted_for.add(int(request["author"]["id"]))
        else:
            assert sentence(message.content or "") in (FULL, BUSY), message.content
            counts["full" if sentence(message.content or "") == FULL else "busy"] += 1
    admitted = 1 + MAX_QUEUE  # one painting, MAX_QUEUE waiting
    assert len(painted_for) == counts["image"] == admitted, counts
    busy = sum(1 for r in requests if int(r["author"]["id"]) in painted_for) - admitted
    assert counts == {"image": admitted, "busy": busy, "full": 200 - admitted - busy}, counts
    assert busy == admitted * 3  # each admitted user's three other requests
    statuses = [m for m in fake_discord.messages_created if STATUS.match(m.content or "")]
    assert threading.get_ident() not in engine.threads  # painting never ran on the event loop
    assert not reconnects, reconnects
    assert beats and all(b.acked for b in beats)
    # Timings are figures, not assertions (speed targets live in benchmarks/).
    print(f"\nFIGURE burst: 200 requests from 50 users sent in {sent:.2f} s with the worker "
          f"held, the last answer {drained:.2f} s after the first request: {counts['image']} "
          f"images, {counts['full']} queue-full, {counts['busy']} busy; {len(statuses)} status "
          f"lines, all removed; {len(beats)} heartbeats all acked, largest gap {gap:.2f} s "
          f"(interval {interval} s); no reconnects")
    fake_discord.assert_clean()


_LIBC = ctypes.CDLL(ctypes.util.find_library("c"))


def resources() -> tuple[float, int]:
    """(RSS in MiB, open file descriptors) of this process, after a garbage collection and
    after glibc hands back the free memory it holds (in a process that has run the whole
    suite, the allocator's retained free pages otherwise swing by several MiB)."""
    gc.collect()
    _LIBC.malloc_trim(0)
    me = psutil.Process()
    return me.memory_info().rss / 2**20, me.num_fds()


def forget_job(fake: FakeDiscord, request: dict[str, Any], reply: SentMessage) -> None:
    """Drop what the fake Discord itself keeps of a finished job (the fake shares this process,
    and its records, messages, CDN files and replay buffer are not the bot's memory)."""
    for message in (request, reply.message or {}):
        for attachment in message.get("attachments") or []:
            fake.forget_attachment(attachment)
        fake.world.messages.pop(int(message.get("id", 0)), None)
    if fake.gateway.session is not None:
        fake.gateway.session.buffer.clear()
    fake.recorder.clear()


SOAK_JOBS = 150
RSS_GROWTH_MIB = 6.0  # allowed RSS growth from job 50 to job 150


async def test_soak_150_jobs_back_to_back_memory_and_fds_flat(fake_discord, make_bot, settings,
                                                              photo):
    pictures = tiny_photos(photo)
    curve: list[tuple[int, float, int]] = []
    painted, reconnects = 0, []
    # Discord's limits stay on, with windows 10 times shorter: one channel at 5 messages per 5 s
    # would make this a 150 s test of the rate limit instead of the memory.
    fake_discord.limiter.limits = RateLimits().scaled(0.1)
    async with fake_discord.running(make_bot(settings)):
        mark = fake_discord.mark()
        for job in range(1, SOAK_JOBS + 1):
            request = await fake_discord.send_message(
                f"!stylize {PRESETS[job % len(PRESETS)]} size=64",
                attachments=[fake_discord.add_attachment(pictures[job % 3], "photo.jpg")])
            reply = await fake_discord.next_message(timeout=30)
            assert reply.reply_to == int(request["id"]) and reply.files, reply
            assert decoded(reply.file.data).size == (64, 43)
            painted += 1
            fake_discord.assert_clean()
            reconnects += [e.event for e in fake_discord.gateway_events
                           if e.seq > mark and e.event in ("close", "identify", "resume")]
            forget_job(fake_discord, request, reply)
            if job % 25 == 0:
                curve.append((job, *resources()))
    shown = ", ".join(f"{job}: {rss:.1f} MiB/{fds} fds" for job, rss, fds in curve)
    print(f"\nFIGURE soak: {SOAK_JOBS} jobs; RSS/open fds after job {shown}")
    at = {job: (rss, fds) for job, rss, fds in curve}
    growth = at[SOAK_JOBS][0] - at[50][0]
    assert growth < RSS_GROWTH_MIB, f"RSS grew {growth:.1f} MiB from job 50 to {SOAK_JOBS}"
    assert max(fds for job, _, fds in curve if job >= 50) <= at[50][1] + 2, curve
    assert painted == SOAK_JOBS and not reconnects, reconnects
