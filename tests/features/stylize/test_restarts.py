"""restarts: the journal left by the last run is redone once connected; entries that cannot be
redone are dropped (the whole restart, with the real process: tests/hardening/test_restarts.py)."""

from __future__ import annotations

import asyncio

from bot.features.stylize.journal import Recipe, StyleSource
from bot.store import Store
from bot.stylization import StylizeOptions


async def test_entries_that_cannot_be_redone_are_dropped_without_a_word(fake_discord, make_bot,
                                                                         settings):
    deleted_message = Recipe(
        kind="message", guild_id=fake_discord.guild_id, channel_id=fake_discord.channel_id,
        user_id=int(fake_discord.alice["id"]), upload_limit=8 * 1024 * 1024,
        content_url="https://cdn.discordapp.com/attachments/1/2/photo.jpg",
        styles=(StyleSource(preset="starry-night"),), options=StylizeOptions(),
        message_id=123456789012345678)  # never posted: fetching it answers 404
    with Store(settings.paths.data_dir / "stylebot.sqlite3") as store:
        store.journal_add("from-a-newer-bot", {"version": 99, "kind": "message"})
        store.journal_add("deleted-message", deleted_message.to_payload())
    bot = make_bot(settings)
    async with fake_discord.running(bot):
        for _ in range(200):  # the redo runs from on_ready, just after running() returns
            pending = bot.store.journal_pending()
            if not pending:
                break
            await asyncio.sleep(0.05)
    assert pending == []
    fetched = [r for r in fake_discord.requests
               if r.method == "GET" and r.path.endswith(f"/messages/{deleted_message.message_id}")]
    assert len(fetched) == 1 and fetched[0].status == 404
    assert fake_discord.messages_created == [] and fake_discord.typing_calls == []
    fake_discord.assert_clean()
