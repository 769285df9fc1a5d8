"""The bot with `jobs.backend = "serve"`: the real bot, no engine, painting on the real service
(the session's two-node Ray cluster) over real HTTP, against the loopback Discord."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
from pathlib import Path

from bot.app import create_bot
from bot.config import Settings
from bot.features.stylize.remote import STILL_TRYING
from bot.service.errors import NOT_ANSWERING
from tests.fakediscord import SentMessage
from tests.features.conftest import decoded, diff, jpeg_bytes
from tests.features.presets.test_cog import grant_manage_server, textured_png
from tests.features.stylize.test_result_buttons import click, held
from tests.features.stylize.test_stylize_slash import slash
from tests.service.cluster import LOOPBACK, free_port, wait_for_painters


def serve_settings(tmp_path: Path, mirror: Path, url: str, **jobs: object) -> Settings:
    """Bot settings on the service at `url`: tmp data, the mirror, no cooldown, 512 px."""
    base = Settings()
    return dataclasses.replace(
        base,
        paths=dataclasses.replace(base.paths, data_dir=tmp_path / "data",
                                  cache_dir=tmp_path / "cache", mirror=mirror),
        jobs=dataclasses.replace(base.jobs, backend="serve", serve_url=url, cooldown=0.0,
                                 grace_period=10.0, position_interval=0.0, **jobs),
        limits=dataclasses.replace(base.limits, default_output_side=512),
    )


def serve_bot(settings: Settings):
    bot = create_bot(settings, allow_loopback_cdn=True, guild_ready_timeout=0.05)

    async def no_identify_wait(shard_id, *, initial=False):  # discord.py waits 5 s
        return None

    bot.before_identify_hook = no_identify_wait
    return bot


async def paint(fake, words: str, attachments, **message) -> SentMessage:
    """Send `!stylize ...`; return the bot's one answer to it, which must carry a painting."""
    sent = await fake.send_message(words, attachments=list(attachments), **message)
    reply = await fake.wait_for(
        lambda m: m.source == "channel" and m.method == "POST" and m.reply_to == int(sent["id"])
        and bool(m.files), 60, kind=SentMessage, what=f"the painting for {words!r}")
    return reply


def replies_to(fake, message_id: int) -> list[SentMessage]:
    return [m for m in fake.messages_created if m.reply_to == message_id]


async def test_every_form_is_painted_by_the_service_and_answered_once(
    service, fake_discord, tmp_path, mirror_dir, photo
):
    cat = photo("chelsea")
    style = photo("coffee", (300, 200))
    grant_manage_server(fake_discord, fake_discord.alice)
    bot = serve_bot(serve_settings(tmp_path, mirror_dir, service.url))
    async with fake_discord.running(bot):
        assert bot._engine is None  # nothing painted here
        preset = await paint(fake_discord, "!stylize starry-night",
                             [(jpeg_bytes(cat), "cat.jpg")])
        own = await paint(fake_discord, "!stylize",
                          [(jpeg_bytes(cat), "cat.jpg"), (jpeg_bytes(style), "coffee.jpg")])
        att = fake_discord.add_attachment(jpeg_bytes(cat), "cat.jpg")
        slashed = await slash(fake_discord, {"content": att, "style": "starry-night"})
        weaker = await click(fake_discord, await held(bot, preset), "stylebot:weaker")
        added = await fake_discord.send_message(
            "!preset add My_Mural", attachments=[(textured_png(1), "mural.png")])
        await fake_discord.wait_for(
            lambda m: m.reply_to == int(added["id"]), 10, kind=SentMessage, what="preset added")
        mural = await paint(fake_discord, "!stylize my-mural", [(jpeg_bytes(cat), "cat.jpg")])
    starry = decoded(preset.file.data)
    assert starry.size == cat.size and diff(starry, cat) > 20
    assert "starry-night" in preset.content
    assert decoded(own.file.data).size == cat.size and "image 1" in own.content
    assert diff(decoded(own.file.data), starry) > 15
    assert diff(decoded(slashed.file.data), starry) < 3  # the same painting, by any replica
    assert "strength 0.75" in weaker.content
    assert diff(decoded(weaker.file.data), cat) < diff(starry, cat)
    assert "my-mural" in mural.content and diff(decoded(mural.file.data), starry) > 15
    for message in (preset, own, mural):  # one answer each, no error beside the painting
        assert len(replies_to(fake_discord, message.reply_to)) == 1
    fake_discord.assert_clean()


async def test_a_service_that_stops_while_jobs_wait_finishes_them_once_back(
    service, fake_discord, tmp_path, mirror_dir, photo
):
    """Both apps are deleted from the cluster while two jobs wait (one slot): their users are
    told, the jobs retry, and both are painted once they are deployed again."""
    from bot.service.app import delete_service, run_service

    cat = jpeg_bytes(photo("chelsea", (240, 160)))
    settings = serve_settings(tmp_path, mirror_dir, service.url, remote_slots=1,
                              serve_retries=40)
    settings = dataclasses.replace(
        settings, limits=dataclasses.replace(settings.limits, job_timeout=150.0))
    bot = serve_bot(settings)
    async with fake_discord.running(bot):
        await asyncio.to_thread(delete_service)
        try:
            first = await fake_discord.send_message(
                "!stylize udnie", attachments=[(cat, "a.jpg")])
            second = await fake_discord.send_message(
                "!stylize udnie", author=fake_discord.bob, attachments=[(cat, "b.jpg")])
            await fake_discord.wait_for(
                lambda m: (m.content or "") == STILL_TRYING, 30, kind=SentMessage,
                what="the still-trying status line")
        finally:
            await asyncio.to_thread(run_service, service.settings)
        answers = [
            await fake_discord.wait_for(
                lambda m, sent=sent: m.method == "POST" and m.reply_to == int(sent["id"])
                and bool(m.files), 120, kind=SentMessage, what="a painting after the outage")
            for sent in (first, second)
        ]
    assert all(decoded(a.file.data).size == (240, 160) for a in answers)
    assert not any(NOT_ANSWERING in (m.content or "") for m in fake_discord.messages_created)
    await asyncio.to_thread(wait_for_painters, 2)


async def test_a_service_that_never_answers_is_one_sentence(fake_discord, tmp_path, mirror_dir,
                                                           photo, caplog):
    """Nobody listens at serve_url: the bot starts anyway (a warning), retries, then says so."""
    url = f"http://{LOOPBACK}:{free_port()}"
    settings = serve_settings(tmp_path, mirror_dir, url, serve_retries=2)
    bot = serve_bot(settings)
    async with fake_discord.running(bot):
        sent = await fake_discord.send_message(
            "!stylize udnie", attachments=[(jpeg_bytes(photo("chelsea", (120, 80))), "c.jpg")])
        reply = await fake_discord.wait_for(
            lambda m: m.method == "POST" and m.reply_to == int(sent["id"])
            and (m.content or "") == NOT_ANSWERING, 30, kind=SentMessage, what="the sentence")
    assert not reply.files
    assert any((m.content or "") == STILL_TRYING for m in fake_discord.messages_created)
    assert "not answering /healthz" in caplog.text


def test_the_bot_on_the_service_imports_neither_openvino_nor_ray():

    code = ("import sys, bot.app, bot.commands.run, bot.features.stylize.remote; "
            "print(sorted(m for m in ('openvino', 'ray', 'tensorflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout
