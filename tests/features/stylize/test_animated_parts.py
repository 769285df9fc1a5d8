"""The parts of animated requests: telling animations from stills, the progress line, the
animation slots, and the embedded GIF's proxy URL."""

from __future__ import annotations

import asyncio
import io
import threading
from types import SimpleNamespace

import discord
import pytest
from PIL import Image

from bot.features.stylize.animated import (
    AnimationBusy,
    AnimationSlots,
    animation_caption,
    is_animation,
    progress_line,
)
from bot.features.stylize.embedded import embedded_media_url, without_embedded_links
from tests.imaging.animation.clips import moving_frames, pillow_animation, video

PROXY = "https://images-ext-1.discordapp.net/external/abc/https/media.tenor.com/x/cat"


def still(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.fromarray(moving_frames(1)[0]).save(out, fmt)
    return out.getvalue()


def test_animations_are_told_by_their_bytes():
    frames = moving_frames(3)
    for fmt in ("GIF", "PNG", "WEBP"):
        assert is_animation(pillow_animation(frames, fmt)), fmt
        assert not is_animation(still(fmt)), fmt
    assert is_animation(video(frames, "mp4"))
    assert not is_animation(still("JPEG"))
    assert not is_animation(b"not a picture at all")


def test_progress_line():
    assert progress_line(48, 120) == "🎨 Painting frame 48/120 ▰▰▰▰▱▱▱▱▱▱"
    assert progress_line(1, 6) == "🎨 Painting frame 1/6 ▰▱▱▱▱▱▱▱▱▱"
    assert progress_line(6, 6).endswith("▰" * 10)
    assert progress_line(7, 6) == "🎨 Painting frame 7/7 " + "▰" * 10  # more than expected


async def test_slots_refuse_beyond_the_limit_and_free_when_the_work_ends():
    slots = AnimationSlots(2)
    first, second = slots.take(), slots.take()
    with pytest.raises(AnimationBusy, match=r"^One animation at a time, please; try again"):
        slots.take()
    second.settled()  # its job never ran (dropped from the queue): freed at once
    assert slots.taken == 1
    third = slots.take()
    third.settled()
    assert slots.taken == 1

    started, release = threading.Event(), threading.Event()

    def work(value: int) -> int:
        started.set()
        release.wait(10)
        return value

    running = asyncio.get_running_loop().run_in_executor(None, first.running(work), 7)
    await asyncio.to_thread(started.wait, 10)
    first.settled()  # e.g. the job timed out: its thread still paints, so the slot stays taken
    assert slots.taken == 1
    release.set()
    assert await running == 7
    await asyncio.sleep(0)  # the thread's call_soon_threadsafe
    assert slots.taken == 0
    first.settled()
    assert slots.taken == 0  # freed once only


def message(*embeds: dict) -> SimpleNamespace:
    return SimpleNamespace(embeds=[discord.Embed.from_dict(e) for e in embeds])


def test_the_embedded_gif_is_its_discord_proxy_url():
    tenor = {"type": "gifv", "url": "https://tenor.com/view/cat-gif-1",
             "thumbnail": {"url": "https://media.tenor.com/x/cat.png",
                           "proxy_url": f"{PROXY}.png"},
             "video": {"url": "https://media.tenor.com/x/cat.mp4", "proxy_url": f"{PROXY}.mp4"}}
    assert embedded_media_url(message(tenor)) == f"{PROXY}.mp4"
    no_clip = {**tenor, "video": {"url": "https://media.tenor.com/x/cat.mp4"}}
    assert embedded_media_url(message(no_clip)) == f"{PROXY}.png"
    picture = {"type": "image", "url": "https://example.com/cat.gif",
               "thumbnail": {"url": "https://example.com/cat.gif", "proxy_url": f"{PROXY}.gif"}}
    assert embedded_media_url(message(picture)) == f"{PROXY}.gif"
    # a page's preview (a YouTube thumbnail, an article's picture) is not what was posted
    page = {"type": "video", "url": "https://www.youtube.com/watch?v=x",
            "video": {"url": "https://www.youtube.com/embed/x"},
            "thumbnail": {"url": "https://i.ytimg.com/x.jpg", "proxy_url": f"{PROXY}.jpg"}}
    article = {"type": "article", "url": "https://example.com/news",
               "thumbnail": {"url": "https://example.com/a.jpg", "proxy_url": f"{PROXY}.jpg"}}
    assert embedded_media_url(message(page, article)) is None
    assert embedded_media_url(message(page, tenor)) == f"{PROXY}.mp4"
    assert embedded_media_url(message()) is None


def test_the_embedded_link_is_not_a_style_word():
    tenor = message({"type": "gifv", "url": "https://tenor.com/view/cat-gif-1"})
    assert without_embedded_links("udnie https://tenor.com/view/cat-gif-1 strength=0.5",
                                  tenor) == "udnie strength=0.5"
    assert without_embedded_links("udnie <https://tenor.com/view/cat-gif-1>", tenor) == "udnie"
    assert without_embedded_links("udnie https://example.com/x", tenor) == (
        "udnie https://example.com/x")


def test_the_caption_says_what_was_trimmed_and_why_it_is_an_mp4():
    from bot.animation import AnimationResult
    from bot.features.stylize.painting import RenderRequest, StyleInput
    from bot.imaging.animation import PaintedClip
    from bot.imaging.animation.fit import FittedAnimation
    from bot.stylization import StylizeOptions

    clip = PaintedClip([f for f in moving_frames(4)], [100.0] * 4, 0)
    result = AnimationResult(clip, "GIF", 300, "painted the first 4 frames of 300")
    request = RenderRequest(b"", (StyleInput("udnie", b""),), StylizeOptions(strength=0.5))
    as_gif = animation_caption(request, result, FittedAnimation(b"", "GIF", (96, 64)), 2.5)
    assert as_gif == ("🎨 udnie · strength 0.5 · 96×64 · 4 frames, 0.4 s · 2.5 s · "
                      "painted the first 4 frames of 300")
    smaller = animation_caption(request, result, FittedAnimation(b"", "MP4", (48, 32)), 2.5)
    assert "48×32" in smaller and "sent as MP4 and made smaller to fit the upload limit" in smaller
