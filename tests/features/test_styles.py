"""`!styles` and `/styles` end to end: one gallery upload plus the list, cached per content."""

from __future__ import annotations

import math
import re

import numpy as np

from bot.assets import PresetCatalog
from bot.features.presets.cog import MAX_CUSTOM_PRESETS
from bot.imaging.sheet import PADDING
from tests.fakediscord import FakeDiscord, SentMessage
from tests.features.conftest import decoded
from tests.features.presets.test_cog import (
    add_guild,
    assert_no_mentions_possible,
    grant_manage_server,
    reply_to,
    solid_png,
)

# contact_sheet's defaults, as the cog uses them
THUMB, COLUMNS, LABEL = 160, 4, 28
HEADER = "**Preset styles** — use them as `!stylize <name>`:"
RED, BLUE, GREEN = (220, 20, 20), (20, 20, 220), (20, 200, 20)


def sheet_size(cells: int) -> tuple[int, int]:
    """The gallery's pixel size for `cells` presets in bot/imaging/sheet.py's layout."""
    cols = min(COLUMNS, cells)
    rows = math.ceil(cells / cols)
    return (cols * THUMB + (cols + 1) * PADDING,
            rows * (THUMB + LABEL) + (rows + 1) * PADDING)


def first_cell_colour(png: bytes) -> np.ndarray:
    """The mean colour inside the first thumbnail of a gallery (a margin left for resampling)."""
    pixels = np.asarray(decoded(png), float)
    inner = pixels[PADDING + 8:PADDING + THUMB - 8, PADDING + 8:PADDING + THUMB - 8]
    return inner.reshape(-1, 3).mean(axis=0)


def is_colour(found: np.ndarray, wanted: tuple[int, int, int]) -> bool:
    return bool(np.abs(found - np.array(wanted, float)).max() < 6)


async def ask_styles(fake: FakeDiscord, channel_id: int | None = None) -> SentMessage:
    """`!styles`; the bot's one message (checked to be the only one it sent for it)."""
    before, cursor = len(fake.messages_created), fake.mark()
    channel_id = int(channel_id or fake.channel_id)
    await fake.send_message("!styles", channel_id=channel_id)
    upload = await fake.wait_for(
        lambda r: r.source == "channel" and r.method == "POST" and r.channel_id == channel_id,
        20, kind=SentMessage, after=cursor, what="the !styles answer")
    assert len(fake.messages_created) == before + 1
    return upload


async def add_preset(fake: FakeDiscord, name: str, png: bytes,
                     channel_id: int | None = None) -> None:
    image = fake.add_attachment(png, f"{name}.png", channel_id=channel_id)
    sent = await fake.send_message(f"!preset add {name}", attachments=[image],
                                   channel_id=channel_id)
    reply = await reply_to(fake, sent)
    assert reply.content.startswith(f"Added the preset `{name}`"), reply.content


async def test_prefix_styles_uploads_a_gallery_and_lists_every_preset(
        fake_discord, make_bot, settings):
    builtin = PresetCatalog.builtin()
    async with fake_discord.running(make_bot(settings)) as bot:
        first = await ask_styles(fake_discord)
        second = await ask_styles(fake_discord)
        cached = len(bot.get_cog("Styles")._sheets)
    assert first.file.filename == "styles.png"
    sheet = decoded(first.file.data)
    assert sheet.size == sheet_size(len(builtin)) == sheet_size(11)
    assert first.file.data[:8] == b"\x89PNG\r\n\x1a\n"
    lines = first.content.splitlines()
    assert lines[0] == HEADER
    assert len(lines) == 1 + len(builtin)
    for line, preset in zip(lines[1:], builtin, strict=True):
        assert line.startswith(f"`{preset.slug}` — {preset.title} ({preset.artist}"), line
    assert "added by this server" not in first.content
    assert second.file.data == first.file.data and second.content == first.content
    assert cached == 1  # the second call was served from the cache, not redrawn
    assert_no_mentions_possible(fake_discord)
    fake_discord.assert_clean()


async def test_slash_styles_defers_then_posts_the_same_gallery(fake_discord, make_bot, settings):
    async with fake_discord.running(make_bot(settings)):
        ix = await fake_discord.send_interaction("styles")
        answer = await ix.next_reply(timeout=20)
        prefix = await ask_styles(fake_discord)
    assert (await ix.callback()).callback_type == 5
    assert not answer.ephemeral
    assert answer.file.data == prefix.file.data
    assert answer.content == prefix.content
    assert decoded(answer.file.data).size == sheet_size(11)
    fake_discord.assert_clean()


async def test_gallery_follows_the_servers_own_presets(fake_discord, make_bot, settings):
    grant_manage_server(fake_discord, fake_discord.alice)
    async with fake_discord.running(make_bot(settings)):
        plain = await ask_styles(fake_discord)
        await add_preset(fake_discord, "red-wall", solid_png(RED))
        with_red = await ask_styles(fake_discord)
        await add_preset(fake_discord, "red-wall", solid_png(BLUE))  # replaced, same name
        with_blue = await ask_styles(fake_discord)
        await add_preset(fake_discord, "zz-one", solid_png(GREEN))
        await add_preset(fake_discord, "zz-two", solid_png(GREEN))
        thirteen = await ask_styles(fake_discord)
        await reply_to(fake_discord, await fake_discord.send_message("!preset remove red-wall"))
        await reply_to(fake_discord, await fake_discord.send_message("!preset remove zz-one"))
        await reply_to(fake_discord, await fake_discord.send_message("!preset remove zz-two"))
        back = await ask_styles(fake_discord)

    assert with_red.file.data != plain.file.data
    assert decoded(with_red.file.data).size == sheet_size(12)
    assert is_colour(first_cell_colour(with_red.file.data), RED)
    assert with_red.content.splitlines()[1] == "`red-wall` — added by this server"
    assert with_red.content.splitlines()[2:] == plain.content.splitlines()[1:]

    assert is_colour(first_cell_colour(with_blue.file.data), BLUE)  # not the stale red one

    assert decoded(thirteen.file.data).size == sheet_size(13)
    assert thirteen.content.count("added by this server") == 3
    assert back.file.data == plain.file.data and back.content == plain.content
    fake_discord.assert_clean()


async def test_each_server_sees_its_own_gallery(fake_discord, make_bot, settings):
    _, elsewhere = add_guild(fake_discord, "Other Guild")
    other = int(elsewhere["id"])
    grant_manage_server(fake_discord, fake_discord.alice)
    grant_manage_server(fake_discord, fake_discord.alice,
                        fake_discord.world.guilds[int(elsewhere["guild_id"])])
    async with fake_discord.running(make_bot(settings)):
        await add_preset(fake_discord, "mural", solid_png(RED))
        await add_preset(fake_discord, "mural", solid_png(GREEN), channel_id=other)
        here = await ask_styles(fake_discord)
        there = await ask_styles(fake_discord, other)
    assert is_colour(first_cell_colour(here.file.data), RED)
    assert is_colour(first_cell_colour(there.file.data), GREEN)  # not the first server's mural
    assert here.content == there.content
    fake_discord.assert_clean()


async def test_a_long_list_is_cut_at_a_line_and_says_how_many_more(
        fake_discord, make_bot, settings):
    line = re.compile(r"`[a-z0-9-]+` — (added by this server|.+ \(.+, \d{4}\))")
    async with fake_discord.running(make_bot(settings)) as bot:
        for index in range(MAX_CUSTOM_PRESETS):  # the most a server may add, longest names
            name = f"{index:02d}-" + "x" * 29
            bot.store.add_preset(fake_discord.guild_id, name, solid_png(GREEN), 1)
        answer = await ask_styles(fake_discord)
    total = MAX_CUSTOM_PRESETS + 11
    assert decoded(answer.file.data).size == sheet_size(total)
    lines = answer.content.splitlines()
    assert len(answer.content) <= 2000
    assert lines[0] == HEADER
    listed = [text for text in lines[1:-1] if line.fullmatch(text)]
    assert len(listed) == len(lines) - 2, "a line was cut or garbled"
    assert lines[-1] == f"…and {total - len(listed)} more in the picture."
    assert listed[0] == f"`00-{'x' * 29}` — added by this server"
    fake_discord.assert_clean()
