"""ChannelOutbox and RateLimitWatch: paintings first, chatter folded and paced by the budget the
channel's rate-limit headers report (real discord.py against the loopback Discord, limits on)."""

from __future__ import annotations

import asyncio
import time

import discord

from bot.discordio.budget import ChannelBudget, RateLimitWatch
from bot.discordio.outbox import ChannelOutbox, Outboxes, folded
from tests.fakediscord import FakeDiscord, RateLimits, fixtures

fake_discord = fixtures.fake_discord
QUICK = RateLimits().scaled(0.2)  # Discord's limits with windows 5 times shorter: 5 per 1 s
STEADY = RateLimits().scaled(0.6)  # 5 per 3 s: a window outlasts a loaded machine's stalls


def client(watch: RateLimitWatch) -> discord.Client:
    return discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05,
                          http_trace=watch.trace)


def texts(fake: FakeDiscord, after: int = 0) -> list[str]:
    return [m.content or "" for m in fake.messages_created if m.seq > after]


async def test_the_budget_follows_the_channels_headers(fake_discord):
    watch = RateLimitWatch()
    bot = client(watch)
    async with fake_discord.running(bot):
        channel = bot.get_channel(fake_discord.channel_id)
        budget = watch.budget(channel.id)
        assert budget.available() == 5  # Discord's documented default before any answer
        await channel.send("one")
        await channel.send("two")
        assert budget.available() == 3 and 2.5 < budget.resets_at - time.monotonic() <= 5.0
        other = watch.budget(int(fake_discord.other_channel["id"]))
        assert other.available() == 5  # each channel has its own window


def test_a_budget_opens_windows_and_takes_a_429s_word():
    budget = ChannelBudget()
    for _ in range(5):
        budget.spend(now=100.0)
    assert budget.available(now=101.0) == 0 and budget.wait(now=101.0) == 4.0
    assert budget.available(now=105.0) == 5
    budget.observe(429, {"Retry-After": "3"}, now=200.0)
    assert budget.available(now=201.0) == 0 and budget.wait(now=201.0) == 2.0
    budget.observe(200, {"X-RateLimit-Limit": "nope"}, now=300.0)  # unreadable: ignored
    assert budget.available(now=300.0) == 5


async def test_paintings_go_first_and_waiting_chatter_is_folded_or_newest(fake_discord):
    fake_discord.limiter.limits = STEADY
    watch = RateLimitWatch()
    bot = client(watch)
    async with fake_discord.running(bot):
        channel = bot.get_channel(fake_discord.channel_id)
        box = ChannelOutbox(channel, watch.budget(channel.id))
        first = [asyncio.create_task(box.painting(lambda n=n: channel.send(f"painting {n}")))
                 for n in range(5)]
        for _ in range(200):  # until the window is spent (discord.py then holds the 5th)
            if len(fake_discord.messages_created) == 5:
                break
            await asyncio.sleep(0.01)
        assert watch.budget(channel.id).available() == 0
        for _ in range(5):
            box.owe()  # paintings still to come fill the next window: chatter must be folded
        mark = fake_discord.mark()
        users = [fake_discord.alice, fake_discord.bob, fake_discord.carol]
        waiting = [asyncio.create_task(box.notice(int(u["id"]), "The queue is full.",
                                                  lambda: channel.send("a lone reply")))
                   for u in users]
        waiting.append(asyncio.create_task(box.notice(int(users[0]["id"]), "Other sentence.",
                                                      lambda: channel.send("Other sentence."))))
        old = asyncio.create_task(box.status("alice", lambda: channel.send("number 3")))
        await asyncio.sleep(0)
        new = asyncio.create_task(box.status("alice", lambda: channel.send("number 2")))
        gone = asyncio.create_task(box.status("bob", lambda: channel.send("number 1")))
        await asyncio.sleep(0)
        box.drop_status("bob")
        late = asyncio.create_task(box.painting(lambda: channel.send("late painting")))
        await asyncio.gather(*first, *waiting, old, new, gone, late)
        assert await old is None and await gone is None and (await new).content == "number 2"
    ids = [u["id"] for u in users]
    assert texts(fake_discord, mark) == [
        "late painting", f"<@{ids[0]}>, <@{ids[1]}> and <@{ids[2]}>: The queue is full.",
        "Other sentence.", "number 2"]
    fold = next(m for m in fake_discord.messages_created if m.content.endswith("is full."))
    assert fold.reply_to is None
    assert sorted(map(str, fold.allowed_mentions["users"])) == sorted(ids)
    assert fold.allowed_mentions["parse"] == [] and not fold.allowed_mentions.get("roles")
    assert fake_discord.rate_limit_hits == []
    fake_discord.assert_clean()


async def test_chatter_waits_while_paintings_are_owed_one_per_window(fake_discord):
    fake_discord.limiter.limits = STEADY
    watch = RateLimitWatch()
    bot = client(watch)
    async with fake_discord.running(bot):
        channel = bot.get_channel(fake_discord.channel_id)
        box = ChannelOutbox(channel, watch.budget(channel.id))
        for _ in range(8):
            box.owe()  # eight paintings are coming: more than the window holds
        started = time.monotonic()
        await box.notice(1, "first", lambda: channel.send("first"))  # once per window
        second = asyncio.create_task(box.notice(1, "second", lambda: channel.send("second")))
        await asyncio.sleep(0.5)
        assert not second.done()  # held: the window's room is the paintings'
        for _ in range(8):
            box.settle()
        await second
        assert time.monotonic() - started < 2.5  # sent once nothing was owed, not a window later
        quiet = ChannelOutbox(channel, watch.budget(channel.id))
        await asyncio.gather(quiet.notice(1, "a", lambda: channel.send("a")),
                             quiet.notice(2, "b", lambda: channel.send("b")))
        gallery = bot.get_channel(int(fake_discord.other_channel["id"]))
        roomy = ChannelOutbox(gallery, watch.budget(gallery.id))
        await asyncio.gather(roomy.notice(1, "same", lambda: gallery.send("reply 1")),
                             roomy.notice(2, "same", lambda: gallery.send("reply 2")))
        # The first window has one message left: two equal notices waiting are folded.
        await asyncio.gather(quiet.notice(1, "same", lambda: channel.send("reply 1")),
                             quiet.notice(2, "same", lambda: channel.send("reply 2")))
    assert texts(fake_discord)[-7:] == ["first", "second", "a", "b", "reply 1", "reply 2",
                                        "<@1> and <@2>: same"]
    assert fake_discord.rate_limit_hits == []


async def test_an_outbox_never_runs_into_a_429(fake_discord):
    fake_discord.limiter.limits = QUICK
    watch = RateLimitWatch()
    bot = client(watch)
    async with fake_discord.running(bot):
        channel = bot.get_channel(fake_discord.channel_id)
        boxes = Outboxes(watch)
        started = time.monotonic()
        sent = await asyncio.gather(*(boxes.of(channel).painting(
            lambda n=n: channel.send(f"p{n}")) for n in range(12)))
        took = time.monotonic() - started
    assert [m.content for m in sent] == [f"p{n}" for n in range(12)]
    assert took > 1.9  # three windows of 1 s: 5 + 5 + 2
    assert fake_discord.rate_limit_hits == []


def test_a_fold_names_each_user_once_and_mentions_only_them():
    body = folded("Busy.", [7, 8, 7])
    assert body["content"] == "<@7> (×2) and <@8>: Busy."
    assert [u.id for u in body["allowed_mentions"].users] == [7, 8]
    assert body["allowed_mentions"].everyone is False
