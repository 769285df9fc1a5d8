"""Animations end to end: GIFs, videos and Tenor GIFs painted frame by frame by the real bot and
engine against the loopback Discord, with progress, upload fitting, admission and re-runs."""

from __future__ import annotations

import asyncio
import io
import re
import threading

import av
import numpy as np
from PIL import Image, ImageSequence

from bot.engine.openvino_net import FRAMES_PER_STREAM
from bot.features.stylize.journal import Recipe, StyleSource
from bot.store import Store
from bot.stylization import StylizeOptions
from tests.fakediscord import SentMessage
from tests.fakediscord import payloads as p
from tests.features.conftest import jpeg_bytes
from tests.features.stylize.test_result_buttons import STRONGER, click, held
from tests.gated import GatedEngine
from tests.imaging.animation.clips import audio_only, moving_frames, pillow_animation, video

PROGRESS = re.compile(r"^🎨 Painting frame (\d+)/(\d+) ([▰▱]{10})$")
BUSY = "One animation at a time, please; try again shortly."
SIZE = (96, 64)


def gif_clip(count: int = 6, size: tuple[int, int] = SIZE, duration: int = 80) -> bytes:
    return pillow_animation(moving_frames(count, size), "GIF", durations=duration, loop=0)


def png_still(size: tuple[int, int] = SIZE) -> bytes:
    out = io.BytesIO()
    Image.fromarray(moving_frames(1, size)[0]).save(out, "PNG")
    return out.getvalue()


def gif_frames(data: bytes) -> tuple[list[np.ndarray], list[int], int | None]:
    """The frames (RGB), durations and loop of uploaded GIF bytes (fails if not a GIF)."""
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "GIF", image.format
        frames, durations = [], []
        for frame in ImageSequence.Iterator(image):
            frames.append(np.asarray(frame.convert("RGB"), dtype=float))
            durations.append(frame.info.get("duration"))
        return frames, durations, image.info.get("loop")


def mp4_frame_count(data: bytes) -> tuple[int, tuple[int, int]]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
    return len(frames), (frames[0].width, frames[0].height)


def assert_painted(frames: list[np.ndarray], source: list[np.ndarray]) -> None:
    """Each frame is the source frame painted: its size, clearly changed."""
    assert len(frames) == len(source)
    for out, original in zip(frames, source, strict=True):
        assert out.shape == original.shape
        assert np.abs(out - original.astype(float)).mean() > 15


async def ask(fake, words: str, **message):
    sent = await fake.send_message(words, **message)
    reply = await fake.wait_for(
        lambda r: r.reply_to == int(sent["id"]) and bool(r.files), 60,
        kind=SentMessage, what=f"the painting for {words!r}")
    return sent, reply


async def test_an_attached_gif_is_painted_frame_by_frame_with_progress(fake_discord, make_bot,
                                                                       settings):
    source = moving_frames(6, SIZE)
    bot = make_bot(settings)
    async with fake_discord.running(bot):
        att = fake_discord.add_attachment(gif_clip(), "cat.gif")
        sent, reply = await ask(fake_discord, "!stylize starry-night", attachments=[att])
    assert reply.file.filename == "stylized.gif"
    frames, durations, loop = gif_frames(reply.file.data)
    assert_painted(frames, source)
    assert durations == [80] * 6 and loop == 0
    assert "starry-night" in reply.content and "6 frames, 0.5 s" in reply.content
    assert "96×64" in reply.content
    # The status line counted the frames (position_interval 0: every frame shown), then went.
    statuses = [m for m in fake_discord.messages_created
                if m.reply_to == int(sent["id"]) and not m.files]
    assert len(statuses) == 1
    line = statuses[0]
    texts = [line.content] + [e.content for e in fake_discord.messages_edited
                              if e.message_id == line.message_id]
    counts = [PROGRESS.match(text or "") for text in texts]
    assert all(counts), texts
    done = [int(match.group(1)) for match in counts if match]
    assert done == sorted(done) and done[-1] == 6 and all(int(m.group(2)) == 6 for m in counts)
    assert counts[-1].group(3) == "▰" * 10
    assert line.message_id in {d.message_id for d in fake_discord.messages_deleted}
    fake_discord.assert_clean()


async def test_a_reply_to_a_video_paints_the_video(fake_discord, make_bot, settings):
    source = moving_frames(8, SIZE)
    clip = video(source, "mp4", fps=12)
    async with fake_discord.running(make_bot(settings)):
        posted = await fake_discord.send_message(
            "look", author=fake_discord.bob,
            attachments=[fake_discord.add_attachment(clip, "clip.mp4")])
        _, reply = await ask(fake_discord, "!stylize the-scream", referenced_message=posted)
    frames, durations, _ = gif_frames(reply.file.data)
    assert len(frames) == 8 and frames[0].shape == (64, 96, 3)
    assert sum(durations) == 8 * 1000 // 12 or abs(sum(durations) - 8000 / 12) <= 8 * 10
    assert "8 frames" in reply.content
    fake_discord.assert_clean()


async def test_a_tenor_gif_is_fetched_through_discords_proxy_only(fake_discord, make_bot,
                                                                  settings):
    source = moving_frames(6, SIZE)
    async with fake_discord.running(make_bot(settings)):
        embed = fake_discord.add_tenor_gif(video(source, "mp4", fps=10), png_still(), *SIZE)
        gif = await fake_discord.send_message(embed["url"], author=fake_discord.bob,
                                              embeds=[embed])
        _, replied = await ask(fake_discord, "!stylize udnie", referenced_message=gif)
        # The same message: the link's word is the photo, not a preset name.
        _, same = await ask(fake_discord, f"!stylize starry-night {embed['url']}",
                            embeds=[embed])
    for reply in (replied, same):
        frames, _, _ = gif_frames(reply.file.data)
        assert_painted(frames, source)
    fetched = [r.path for r in fake_discord.requests if r.path.startswith("/external/")]
    assert fetched and all(path.endswith(".mp4") for path in fetched), fetched
    assert all("tenor" not in r.path or r.path.startswith("/external/")
               for r in fake_discord.requests)
    fake_discord.assert_clean()


async def test_a_gif_too_big_to_upload_comes_as_mp4(fake_discord, make_bot, settings):
    source = moving_frames(12, (192, 128))
    bot = make_bot(settings, limits={"max_upload_bytes": 40_000})
    async with fake_discord.running(bot):
        att = fake_discord.add_attachment(gif_clip(12, (192, 128)), "big.gif")
        _, reply = await ask(fake_discord, "!stylize starry-night", attachments=[att])
    assert reply.file.filename == "stylized.mp4", reply.content
    assert len(reply.file.data) <= 40_000
    count, size = mp4_frame_count(reply.file.data)
    assert count == len(source) and size == (192, 128)
    assert "sent as MP4 to fit the upload limit" in reply.content
    fake_discord.assert_clean()


async def test_a_long_clip_is_trimmed_and_the_reply_says_so(fake_discord, make_bot, settings):
    bot = make_bot(settings, limits={"max_frames": 4})
    async with fake_discord.running(bot):
        att = fake_discord.add_attachment(gif_clip(10), "long.gif")
        _, reply = await ask(fake_discord, "!stylize starry-night", attachments=[att])
    frames, _, _ = gif_frames(reply.file.data)
    assert len(frames) == 4
    assert "painted the first 4 frames of 10" in reply.content
    fake_discord.assert_clean()


async def test_one_animation_at_a_time_stills_still_served(fake_discord, make_bot, settings,
                                                          photo, gated_engine):
    bot = make_bot(settings, jobs={"workers": 1, "max_animated": 1})
    bot.engine, gate = gated_engine  # alice's animation holds on its first frame
    async with fake_discord.running(bot):
        first = await fake_discord.send_message(
            "!stylize starry-night", attachments=[fake_discord.add_attachment(gif_clip(), "a.gif")])
        await fake_discord.next_typing(timeout=20)  # admitted and queued
        second = await fake_discord.send_message(
            "!stylize starry-night", author=fake_discord.bob,
            attachments=[fake_discord.add_attachment(gif_clip(), "b.gif")])
        refusal = await fake_discord.wait_for(
            lambda r: r.reply_to == int(second["id"]), 20, kind=SentMessage, what="bob's answer")
        still = await fake_discord.send_message(
            "!stylize starry-night", author=fake_discord.carol,
            attachments=[fake_discord.add_attachment(jpeg_bytes(photo("chelsea")), "c.jpg")])
        await fake_discord.wait_for(
            lambda r: r.reply_to == int(still["id"]) and "number 1" in (r.content or ""), 20,
            kind=SentMessage, what="carol's queue position")
        gate.set()
        for request in (first, still):
            await fake_discord.wait_for(
                lambda r, rid=int(request["id"]): r.reply_to == rid and bool(r.files), 60,
                kind=SentMessage, what="a painting")
        # the slot is free again: bob may now ask
        _, again = await ask(fake_discord, "!stylize starry-night", author=fake_discord.bob,
                             attachments=[fake_discord.add_attachment(gif_clip(), "b.gif")])
        slots = bot.get_cog("Stylize").animations.slots
        for _ in range(100):  # freed once the result is posted
            if slots.taken == 0:
                break
            await asyncio.sleep(0.02)
        assert slots.taken == 0
    assert refusal.content == BUSY and not refusal.files
    assert again.file.filename == "stylized.gif"
    fake_discord.assert_clean()


async def test_a_button_repaints_the_animation(fake_discord, make_bot, settings):
    source = moving_frames(6, SIZE)
    async with fake_discord.running(make_bot(settings)) as bot:
        att = fake_discord.add_attachment(gif_clip(), "cat.gif")
        _, result = await ask(fake_discord, "!stylize starry-night strength=0.5",
                              attachments=[att])
        await held(bot, result)
        stronger = await click(fake_discord, result, STRONGER)
    assert stronger.file.filename == "stylized.gif"
    half, full = (gif_frames(m.file.data)[0] for m in (result, stronger))
    assert len(full) == len(source)
    changed = [np.abs(a - s.astype(float)).mean() for a, s in zip(half, source, strict=True)]
    stronger_changed = [np.abs(a - s.astype(float)).mean()
                        for a, s in zip(full, source, strict=True)]
    assert np.mean(stronger_changed) > np.mean(changed) + 3
    assert "strength 0.75" in stronger.content and "6 frames" in stronger.content
    fake_discord.assert_clean()


async def test_a_journaled_animation_is_redone_after_a_restart(fake_discord, make_bot, settings):
    att = fake_discord.add_attachment(gif_clip(), "cat.gif")
    request = p.message(fake_discord.world.ids.next(), fake_discord.channel_id,
                        fake_discord.alice, "!stylize starry-night",
                        guild_id=fake_discord.guild_id, attachments=[att])
    fake_discord.world.store_message(request)
    recipe = Recipe(
        kind="message", guild_id=fake_discord.guild_id, channel_id=fake_discord.channel_id,
        user_id=int(fake_discord.alice["id"]), upload_limit=8 * 1024 * 1024,
        content_url=att["url"], styles=(StyleSource(preset="starry-night"),),
        options=StylizeOptions(max_side=512), message_id=int(request["id"]))
    with Store(settings.paths.data_dir / "stylebot.sqlite3") as store:
        store.journal_add("an-animation", recipe.to_payload())
    bot = make_bot(settings)
    async with fake_discord.running(bot):
        reply = await fake_discord.wait_for(
            lambda r: r.reply_to == int(request["id"]) and bool(r.files), 60,
            kind=SentMessage, what="the redone animation")
        for _ in range(100):
            pending = bot.store.journal_pending()
            if not pending:
                break
            await asyncio.sleep(0.05)
    assert pending == []  # answered, so forgotten
    assert reply.file.filename == "stylized.gif"
    assert len(gif_frames(reply.file.data)[0]) == 6
    fake_discord.assert_clean()


async def test_slash_stylize_paints_an_attached_video(fake_discord, make_bot, settings):
    clip = video(moving_frames(6, SIZE), "webm", fps=12)
    async with fake_discord.running(make_bot(settings)):
        att = fake_discord.add_attachment(clip, "clip.webm")
        ix = await fake_discord.send_interaction(
            "stylize", {"content": att, "style": "starry-night"})
        reply = await fake_discord.wait_for(
            lambda r: getattr(r, "token", None) == ix.token and bool(r.files), 60,
            kind=SentMessage, what="the slash painting")
    frames, _, _ = gif_frames(reply.file.data)
    assert len(frames) == 6
    fake_discord.assert_clean()


async def test_the_frame_count_is_edited_at_most_every_position_interval(fake_discord, make_bot,
                                                                         settings):
    bot = make_bot(settings, jobs={"position_interval": 600.0})  # longer than any job may run
    async with fake_discord.running(bot):
        att = fake_discord.add_attachment(gif_clip(), "cat.gif")
        sent, reply = await ask(fake_discord, "!stylize starry-night", attachments=[att])
    statuses = [m for m in fake_discord.messages_created
                if m.reply_to == int(sent["id"]) and not m.files]
    assert [PROGRESS.match(m.content or "") is not None for m in statuses] == [True]
    assert not [e for e in fake_discord.messages_edited if e.message_id == statuses[0].message_id]
    # the newest count when the line is first sent: frames come back two at a time (streams)
    assert re.match(r"🎨 Painting frame [1-6]/6 ", statuses[0].content)
    assert "6 frames" in reply.content
    fake_discord.assert_clean()


async def test_a_video_without_a_picture_gets_one_sentence(fake_discord, make_bot, settings):
    async with fake_discord.running(make_bot(settings)):
        for data, name in ((audio_only(), "song.mp4"),
                           (video(moving_frames(8, SIZE), "mp4")[:900], "half.mp4")):
            sent = await fake_discord.send_message(
                "!stylize starry-night", attachments=[fake_discord.add_attachment(data, name)])
            answer = await fake_discord.wait_for(
                lambda r, rid=int(sent["id"]): r.reply_to == rid, 30, kind=SentMessage,
                what="the answer")
            assert not answer.files
            assert answer.content in ("The video has no picture to paint (only sound).",
                                      "The video is damaged or incomplete."), answer.content
    fake_discord.assert_clean()


async def test_a_timed_out_animation_stops_at_its_next_frame(fake_discord, make_bot, settings,
                                                             lite_engine):
    """It stops when its next painting comes back: the frames already on the network's streams
    (at most FRAMES_PER_STREAM for each of the 2-thread engine's <= 2 streams) are finished."""
    gate, frames_begun = threading.Event(), []

    def wait(timeout: float) -> bool:  # each frame waits here: count them
        frames_begun.append(1)
        return gate.wait(timeout)

    bot = make_bot(settings, jobs={"animation_timeout": 0.5})
    bot.engine = GatedEngine(lite_engine, wait)
    try:
        async with fake_discord.running(bot):
            sent = await fake_discord.send_message(
                "!stylize starry-night",
                attachments=[fake_discord.add_attachment(gif_clip(30), "long.gif")])
            answer = await fake_discord.wait_for(
                lambda r: r.reply_to == int(sent["id"]) and not PROGRESS.match(r.content or ""),
                30, kind=SentMessage, what="the timeout sentence")
            gate.set()  # the thread paints the frame it was on, then stops
            slots = bot.get_cog("Stylize").animations.slots
            for _ in range(500):
                if slots.taken == 0 and bot.jobs.running == 0:
                    break
                await asyncio.sleep(0.02)
            assert slots.taken == 0 and bot.jobs.running == 0
    finally:
        gate.set()
    assert answer.content == "The job took longer than 0.5 s and was stopped."
    assert not answer.files
    assert 1 <= len(frames_begun) <= 1 + 2 * FRAMES_PER_STREAM  # not the other 29
    fake_discord.assert_clean()
