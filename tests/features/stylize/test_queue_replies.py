"""Queue positions, per-user limit, cooldown, full queue, big outputs and shutdown, end to end."""

from __future__ import annotations

import asyncio
import io
import re
import time
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from tests.fakediscord import FakeDiscord, SentMessage
from tests.features.conftest import decoded, jpeg_bytes

QUEUED = re.compile(r"^⏳ You're number (\d+) in the queue\.$")
PAINTING = "🎨 Painting…"
BUSY = "You already have a job running; wait for it to finish."
FULL = "The queue is full right now; please try again in a few minutes."
RESTARTING = "The bot is restarting; your picture will follow shortly."  # still journaled


@dataclass
class Outcome:
    """What the bot answered one request: results, error sentences and status lines."""

    results: list[SentMessage] = field(default_factory=list)
    errors: list[SentMessage] = field(default_factory=list)
    statuses: list[SentMessage] = field(default_factory=list)

    @property
    def error(self) -> str:
        assert len(self.errors) == 1 and not self.results, self
        return self.errors[0].content or ""


def outcome(fake: FakeDiscord, request: dict[str, Any]) -> Outcome:
    """Sort the bot's replies to `request` into results, errors and status lines."""
    found = Outcome()
    for reply in fake.messages_created:
        if reply.reply_to != int(request["id"]):
            continue
        if reply.files:
            found.results.append(reply)
        elif QUEUED.match(reply.content or "") or reply.content == PAINTING:
            found.statuses.append(reply)
        else:
            found.errors.append(reply)
    return found


def assert_one_outcome_each(fake: FakeDiscord, requests: list[dict[str, Any]]) -> list[Outcome]:
    """Every request got exactly one result or one error, and every status line was removed."""
    deleted = {d.message_id for d in fake.messages_deleted}
    outcomes = [outcome(fake, request) for request in requests]
    for request, found in zip(requests, outcomes, strict=True):
        assert len(found.results) + len(found.errors) == 1, (request["content"], found)
        for status in found.statuses:
            assert status.message_id in deleted, f"status line left behind: {status}"
        for error in found.errors:
            assert not error.files and error.message_reference is not None
    return outcomes


def status_texts(fake: FakeDiscord, status: SentMessage) -> list[str]:
    """A status line's text as posted, then after each edit, in order."""
    edits = [e for e in fake.messages_edited if e.message_id == status.message_id]
    return [status.content or ""] + [e.content or "" for e in edits]


async def ask(fake: FakeDiscord, user: dict[str, Any], data: bytes,
              words: str = "!stylize starry-night") -> dict[str, Any]:
    """`user` posts `words` with a photo attached."""
    return await fake.send_message(words, author=user,
                                   attachments=[fake.add_attachment(data, "photo.jpg")])


@dataclass
class Photos:
    """A small photo (a fraction of a second to paint) and a big one (over a second)."""

    small: bytes
    big: bytes
    big_words: str = "!stylize starry-night size=1024"


def photos(photo) -> Photos:
    return Photos(jpeg_bytes(photo("chelsea")), jpeg_bytes(photo("chelsea", (1024, 768))))


async def all_answered(fake: FakeDiscord, requests: list[dict[str, Any]],
                       timeout: float = 30.0) -> None:
    """Wait until every request has its result or error reply."""
    for request in requests:
        await fake.wait_for(
            lambda r, rid=int(request["id"]): r.reply_to == rid and (
                bool(r.files) or not (QUEUED.match(r.content or "") or r.content == PAINTING)),
            timeout, kind=SentMessage, what=f"the answer to {request['content']!r}")


async def test_queued_users_see_their_position_until_their_result(fake_discord, make_bot,
                                                                  settings, photo, gated_engine):
    pics = photos(photo)
    bot = make_bot(settings, jobs={"workers": 1})
    bot.engine, gate = gated_engine  # alice's job paints once carol is in line
    started = time.monotonic()
    async with fake_discord.running(bot):
        # Each asks once the one before is queued: concurrent downloads may finish in any order.
        first = await ask(fake_discord, fake_discord.alice, pics.big, pics.big_words)
        await fake_discord.next_typing(timeout=10)
        second = await ask(fake_discord, fake_discord.bob, pics.small)
        await fake_discord.wait_for(
            lambda r: r.reply_to == int(second["id"]) and QUEUED.match(r.content or "")
            is not None, 10, kind=SentMessage, what="bob's queue position")
        third = await ask(fake_discord, fake_discord.carol, pics.small)
        await fake_discord.wait_for(
            lambda r: r.reply_to == int(third["id"]) and QUEUED.match(r.content or "")
            is not None, 10, kind=SentMessage, what="carol's queue position")
        gate.set()
        await all_answered(fake_discord, [first, second, third])
        elapsed = time.monotonic() - started
    alice, bob, carol = assert_one_outcome_each(fake_discord, [first, second, third])
    assert all(len(o.results) == 1 for o in (alice, bob, carol))
    assert alice.statuses == []  # the first job started at once
    assert [QUEUED.match(s.content).group(1) for s in bob.statuses] == ["1"]
    assert [QUEUED.match(s.content).group(1) for s in carol.statuses] == ["2"]
    bob_lines = status_texts(fake_discord, bob.statuses[0])
    carol_lines = status_texts(fake_discord, carol.statuses[0])
    assert bob_lines == ["⏳ You're number 1 in the queue.", PAINTING], bob_lines
    assert carol_lines == ["⏳ You're number 2 in the queue.", "⏳ You're number 1 in the queue.",
                           PAINTING], carol_lines
    # Each status line goes away once its result is posted; results arrive in queue order.
    deleted = {d.message_id: d.seq for d in fake_discord.messages_deleted}
    for found in (bob, carol):
        assert deleted[found.statuses[0].message_id] > found.results[0].seq
    assert alice.results[0].seq < bob.results[0].seq < carol.results[0].seq
    for found, size in ((alice, (1024, 768)), (bob, (451, 300)), (carol, (451, 300))):
        assert decoded(found.results[0].file.data).size == size
    # One indicator for the channel, shared by the three (discord.py renews it every 5 s).
    typing = [t for t in fake_discord.typing_calls if t.channel_id == fake_discord.channel_id]
    assert 1 <= len(typing) <= 1 + elapsed // 5, typing
    fake_discord.assert_clean()


async def test_a_burst_spends_little_on_status_lines(fake_discord, make_bot, settings, photo):
    """Five requests at once behind a big one, under Discord's rate limits: the paintings come
    in queue order and the status lines are chatter, sent only when the channel's budget can
    spare them (the newest position then), each edited at most every position_interval, never
    after its painting, and removed; a request gets at most one."""
    pics = photos(photo)
    bot = make_bot(settings, jobs={"workers": 1, "position_interval": 5.0})
    users = [fake_discord.make_user(f"user{n}") for n in range(5)]
    async with fake_discord.running(bot):
        requests = [await ask(fake_discord, fake_discord.alice, pics.big, pics.big_words)]
        await fake_discord.next_typing(timeout=10)
        for user in users:
            requests.append(await ask(fake_discord, user, pics.small))
        await all_answered(fake_discord, requests, timeout=60)
        await asyncio.sleep(1.0)  # status lines on their way out
    found = assert_one_outcome_each(fake_discord, requests)
    assert all(len(o.results) == 1 for o in found)
    results = sorted(found, key=lambda o: o.results[0].seq)
    assert results[0] is found[0]  # the big one, running first, is posted first
    for o in found:
        assert len(o.statuses) <= 1, o.statuses
        for status in o.statuses:
            lines = status_texts(fake_discord, status)
            assert len(lines) <= 3, lines
            edits = [e for e in fake_discord.messages_edited if e.message_id == status.message_id]
            assert all(edit.seq < o.results[0].seq for edit in edits)  # none after the painting
    assert fake_discord.rate_limit_hits == []
    fake_discord.assert_clean()


async def test_a_second_request_while_the_first_runs_is_refused(fake_discord, make_bot,
                                                                settings, photo):
    pics = photos(photo)
    bot = make_bot(settings)
    async with fake_discord.running(bot):
        first = await ask(fake_discord, fake_discord.alice, pics.big, pics.big_words)
        second = await ask(fake_discord, fake_discord.alice, pics.small)
        await all_answered(fake_discord, [first, second])
    done, refused = assert_one_outcome_each(fake_discord, [first, second])
    assert len(done.results) == 1
    assert refused.error == BUSY
    fake_discord.assert_clean()


async def test_cooldown_names_the_seconds_left(fake_discord, make_bot, settings, photo):
    pics = photos(photo)
    bot = make_bot(settings, jobs={"cooldown": 30.0})
    async with fake_discord.running(bot):
        first = await ask(fake_discord, fake_discord.alice, pics.small)
        await all_answered(fake_discord, [first])
        downloads = len(fake_discord.requests)
        second = await ask(fake_discord, fake_discord.alice, pics.small)
        await all_answered(fake_discord, [second])
        other = await ask(fake_discord, fake_discord.bob, pics.small)  # others are not held up
        await all_answered(fake_discord, [other])
        cdn_after_refusal = [r.path for r in fake_discord.requests[downloads:]
                             if r.path.startswith("/attachments/")]
    done, refused, bobs = assert_one_outcome_each(fake_discord, [first, second, other])
    assert len(done.results) == 1 and len(bobs.results) == 1
    match = re.fullmatch(r"You can stylize again in (\d+) s\.", refused.error)
    assert match, refused.error
    assert 25 <= int(match.group(1)) <= 30
    assert len(cdn_after_refusal) == 1, "the refused photo was downloaded anyway"
    fake_discord.assert_clean()


async def test_a_full_queue_refuses_clearly_and_drops_nothing(fake_discord, make_bot, settings,
                                                              photo):
    pics = photos(photo)
    bot = make_bot(settings, jobs={"workers": 1, "max_queue": 1})
    dave = fake_discord.make_user("dave")
    async with fake_discord.running(bot):
        requests = [await ask(fake_discord, fake_discord.alice, pics.big, pics.big_words)]
        for user in (fake_discord.bob, fake_discord.carol, dave):
            requests.append(await ask(fake_discord, user, pics.small))
        await all_answered(fake_discord, requests)
    outcomes = assert_one_outcome_each(fake_discord, requests)
    assert len(outcomes[0].results) == 1  # the running job
    later = outcomes[1:]
    assert sum(len(o.results) for o in later) == 1, later  # the one queued job
    assert sorted(o.errors[0].content for o in later if o.errors) == [FULL, FULL]
    fake_discord.assert_clean()


async def test_an_oversized_result_is_shrunk_to_fit_the_upload_limit(fake_discord, make_bot,
                                                                    settings, photo):
    bot = make_bot(settings, limits={"max_upload_bytes": 60_000})
    async with fake_discord.running(bot):
        data = jpeg_bytes(photo("chelsea", (512, 320)))
        request = await ask(fake_discord, fake_discord.alice, data)
        await all_answered(fake_discord, [request])
    (found,) = assert_one_outcome_each(fake_discord, [request])
    (result,) = found.results
    upload = result.file
    assert upload.size <= 60_000, upload.size
    with Image.open(io.BytesIO(upload.data)) as image:
        kind, size = image.format, image.size
    assert kind in ("JPEG", "WEBP") or max(size) < 512, (kind, size)
    assert upload.filename.endswith({"JPEG": ".jpg", "WEBP": ".webp", "PNG": ".png"}[kind])
    assert max(decoded(upload.data).size) <= 512
    # The same painting as a PNG would not have fitted: the limit really was in play.
    assert len(_png(decoded(upload.data))) > 60_000
    fake_discord.assert_clean()


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def test_shutdown_finishes_the_running_job_and_tells_the_queue(fake_discord, make_bot,
                                                                     settings, photo,
                                                                     gated_engine):
    pics = photos(photo)
    bot = make_bot(settings, jobs={"workers": 1, "grace_period": 8.0})
    bot.engine, gate = gated_engine  # alice's job paints once the queue has been told
    async with fake_discord.running(bot):
        first = await ask(fake_discord, fake_discord.alice, pics.big, pics.big_words)
        second = await ask(fake_discord, fake_discord.bob, pics.small)
        third = await ask(fake_discord, fake_discord.carol, pics.small)
        await fake_discord.wait_for(  # all three accepted: the last one waits second in line
            lambda r: r.reply_to == int(third["id"]) and QUEUED.match(r.content or "")
            is not None, 10, kind=SentMessage, what="carol's queue position")
        assert not outcome(fake_discord, first).results, "the first job ended too soon"
        closing = asyncio.ensure_future(bot.close())
        for queued in (second, third):  # told at once, while alice's job still runs
            await fake_discord.wait_for(
                lambda r, rid=int(queued["id"]): r.reply_to == rid and r.content == RESTARTING,
                10, kind=SentMessage, what="the restarting notice")
        gate.set()
        await asyncio.wait_for(closing, 30)  # alice's job finishes within the grace period
    alice, bob, carol = assert_one_outcome_each(fake_discord, [first, second, third])
    assert len(alice.results) == 1
    assert decoded(alice.results[0].file.data).size == (1024, 768)
    assert bob.error == RESTARTING and carol.error == RESTARTING
    fake_discord.assert_clean()


async def test_a_refused_typing_indicator_does_not_stop_the_painting(fake_discord, make_bot,
                                                                     settings, photo):
    bot = make_bot(settings)
    fake_discord.faults.fail("POST", r"/channels/\d+/typing", 403, count=None,
                             body={"message": "Missing Permissions", "code": 50013})
    async with fake_discord.running(bot):
        request = await ask(fake_discord, fake_discord.alice, photos(photo).small)
        await all_answered(fake_discord, [request])
    (found,) = assert_one_outcome_each(fake_discord, [request])
    assert len(found.results) == 1


async def test_an_input_cap_below_a_preset_painting_still_starts(fake_discord, make_bot,
                                                                 settings, photo):
    """starry-night.jpg is ~466 KB: users' photos are capped, the operator's presets are not."""
    bot = make_bot(settings, limits={"max_input_bytes": 200_000})
    async with fake_discord.running(bot):
        request = await ask(fake_discord, fake_discord.alice, photos(photo).small)
        await all_answered(fake_discord, [request])
    (found,) = assert_one_outcome_each(fake_discord, [request])
    assert len(found.results) == 1
