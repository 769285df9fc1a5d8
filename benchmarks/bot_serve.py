"""The bot on the painting service: `!stylize` end to end and start-up, jobs.backend serve vs local.

Run: STYLEBOT_MIRROR=../shared python -m benchmarks.bot_serve [--reps N]

One local Ray instance on loopback with the service deployed (1 painter replica of 2 threads,
all of this machine's cores, as the in-process engine gets); the real bot against the loopback
Discord in the same process. Measured: the bot's start-up (connect to READY, and setup_hook
alone: with backend = "serve" no engine is loaded, only /healthz is asked), then `!stylize
starry-night` with a 1024x768 photo, from the message to the painting's upload (median of
--reps, target <= 0.5 s), and the same with backend = "local" (a 2-thread engine here).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import cpu_summary, jpeg_bytes, load, mirror
from benchmarks.service import SIZE, STYLE, local_serve, settings
from bot.app import create_bot
from bot.config import Settings
from tests.fakediscord import FakeDiscord, SentMessage


def bot_settings(cache: Path, data: Path, backend: str, url: str) -> Settings:
    base = Settings()
    return dataclasses.replace(
        base,
        paths=dataclasses.replace(base.paths, data_dir=data, cache_dir=cache, mirror=mirror()),
        jobs=dataclasses.replace(base.jobs, backend=backend, serve_url=url, cooldown=0.0,
                                 position_interval=0.0),
        engine=dataclasses.replace(base.engine, threads=2),
    )


async def run_bot(fake: FakeDiscord, settings: Settings, photo: bytes, reps: int) -> dict:
    bot = create_bot(settings, allow_loopback_cdn=True, guild_ready_timeout=0.05)

    async def no_identify_wait(shard_id: int | None, *, initial: bool = False) -> None:
        return None

    bot.before_identify_hook = no_identify_wait
    setup = bot.setup_hook
    timings: dict[str, float] = {}

    async def timed_setup() -> None:
        began = time.perf_counter()
        await setup()
        timings["setup_hook"] = time.perf_counter() - began

    bot.setup_hook = timed_setup  # type: ignore[method-assign]
    began = time.perf_counter()
    trips = []
    async with fake.running(bot, ready_timeout=120):
        timings["start"] = time.perf_counter() - began
        for number in range(reps + 1):  # the first one warms up (connections, shapes)
            sent_at = time.perf_counter()
            sent = await fake.send_message(f"!stylize {STYLE}", attachments=[(photo, "p.jpg")])
            await fake.wait_for(
                lambda m, sent=sent: m.method == "POST" and bool(m.files)
                and m.reply_to == int(sent["id"]), 60, kind=SentMessage, what="the painting")
            if number:
                trips.append(time.perf_counter() - sent_at)
    return {**timings, "median": statistics.median(trips), "min": min(trips),
            "max": max(trips)}


async def measure(reps: int) -> None:
    from bot.service.app import run_service

    cache = Path(tempfile.gettempdir()) / "stylebot-bench-service-cache"
    photo = jpeg_bytes(*SIZE)
    print(cpu_summary())
    print(f"{load()}; photo {SIZE[0]}x{SIZE[1]} JPEG, preset {STYLE}, {reps} requests each")
    service = settings(cache, 1, num_cpus=2)
    with local_serve(2, service.service) as (port, _):
        run_service(service)
        url = f"http://127.0.0.1:{port}"
        results = {}
        with tempfile.TemporaryDirectory() as data:
            for backend in ("serve", "local"):
                fake = FakeDiscord()
                await fake.start()
                try:
                    with fake.patch():
                        results[backend] = await run_bot(
                            fake, bot_settings(cache, Path(data) / backend, backend, url),
                            photo, reps)
                finally:
                    await fake.close()
    print("\n                          backend=serve   backend=local")
    for key, label in (("start", "start to ready (s)"), ("setup_hook", "  of which setup_hook (s)"),
                       ("median", "!stylize median (s)"), ("min", "  min (s)"),
                       ("max", "  max (s)")):
        print(f"  {label:<24} {results['serve'][key]:>12.3f}   {results['local'][key]:>12.3f}")
    ratio = results["serve"]["median"] / results["local"]["median"]
    print(f"\n  serve / local, !stylize median: {ratio:.2f}x "
          f"(target: serve median <= 0.5 s: {results['serve']['median'] <= 0.5})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10, help="requests per backend (default 10)")
    args = parser.parse_args()
    asyncio.run(measure(args.reps))


if __name__ == "__main__":
    main()
