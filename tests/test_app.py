"""The bot as a whole against the loopback Discord: where it answers, syncing, shards, the token."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from bot.app import ShardedStyleBot, StyleBot, create_bot
from bot.config import Secret
from tests.fakediscord import SentMessage, fixtures
from tests.features import conftest as bot_fixtures
from tests.features.conftest import decoded, jpeg_bytes

# The end-to-end fixtures of tests/cogs, used here for the bot as a whole.
fake_discord = fixtures.fake_discord
make_bot = bot_fixtures.make_bot
settings = bot_fixtures.settings

REFUSAL = "I'm not set up to paint in this channel."
ATTACH_A_PHOTO = "Attach a photo"
TOKEN = "TESTTOKEN.recognisable.c2VjcmV0LXRva2VuLXNob3VsZC1uZXZlci1iZS1sb2dnZWQ"


def replies_to(fake, request: dict[str, Any]) -> list[SentMessage]:
    return [m for m in fake.messages_created if m.reply_to == int(request["id"])]


def bot_activity_in(fake, channel_id: int) -> list[Any]:
    """Messages, typing and edits the bot made in a channel."""
    return ([m for m in fake.messages_created + fake.messages_edited
             if m.channel_id == channel_id]
            + [t for t in fake.typing_calls if t.channel_id == channel_id])


async def test_a_channel_not_allowed_gets_no_answer_at_all(fake_discord, make_bot, settings,
                                                           photo):
    allowed = int(fake_discord.other_channel["id"])
    bot = make_bot(settings, discord={"allowed_channels": (allowed,)})
    cat = jpeg_bytes(photo("chelsea"))
    async with fake_discord.running(bot):
        ignored = [
            await fake_discord.send_message(
                "!stylize starry-night", attachments=[fake_discord.add_attachment(cat, "c.jpg")]),
            await fake_discord.send_message("!stylize"),
            await fake_discord.send_message("!styles"),
            await fake_discord.send_message("!stylize starry-nite", author=fake_discord.bob),
        ]
        slash = await fake_discord.send_interaction(
            "stylize", {"content": fake_discord.add_attachment(cat, "c.jpg"),
                        "style": "starry-night"})
        refusal = await slash.next_reply()
        # The same bot answers in the allowed channel, so the silence above is deliberate.
        answered = await fake_discord.send_message("!stylize", channel_id=allowed)
        reply = await fake_discord.wait_for(lambda r: r.reply_to == int(answered["id"]), 10,
                                            kind=SentMessage, what="the allowed channel's reply")
    assert reply.content.startswith(ATTACH_A_PHOTO)
    assert refusal.content == REFUSAL and refusal.ephemeral, refusal
    assert refusal.callback_type == 4 and not refusal.files
    for request in ignored:
        assert replies_to(fake_discord, request) == []
    general = [a for a in bot_activity_in(fake_discord, fake_discord.channel_id)
               if getattr(a, "token", None) != slash.token]
    assert general == [], general
    assert not [r for r in fake_discord.requests if r.path.startswith("/attachments/")]
    fake_discord.assert_clean()


async def test_a_guild_not_allowed_gets_no_answer(fake_discord, make_bot, settings):
    bot = make_bot(settings, discord={"allowed_guilds": (fake_discord.guild_id + 1,)})
    async with fake_discord.running(bot):
        request = await fake_discord.send_message("!stylize")
        slash = await fake_discord.send_interaction("styles")
        refusal = await slash.next_reply()
        dm = await fake_discord.send_message("!stylize", dm=True)
        await fake_discord.send_message("!stylize", channel_id=fake_discord.other_channel["id"])
    assert refusal.content == REFUSAL and refusal.ephemeral
    assert replies_to(fake_discord, request) == [] and replies_to(fake_discord, dm) == []
    assert fake_discord.messages_created == [] and fake_discord.typing_calls == []
    fake_discord.assert_clean()


async def test_commands_are_synced_globally_at_start(fake_discord, make_bot, settings):
    async with fake_discord.running(make_bot(settings)):
        pass
    (sync,) = fake_discord.command_syncs
    assert sync.guild_id is None
    assert sorted(c["name"] for c in sync.commands) == ["preset", "styles", "stylize"]
    fake_discord.assert_clean()


async def test_a_test_guild_gets_the_commands_and_nothing_is_synced_globally(
        fake_discord, make_bot, settings, photo):
    bot = make_bot(settings, discord={"test_guild": fake_discord.guild_id})
    async with fake_discord.running(bot):
        # The guild's copy of /stylize works.
        slash = await fake_discord.send_interaction(
            "stylize", {"content": fake_discord.add_attachment(jpeg_bytes(photo("chelsea")),
                                                               "c.jpg"),
                        "style": "starry-night"})
        upload = await fake_discord.next_upload(timeout=30)
    (sync,) = fake_discord.command_syncs
    assert sync.guild_id == fake_discord.guild_id
    assert sorted(c["name"] for c in sync.commands) == ["preset", "styles", "stylize"]
    assert upload.token == slash.token
    assert decoded(upload.file.data).size == (451, 300)
    fake_discord.assert_clean()


def test_create_bot_picks_the_sharded_bot_when_shards_are_set(settings, lite_engine):
    plain = create_bot(settings, engine=lite_engine)
    sharded = create_bot(dataclasses.replace(
        settings, discord=dataclasses.replace(settings.discord, shards=2)), engine=lite_engine)
    assert type(plain) is StyleBot
    assert type(sharded) is ShardedStyleBot
    assert sharded.shard_count == 2


async def test_the_sharded_bot_paints_over_one_shard(fake_discord, make_bot, settings, photo):
    # The fake gateway holds one session at a time, so this runs the sharded class on 1 shard.
    bot = make_bot(settings, discord={"shards": 1})
    assert isinstance(bot, ShardedStyleBot)
    async with fake_discord.running(bot):
        att = fake_discord.add_attachment(jpeg_bytes(photo("chelsea")), "cat.jpg")
        await fake_discord.send_message("!stylize starry-night", attachments=[att])
        upload = await fake_discord.next_upload(timeout=30)
    assert decoded(upload.file.data).size == (451, 300)
    assert [g.detail.get("intents") for g in fake_discord.gateway_events
            if g.event == "identify"] == [bot.intents.value]
    fake_discord.assert_clean()


async def test_the_token_never_reaches_the_logs(fake_discord, make_bot, settings, photo, caplog):
    caplog.set_level(logging.DEBUG)
    fake_discord.token = TOKEN  # the fake now refuses any other Authorization
    bot = make_bot(dataclasses.replace(
        settings, discord=dataclasses.replace(settings.discord, token=Secret(TOKEN))))
    async with fake_discord.running(bot, token=bot.settings.discord.require_token()):
        good = await fake_discord.send_message(
            "!stylize starry-night",
            attachments=[fake_discord.add_attachment(jpeg_bytes(photo("chelsea")), "c.jpg")])
        await fake_discord.next_upload(timeout=30)
        bad = await fake_discord.send_message("!stylize starry-nite")
        await fake_discord.wait_for(lambda r: r.reply_to == int(bad["id"]), 10,
                                    kind=SentMessage, what="the error reply")
        logging.getLogger("stylebot.test").info("settings in use: %s", bot.settings)
    assert replies_to(fake_discord, good)
    assert [r for r in fake_discord.requests if r.status == 401] == []  # the token was used
    assert len(caplog.records) > 50  # DEBUG logging really was on
    for record in caplog.records:
        assert TOKEN not in record.getMessage(), record.name
    assert TOKEN not in caplog.text
    secret_part = TOKEN.split(".")[-1]
    assert secret_part not in caplog.text
    fake_discord.assert_clean()
