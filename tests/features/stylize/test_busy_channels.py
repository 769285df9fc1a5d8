"""Busy channels under Discord's rate limits (issue 11), end to end with the limits on: paintings
first, every request answered, refusals folded, two channels not slowing each other."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakediscord import FakeDiscord, SentMessage
from tests.features.conftest import jpeg_bytes
from tests.features.stylize.answers import STATUS, answers, sentence
from tests.features.stylize.answers import Asked as Request

FULL = "The queue is full right now; please try again in a few minutes."
BUSY = "You already have a job running; wait for it to finish."
COOLDOWN = re.compile(r"You can stylize again in \d+ s\.")
TINY = (96, 64)  # small photos (painted at size=64): the engine is never the pace-setter here
WORDS = "!stylize starry-night size=64"


@dataclass
class Asked:
    """One request and what answered it."""

    message: dict[str, Any]
    sent: float
    painting: SentMessage | None = None
    answer: SentMessage | None = None  # the painting, a reply, or a message naming the user

    @property
    def key(self) -> Request:
        return Request(int(self.message["id"]), int(self.message["author"]["id"]),
                       int(self.message["channel_id"]))


@dataclass
class Burst:
    """Requests sent into one channel."""

    asked: list[Asked] = field(default_factory=list)

    @property
    def paintings(self) -> list[SentMessage]:
        return [a.painting for a in self.asked if a.painting is not None]

    def last_painting_after(self) -> float:
        """Seconds from the first request to the last painting."""
        return max(p.time for p in self.paintings) - min(a.sent for a in self.asked)


def sort_answers(fake: FakeDiscord, bursts: list[Burst]) -> None:
    """Match the bot's messages to requests (tests/features/stylize/answers.py): a painting or
    a text reply answers the message it replies to; a folded refusal the requests it counts."""
    everyone = [a for b in bursts for a in b.asked]
    found = answers(fake.messages_created, [a.key for a in everyone])
    for a in everyone:
        got = found[int(a.message["id"])]
        assert len(got) <= 1, f"two answers for one request: {got}"
        a.answer = got[0] if got else None
        a.painting = a.answer if a.answer is not None and a.answer.files else None


async def burst(fake: FakeDiscord, channel_id: int, users: list[dict[str, Any]], count: int,
                photo: bytes, into: Burst) -> None:
    """`count` requests into one channel as fast as the gateway takes them, users in turn."""
    for n in range(count):
        attachment = fake.add_attachment(photo, "photo.jpg", channel_id=channel_id)
        sent = time.monotonic()
        message = await fake.send_message(WORDS, author=users[n % len(users)],
                                          channel_id=channel_id, attachments=[attachment])
        into.asked.append(Asked(message, sent))


async def all_answered(fake: FakeDiscord, bursts: list[Burst], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        sort_answers(fake, bursts)
        missing = [a for b in bursts for a in b.asked if a.answer is None]
        if not missing:
            return
        assert time.monotonic() < deadline, (
            f"{len(missing)} requests unanswered after {timeout} s; "
            f"{fake.recorder.describe_recent()}")
        await asyncio.sleep(0.2)


def check_answers(fake: FakeDiscord, bursts: list[Burst]) -> None:
    """Every answer is a painting or a sentence a user understands (never a rate-limit error);
    every status line sent was removed again; nobody is mentioned who did not ask."""
    for b in bursts:
        for a in b.asked:
            assert a.answer is not None
            if a.painting is None:
                text = sentence(a.answer.content or "")
                assert text in (FULL, BUSY) or COOLDOWN.fullmatch(text), a.answer.content
    askers = {a.key.user_id for b in bursts for a in b.asked}
    for sent in fake.messages_created:
        mentions = sent.allowed_mentions or {}
        assert "everyone" not in (mentions.get("parse") or []), sent
        assert {int(u) for u in mentions.get("users") or []} <= askers, sent
    deleted = {d.message_id for d in fake.messages_deleted}
    left = [m for m in fake.messages_created
            if STATUS.match(m.content or "") and m.message_id not in deleted]
    assert not left, f"status lines left behind: {left}"


async def test_a_burst_in_one_channel_gets_its_paintings_first(fake_discord, make_bot, settings,
                                                                photo):
    """The issue's burst: 80 requests from 40 users in one channel, the job defaults (one
    worker, 20 waiting, one per user, 10 s cooldown) and every queue move reported."""
    users = [fake_discord.make_user(f"user{n:02d}") for n in range(40)]
    bot = make_bot(settings, jobs={"cooldown": 10.0, "position_interval": 0.0})
    one = Burst()
    photo_bytes = jpeg_bytes(photo("chelsea", TINY))
    async with fake_discord.running(bot):
        await burst(fake_discord, fake_discord.channel_id, users, 80, photo_bytes, one)
        await all_answered(fake_discord, [one], timeout=120)
        await asyncio.sleep(1.5)  # status lines on their way out
    check_answers(fake_discord, [one])
    paintings = len(one.paintings)
    took = one.last_painting_after()
    bound = 1.2 * paintings + 10
    created = [m for m in fake_discord.messages_created if m.channel_id == fake_discord.channel_id]
    print(f"\nFIGURE busy channel: {paintings} paintings, {80 - paintings} refusals; last "
          f"painting {took:.1f} s after the first request (bound {bound:.1f} s); the bot created "
          f"{len(created)} messages, {len(fake_discord.messages_edited)} edits, "
          f"{len(fake_discord.messages_deleted)} deletes, {len(fake_discord.reactions)} "
          f"reactions; {len(fake_discord.rate_limit_hits)} answers were 429s")
    assert paintings >= 21, paintings  # the queue's 20 and the running job, at least
    assert took <= bound, f"last painting after {took:.1f} s, over {bound:.1f} s"
    # Chatter is folded: far fewer messages than requests (before: 100 for 80 requests).
    assert len(created) <= paintings + 10, len(created)
    fake_discord.assert_clean()


async def test_two_busy_channels_do_not_slow_each_other(fake_discord, make_bot, settings, photo):
    """Each channel has its own budget: 2 x 20 paintings at once take about as long as 20 in
    one channel (one channel's 5 per 5 s would need 40 s for 40), and the bot stays under the
    global limit."""
    gallery = int(fake_discord.other_channel["id"])
    users = [fake_discord.make_user(f"user{n:02d}") for n in range(40)]
    bot = make_bot(settings, jobs={"max_queue": 60, "cooldown": 10.0})
    bursts = [Burst(), Burst()]
    photo_bytes = jpeg_bytes(photo("coffee", TINY))
    async with fake_discord.running(bot):
        await asyncio.gather(
            burst(fake_discord, fake_discord.channel_id, users[:20] * 2, 40, photo_bytes,
                  bursts[0]),
            burst(fake_discord, gallery, users[20:] * 2, 40, photo_bytes, bursts[1]))
        await all_answered(fake_discord, bursts, timeout=120)
        await asyncio.sleep(1.5)
    check_answers(fake_discord, bursts)
    for one in bursts:
        paintings = len(one.paintings)
        took = one.last_painting_after()
        print(f"\nFIGURE two channels: {paintings} paintings, last after {took:.1f} s")
        assert paintings == 20, paintings  # everyone's first request; every second one refused
        assert took <= 1.2 * paintings + 10, f"{took:.1f} s for {paintings} paintings"
    assert not [h for h in fake_discord.rate_limit_hits if h.bucket == "global"]
    fake_discord.assert_clean()


async def test_a_quiet_channel_gets_one_message_per_request(fake_discord, make_bot, settings,
                                                            photo):
    bot = make_bot(settings)
    data = jpeg_bytes(photo("chelsea", TINY))
    async with fake_discord.running(bot):
        for user in (fake_discord.alice, fake_discord.bob):
            request = await fake_discord.send_message(
                WORDS, author=user, attachments=[fake_discord.add_attachment(data, "p.jpg")])
            upload = await fake_discord.next_upload(timeout=30)
            assert upload.reply_to == int(request["id"])
    assert len(fake_discord.messages_created) == 2
    assert fake_discord.messages_edited == [] and fake_discord.messages_deleted == []
    assert fake_discord.reactions == [] and fake_discord.rate_limit_hits == []
    fake_discord.assert_clean()
