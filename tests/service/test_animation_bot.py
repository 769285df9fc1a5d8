"""The bot with `jobs.backend = "serve"` on animations: the service paints every frame and answers
in the format that fits the upload limit (the session's two-node cluster, the loopback Discord)."""

from __future__ import annotations

import dataclasses

from tests.features.stylize.test_animated import (
    PROGRESS,
    assert_painted,
    gif_clip,
    gif_frames,
    mp4_frame_count,
)
from tests.imaging.animation.clips import moving_frames
from tests.service.test_bot_serve import paint, serve_bot, serve_settings

SIZE = (96, 64)
BIG = (192, 128)
UPLOAD_LIMIT = 40_000  # the small GIF (~13 KB) fits, the big one (~48 KB) only as MP4 (~27 KB)


async def test_animations_are_painted_by_the_service_gif_else_mp4(
    service, fake_discord, tmp_path, mirror_dir
):
    settings = serve_settings(tmp_path, mirror_dir, service.url)
    settings = dataclasses.replace(
        settings, limits=dataclasses.replace(settings.limits, max_upload_bytes=UPLOAD_LIMIT))
    bot = serve_bot(settings)
    async with fake_discord.running(bot):
        assert bot._engine is None  # nothing painted here
        small = await paint(fake_discord, "!stylize starry-night",
                            [(gif_clip(6, SIZE, duration=80), "clip.gif")])
        big = await paint(fake_discord, "!stylize starry-night",
                          [(gif_clip(12, BIG), "big.gif")])
    assert small.file.filename == "stylized.gif", small.content
    frames, durations, loop = gif_frames(small.file.data)
    assert_painted(frames, moving_frames(6, SIZE))
    assert (durations, loop) == ([80] * 6, 0)
    assert "6 frames, 0.5 s" in small.content
    assert "sent as" not in small.content
    # The service streamed its frame count: one status line, edited as the frames were painted.
    statuses = [m for m in fake_discord.messages_created
                if m.reply_to == small.reply_to and not m.files]
    texts = [text for status in statuses for text in [status.content] + [
        e.content for e in fake_discord.messages_edited if e.message_id == status.message_id]]
    counts = [int(match.group(1)) for text in texts if (match := PROGRESS.match(text or ""))]
    assert counts and counts == sorted(counts) and counts[-1] == 6, texts
    assert all(match.group(2) == "6" for text in texts if (match := PROGRESS.match(text or "")))
    assert big.file.filename == "stylized.mp4", big.content
    assert len(big.file.data) <= UPLOAD_LIMIT
    assert mp4_frame_count(big.file.data) == (12, BIG)
    assert "12 frames" in big.content and "sent as MP4 to fit the upload limit" in big.content
    fake_discord.assert_clean()
