"""`stylebot run` with `jobs.backend = "serve"` as a real process: journaled jobs survive a
restart and are painted by the service afterwards."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path

from bot.features.stylize.remote import STILL_TRYING
from tests.fakediscord import FakeDiscord, SentMessage
from tests.features.conftest import decoded, diff, jpeg_bytes
from tests.hardening.processes import BotProcess
from tests.hardening.test_restarts import RESTARTING, ask
from tests.service.cluster import LOOPBACK, free_port


def write_config(path: Path, data_dir: Path, mirror: Path, url: str) -> None:
    path.write_text(
        '[jobs]\nbackend = "serve"\n'
        f'serve_url = "{url}"\nserve_retries = 40\ncooldown = 0.0\ngrace_period = 1.0\n'
        "[limits]\ndefault_output_side = 512\njob_timeout = 120.0\n"
        f'[paths]\ndata_dir = "{data_dir}"\nmirror = "{mirror}"\n'
    )
    path.chmod(0o600)


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.05)


async def test_journaled_jobs_are_painted_by_the_service_after_a_restart(
    service, fake, tmp_path, mirror_dir, photo
):
    """The first run's service never answers, so its jobs are still retrying when it stops;
    the next run, now pointed at the service, paints each of them once."""
    config, data_dir = tmp_path / "bot.toml", tmp_path / "data"
    write_config(config, data_dir, mirror_dir, f"http://{LOOPBACK}:{free_port()}")
    bot = BotProcess(fake, config, data_dir, tmp_path / "bot.log")
    cat = jpeg_bytes(photo("chelsea", (240, 160)))
    try:
        await bot.start()
        assert "not answering /healthz" in bot.log
        first, _ = await ask(fake, fake.alice, cat, "!stylize udnie")
        second, _ = await ask(fake, fake.bob, cat, "!stylize starry-night")
        await until(lambda: sum(m.content == STILL_TRYING
                                for m in fake.messages_created + fake.messages_edited) >= 2)
        await bot.stop(signal.SIGTERM)
        assert len(bot.journal()) == 2
        told = [m for m in fake.messages_created if m.content == RESTARTING]
        assert {m.reply_to for m in told} == {int(first["id"]), int(second["id"])}

        write_config(config, data_dir, mirror_dir, service.url)
        await bot.start()
        await until(lambda: all(paintings(fake, r) for r in (first, second)), 60)
        udnie, starry = paintings(fake, first)[0], paintings(fake, second)[0]
        assert "udnie" in udnie.content and "starry-night" in starry.content
        assert diff(decoded(udnie.file.data), decoded(starry.file.data)) > 10
        await bot.stop(signal.SIGTERM)
        assert bot.journal() == []
    finally:
        if bot.running:
            bot.proc.kill()
            await bot.proc.wait()
    assert "Traceback" not in bot.log, bot.log[-3000:]
    assert "openvino" not in bot.log.lower()
    for request in (first, second):
        results = paintings(fake, request)
        assert len(results) == 1 and decoded(results[0].file.data).size == (240, 160)


def paintings(fake: FakeDiscord, request: dict) -> list[SentMessage]:
    return [m for m in fake.messages_created if m.reply_to == int(request["id"]) and m.files]
