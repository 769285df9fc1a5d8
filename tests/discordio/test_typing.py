"""SharedTyping: one typing indicator per channel for all the requests waiting there."""

from __future__ import annotations

import asyncio

import discord
import pytest

from bot.discordio.typing import SharedTyping
from tests.fakediscord import FakeDiscord, fixtures

fake_discord = fixtures.fake_discord


def client() -> discord.Client:
    return discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)


def calls(fake: FakeDiscord, channel_id: int) -> int:
    return sum(1 for call in fake.typing_calls if call.channel_id == channel_id)


async def test_requests_in_one_channel_share_one_indicator(fake_discord):
    shared = SharedTyping()
    bot = client()
    async with fake_discord.running(bot):
        channel = bot.get_channel(fake_discord.channel_id)
        released = asyncio.Event()

        async def wait_in_channel() -> None:
            async with shared.hold(channel):
                await released.wait()

        waiting = [asyncio.create_task(wait_in_channel()) for _ in range(5)]
        await asyncio.sleep(0.2)
        assert shared.channels == 1
        assert calls(fake_discord, channel.id) == 1
        released.set()
        await asyncio.gather(*waiting)
        assert shared.channels == 0
        async with shared.hold(channel):  # the next request starts it again
            pass
        assert calls(fake_discord, channel.id) == 2


async def test_each_channel_has_its_own_indicator(fake_discord):
    shared = SharedTyping()
    other = await fake_discord.add_channel("paintings")
    bot = client()
    async with fake_discord.running(bot):
        first, second = (bot.get_channel(i) for i in (fake_discord.channel_id, int(other["id"])))
        async with shared.hold(first), shared.hold(second), shared.hold(first):
            assert shared.channels == 2
        assert (calls(fake_discord, first.id), calls(fake_discord, second.id)) == (1, 1)
    assert shared.channels == 0


async def test_a_refused_indicator_costs_nothing_and_is_released(fake_discord):
    fake_discord.faults.fail("POST", r"/channels/\d+/typing", 403, count=None)
    shared = SharedTyping()
    bot = client()
    async with fake_discord.running(bot):
        channel = bot.get_channel(fake_discord.channel_id)
        async with shared.hold(channel), shared.hold(channel):
            assert shared.channels == 1
    assert shared.channels == 0
    assert calls(fake_discord, fake_discord.channel_id) == 0  # refused: none was recorded


async def test_a_holder_that_fails_still_lets_go(fake_discord):
    shared = SharedTyping()
    bot = client()
    async with fake_discord.running(bot):
        channel = bot.get_channel(fake_discord.channel_id)
        with pytest.raises(RuntimeError):
            async with shared.hold(channel):
                raise RuntimeError("the job failed")
        assert shared.channels == 0
