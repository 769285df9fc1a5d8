"""`!stylize` and `/stylize` end to end: real bot, real engine, loopback Discord."""

from __future__ import annotations

import numpy as np

from tests.cogs.conftest import decoded, jpeg_bytes


async def test_prefix_preset_paints_the_attached_photo(fake_discord, make_bot, settings, photo):
    bot = make_bot(settings)
    async with fake_discord.running(bot):
        cat = photo("chelsea")
        att = fake_discord.add_attachment(jpeg_bytes(cat), "cat.jpg")
        await fake_discord.send_message("!stylize starry-night", attachments=[att])
        upload = await fake_discord.next_upload(timeout=30)
    result = decoded(upload.file.data)
    assert result.size == cat.size
    assert np.abs(np.asarray(result, float) - np.asarray(cat, float)).mean() > 20
    assert "starry-night" in upload.content
    assert upload.reply_to is not None
    fake_discord.assert_clean()
