"""`!preset add|remove` and `/preset add` end to end: permissions, names, persistence, guilds."""

from __future__ import annotations

import io
import re
from typing import Any

import discord
import numpy as np
from PIL import Image

from bot.features.presets.cog import MAX_CUSTOM_PRESETS
from tests.fakediscord import FakeDiscord, SentMessage
from tests.fakediscord import payloads as p
from tests.features.conftest import decoded, jpeg_bytes

MANAGE_GUILD = discord.Permissions(manage_guild=True).value
MENTION_MARKUP = re.compile(r"<@[!&]?\d+>|@everyone|@here")


# -- helpers shared with the other cog tests ------------------------------------------------


def grant_manage_server(fake: FakeDiscord, user: dict[str, Any],
                        guild: dict[str, Any] | None = None) -> None:
    """Give `user` a role with Manage Server in `guild` (default guild); call before connecting."""
    guild = guild or fake.guild
    role = next((r for r in guild["roles"] if r["name"] == "managers"), None)
    if role is None:
        role = p.role(fake.world.ids.next(), "managers", MANAGE_GUILD, position=1)
        guild["roles"].append(role)
    members = [m for m in guild["members"] if m["user"]["id"] != user["id"]]
    old = next((m for m in guild["members"] if m["user"]["id"] == user["id"]), None)
    roles = [int(r) for r in (old["roles"] if old else [])] + [int(role["id"])]
    guild["members"] = [*members, p.member(user, roles)]
    guild["member_count"] = len(guild["members"])


def add_guild(fake: FakeDiscord, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A second guild (bot, alice, bob as members) with a "general" channel; before connecting."""
    world = fake.world
    guild_id = world.ids.next()
    guild = p.guild(guild_id, name, owner_id=int(world.owner["id"]),
                    roles=[p.role(guild_id, "@everyone", p.DEFAULT_PERMISSIONS)],
                    channels=[], members=[])
    world.guilds[guild_id] = guild
    for user in (world.bot_user, world.owner, fake.alice, fake.bob):
        guild["members"].append(p.member(user))
    guild["member_count"] = len(guild["members"])
    return guild, world.add_channel("general", guild_id)


def solid_png(colour: tuple[int, int, int], size: tuple[int, int] = (96, 64)) -> bytes:
    """A flat-coloured PNG, easy to recognise in a gallery cell or as a style."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def textured_png(seed: int, size: tuple[int, int] = (128, 128)) -> bytes:
    """A noisy, colourful PNG: a style image that paints very differently from the presets."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (size[1] // 16, size[0] // 16, 3), dtype=np.uint8)
    image = Image.fromarray(blocks).resize(size, Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def reply_to(fake: FakeDiscord, sent: dict[str, Any], timeout: float = 10.0) -> SentMessage:
    """The bot's new message replying to the user's message `sent`."""
    return await fake.wait_for(
        lambda r: r.method == "POST" and r.source == "channel" and r.reply_to == int(sent["id"]),
        timeout, kind=SentMessage, what=f"reply to message {sent['id']}")


def assert_one_sentence(text: str | None) -> None:
    """One friendly sentence: a single line ending in a full stop, no second sentence."""
    assert text, "expected a sentence, got nothing"
    body = text.strip()
    assert "\n" not in body and "Traceback" not in body, body
    assert body[-1] in ".?!", body
    assert not re.search(r"[.?!]\s+[A-Z`!]", body[:-1]), f"more than one sentence: {body!r}"


def assert_no_mentions_possible(fake: FakeDiscord) -> None:
    """Every bot message with text said allowed_mentions parse nothing and listed nobody."""
    sent = [*fake.messages_created, *fake.messages_edited, *fake.followups,
            *fake.interaction_callbacks]
    texts = [m for m in sent if m.content]
    assert texts, "the bot sent no text at all"
    for message in texts:
        allowed = message.allowed_mentions
        assert allowed is not None, f"no allowed_mentions on {message!r}"
        assert allowed.get("parse") == [], message
        assert not allowed.get("users") and not allowed.get("roles"), message


async def paint(fake: FakeDiscord, words: str, content: bytes, *,
                channel_id: int | None = None) -> SentMessage:
    """`!stylize <words>` with a photo attached; the bot's reply (an upload or a sentence)."""
    att = fake.add_attachment(content, "photo.jpg", channel_id=channel_id)
    sent = await fake.send_message(f"!stylize {words}", attachments=[att], channel_id=channel_id)
    return await reply_to(fake, sent, timeout=30)


def mean_difference(a: bytes, b: bytes) -> float:
    return float(np.abs(np.asarray(decoded(a), float) - np.asarray(decoded(b), float)).mean())


# -- tests --------------------------------------------------------------------------------


async def test_manager_adds_a_preset_paints_with_it_and_removes_it(
        fake_discord, make_bot, settings, photo):
    grant_manage_server(fake_discord, fake_discord.alice)
    cat = jpeg_bytes(photo("chelsea", (240, 160)))
    async with fake_discord.running(make_bot(settings)):
        image = fake_discord.add_attachment(textured_png(1), "mural.png")
        added = await reply_to(fake_discord, await fake_discord.send_message(
            "!preset add My_Mural", attachments=[image]))
        assert added.content == "Added the preset `my-mural`; try `!stylize my-mural`."

        custom = await paint(fake_discord, "my-mural", cat)
        builtin = await paint(fake_discord, "starry-night", cat)
        assert decoded(custom.file.data).size == (240, 160)
        assert "my-mural" in custom.content
        assert mean_difference(custom.file.data, builtin.file.data) > 15

        removed = await reply_to(fake_discord, await fake_discord.send_message(
            "!preset remove My_Mural"))
        assert removed.content == "Removed the preset `my-mural`."
        gone = await paint(fake_discord, "my-mural", cat)
        assert not gone.files
        assert_one_sentence(gone.content)
        assert "my-mural" in gone.content
        again = await reply_to(fake_discord, await fake_discord.send_message(
            "!preset remove my-mural"))
        assert again.content == "This server has no preset called `my-mural`."
    assert_no_mentions_possible(fake_discord)
    fake_discord.assert_clean()


async def test_member_without_manage_server_is_refused(fake_discord, make_bot, settings, photo):
    async with fake_discord.running(make_bot(settings)) as bot:
        image = fake_discord.add_attachment(textured_png(2), "mural.png")
        sent = await fake_discord.send_message("!preset add mural", author=fake_discord.bob,
                                               attachments=[image])
        refusal = await reply_to(fake_discord, sent)
        assert refusal.content == "You need the Manage Server permission to do that."
        removal = await reply_to(fake_discord, await fake_discord.send_message(
            "!preset remove starry-night", author=fake_discord.bob))
        assert removal.content == refusal.content
        missing = await paint(fake_discord, "mural", jpeg_bytes(photo("chelsea", (120, 80))))
        assert not missing.files and "no preset called “mural”" in missing.content
        assert await bot.presets.names(fake_discord.guild_id) == bot.catalog.names()
    assert len(fake_discord.messages_created) == 3  # one sentence per request, nothing else
    assert not any(r.path.endswith("/mural.png") for r in fake_discord.requests)  # not fetched
    fake_discord.assert_clean()


async def test_bad_names_get_one_sentence_and_can_never_mention(fake_discord, make_bot, settings):
    grant_manage_server(fake_discord, fake_discord.alice)
    bad = {
        "@everyone": "A preset name may contain only letters a-z, digits and hyphens.",
        "@here": "A preset name may contain only letters a-z, digits and hyphens.",
        "everyone": "A preset name cannot be “everyone” or “here”.",
        f"<@{fake_discord.bob['id']}>": "A preset name may contain only letters a-z, "
                                        "digits and hyphens.",
        "<@&123456789012345678>": "A preset name may contain only letters a-z, digits and "
                                  "hyphens.",
        "a": "A preset name must be 2 to 32 characters long.",
        "x" * 40: "A preset name must be 2 to 32 characters long.",
        "-mural": "A preset name must start with a letter or a digit.",
        "starry-night": "starry-night is a built-in preset; choose another name.",
        "Starry_Night": "starry-night is a built-in preset; choose another name.",
    }
    async with fake_discord.running(make_bot(settings)) as bot:
        for name, expected in bad.items():
            image = fake_discord.add_attachment(solid_png((200, 30, 30)), "red.png")
            sent = await fake_discord.send_message(f"!preset add {name}", attachments=[image])
            reply = await reply_to(fake_discord, sent)
            assert reply.content == expected, name
            assert_one_sentence(reply.content)
            assert not MENTION_MARKUP.search(reply.content), reply.content
        # Removing a name that was never stored echoes it, but it still cannot ping anyone.
        echoed = await reply_to(fake_discord, await fake_discord.send_message(
            "!preset remove @everyone"))
        assert echoed.content == "This server has no preset called `@everyone`."
        assert await bot.presets.names(fake_discord.guild_id) == bot.catalog.names()
    assert len(fake_discord.messages_created) == len(bad) + 1
    assert_no_mentions_possible(fake_discord)
    fake_discord.assert_clean()


async def test_unusable_attachments_get_one_sentence(fake_discord, make_bot, settings):
    grant_manage_server(fake_discord, fake_discord.alice)
    async with fake_discord.running(make_bot(settings)) as bot:
        no_image = await reply_to(fake_discord, await fake_discord.send_message(
            "!preset add mural"))
        assert_one_sentence(no_image.content)
        assert "image" in no_image.content

        text = fake_discord.add_attachment(b"just words\n" * 20, "notes.txt")
        not_image = await reply_to(fake_discord, await fake_discord.send_message(
            "!preset add mural", attachments=[text]))
        assert not_image.content == "The preset image is not an image (it is a text file)."

        lying = fake_discord.add_attachment(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "broken.png",
                                            content_type="image/png", width=8, height=8)
        broken = await reply_to(fake_discord, await fake_discord.send_message(
            "!preset add mural", attachments=[lying]))
        assert_one_sentence(broken.content)
        assert "preset image" in broken.content
        assert await bot.presets.names(fake_discord.guild_id) == bot.catalog.names()
    assert_no_mentions_possible(fake_discord)
    fake_discord.assert_clean()


async def test_a_server_holds_at_most_the_preset_limit(fake_discord, make_bot, settings):
    grant_manage_server(fake_discord, fake_discord.alice)
    async with fake_discord.running(make_bot(settings)) as bot:
        red = solid_png((200, 30, 30))
        for index in range(MAX_CUSTOM_PRESETS):
            bot.store.add_preset(fake_discord.guild_id, f"filler-{index:02d}", red, 1)
        image = fake_discord.add_attachment(solid_png((30, 30, 200)), "blue.png")
        full = await reply_to(fake_discord, await fake_discord.send_message(
            "!preset add one-more", attachments=[image]))
        assert full.content == (f"This server already has {MAX_CUSTOM_PRESETS} presets; "
                                "remove one first.")
        replaced = await reply_to(fake_discord, await fake_discord.send_message(
            "!preset add filler-00", attachments=[image]))  # replacing one is still allowed
        assert replaced.content.startswith("Added the preset `filler-00`")
        assert bot.store.preset_image(fake_discord.guild_id, "filler-00") != red
    fake_discord.assert_clean()


async def test_custom_presets_survive_a_restart(fake_discord, make_bot, settings, photo):
    grant_manage_server(fake_discord, fake_discord.alice)
    cat = jpeg_bytes(photo("chelsea", (180, 120)))
    async with fake_discord.running(make_bot(settings)):
        image = fake_discord.add_attachment(textured_png(3), "mural.png")
        added = await reply_to(fake_discord, await fake_discord.send_message(
            "!preset add mural", attachments=[image]))
        assert added.content.startswith("Added the preset `mural`")
        before = await paint(fake_discord, "mural", cat)
    fake_discord.forget_attachment(image)  # the new bot cannot have fetched it again

    async with fake_discord.running(make_bot(settings)):  # a new bot, same data dir
        after = await paint(fake_discord, "mural", cat)
        builtin = await paint(fake_discord, "udnie", cat)
    assert after.files and decoded(after.file.data).size == (180, 120)
    assert mean_difference(after.file.data, before.file.data) < 2  # the same style both times
    assert mean_difference(after.file.data, builtin.file.data) > 15
    assert fake_discord.gateway.identify_count == 2
    fake_discord.assert_clean()


async def test_presets_belong_to_one_server(fake_discord, make_bot, settings, photo):
    grant_manage_server(fake_discord, fake_discord.alice)
    _, elsewhere = add_guild(fake_discord, "Other Guild")
    other_channel = int(elsewhere["id"])
    cat = jpeg_bytes(photo("chelsea", (120, 80)))
    async with fake_discord.running(make_bot(settings)) as bot:
        image = fake_discord.add_attachment(textured_png(4), "mural.png")
        await reply_to(fake_discord, await fake_discord.send_message(
            "!preset add mural", attachments=[image]))
        here = await paint(fake_discord, "mural", cat)
        there = await paint(fake_discord, "mural", cat, channel_id=other_channel)
        # Alice manages the first server only.
        refused = await reply_to(fake_discord, await fake_discord.send_message(
            "!preset remove mural", channel_id=other_channel))
        assert await bot.presets.names(int(elsewhere["guild_id"])) == bot.catalog.names()
    assert here.files and decoded(here.file.data).size == (120, 80)
    assert not there.files
    assert there.content == "There is no preset called “mural”."
    assert refused.content == "You need the Manage Server permission to do that."
    fake_discord.assert_clean()


async def test_slash_preset_add_then_stylize_with_it(fake_discord, make_bot, settings, photo):
    grant_manage_server(fake_discord, fake_discord.alice)
    async with fake_discord.running(make_bot(settings)):
        image = fake_discord.add_attachment(textured_png(5), "mural.png")
        refused = await fake_discord.send_interaction(
            "preset add", {"name": "mural", "image": image}, user=fake_discord.bob)
        refusal = await refused.next_reply()
        ix = await fake_discord.send_interaction("preset add", {"name": "mural", "image": image})
        added = await ix.next_reply(timeout=10)

        content = fake_discord.add_attachment(jpeg_bytes(photo("chelsea", (150, 100))), "c.jpg")
        painted = await fake_discord.send_interaction(
            "stylize", {"content": content, "style": "mural"})
        result = await painted.next_reply(timeout=30)
        while not result.files:  # queue/status edits come before the painting
            result = await painted.next_reply(timeout=30)

        typing = await fake_discord.send_interaction(
            "stylize", {"content": content, "style": "mu"}, focused="style")
        choices = (await typing.callback()).payload["data"]["choices"]
        everything = await fake_discord.send_interaction(
            "stylize", {"content": content, "style": ""}, focused="style")
        offered = (await everything.callback()).payload["data"]["choices"]

        dropped = await fake_discord.send_interaction("preset remove", {"name": "Mural"})
        removed = await dropped.next_reply(timeout=10)
    assert refusal.content == "You need the Manage Server permission to do that."
    assert len(refused.callbacks) + len(refused.followups) == 1
    assert (await ix.callback()).callback_type == 5  # deferred while the image is fetched
    assert added.content == "Added the preset `mural`; try `!stylize mural`."
    assert decoded(result.file.data).size == (150, 100)
    assert "mural" in result.content
    assert [c["value"] for c in choices] == ["mural"]
    assert [c["value"] for c in offered][:2] == ["mural", "starry-night"]  # the server's first
    assert removed.content == "Removed the preset `mural`."
    assert_no_mentions_possible(fake_discord)
    fake_discord.assert_clean()


async def test_presets_need_a_server(fake_discord, make_bot, settings):
    async with fake_discord.running(make_bot(settings)):
        image = fake_discord.add_attachment(textured_png(6), "mural.png")
        sent = await fake_discord.send_message("!preset add mural", attachments=[image], dm=True)
        answer = await reply_to(fake_discord, sent)
    assert answer.content == "That only works in a server."
    fake_discord.assert_clean()
