"""Soak: N `!stylize` jobs back to back through the real bot and lite engine on the loopback
Discord, printing this process's RSS and open file descriptors every K jobs.

Run from the repository root:  STYLEBOT_MIRROR=../shared .venv/bin/python -m benchmarks.soak
(--jobs 1000 --every 100 by default; --keep-fake-state to leave the fake Discord's own records,
messages and CDN files in memory, which otherwise are dropped after each job so that the curve
shows the bot's memory, not the fake's).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import io
import os
import tempfile
import threading
import time
from pathlib import Path

import psutil
from PIL import Image

from bot.app import create_bot
from bot.config import Settings
from tests.fakediscord import FakeDiscord, SentMessage

REPO = Path(__file__).resolve().parent.parent
PHOTOS = ("chelsea", "coffee", "astronaut")
PRESETS = ("starry-night", "great-wave", "the-scream", "udnie", "the-kiss")


@dataclasses.dataclass
class Point:
    """Resources after `jobs` jobs."""

    jobs: int
    rss_mib: float
    fds: int
    threads: int
    seconds: float


def measure(jobs: int, started: float) -> Point:
    gc.collect()
    me = psutil.Process()
    return Point(jobs, me.memory_info().rss / 2**20, me.num_fds(), threading.active_count(),
                 time.monotonic() - started)


def tiny_photos(size: tuple[int, int]) -> list[bytes]:
    """The bundled example photos resized to `size`, as JPEG bytes."""
    photos = []
    for name in PHOTOS:
        with Image.open(REPO / "examples" / f"{name}.jpg") as image:
            small = image.convert("RGB").resize(size, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        small.save(out, "JPEG", quality=90)
        photos.append(out.getvalue())
    return photos


def make_settings(mirror: Path, work: Path, workers: int, restyle_ttl: float | None) -> Settings:
    base = Settings()
    ttl = base.jobs.restyle_ttl if restyle_ttl is None else restyle_ttl
    return dataclasses.replace(
        base,
        paths=dataclasses.replace(base.paths, data_dir=work / "data", cache_dir=work / "cache",
                                  mirror=mirror),
        jobs=dataclasses.replace(base.jobs, workers=workers, cooldown=0.0, restyle_ttl=ttl),
    )


def reconnects(fake: FakeDiscord) -> int:
    """IDENTIFYs after the first, plus RESUMEs, among the fake's current records."""
    events = [e.event for e in fake.gateway_events]
    return max(0, events.count("identify") - 1) + events.count("resume")


def forget_job(fake: FakeDiscord, request: dict, replies: list[SentMessage]) -> None:
    """Drop what the fake Discord keeps of one finished job (messages, CDN files, records, the
    gateway's replay buffer); the IDENTIFY/RESUME records are kept so that reconnects count."""
    for message in [request] + [r.message for r in replies if r.message]:
        for attachment in message.get("attachments") or []:
            fake.forget_attachment(attachment)
        fake.world.messages.pop(int(message["id"]), None)
    if fake.gateway.session is not None:
        fake.gateway.session.buffer.clear()
    kept = [e for e in fake.gateway_events if e.event in ("identify", "resume")]
    fake.recorder.clear()
    for event in kept:
        fake.recorder.add("gateway", event)


async def soak(args: argparse.Namespace, mirror: Path, work: Path) -> list[Point]:
    photos = tiny_photos(args.photo)
    fake = FakeDiscord(heartbeat_interval=1.0)
    await fake.start()
    curve: list[Point] = []
    try:
        with fake.patch():
            settings = make_settings(mirror, work, args.workers, args.restyle_ttl)
            bot = create_bot(settings, allow_loopback_cdn=True, guild_ready_timeout=0.05)
            async with fake.running(bot, ready_timeout=120):
                started = time.monotonic()
                curve.append(measure(0, started))
                print_point(curve[-1], curve[0])
                for job in range(1, args.jobs + 1):
                    request = await fake.send_message(
                        f"!stylize {PRESETS[job % len(PRESETS)]} size={args.size}",
                        attachments=[fake.add_attachment(photos[job % len(photos)], "p.jpg")])
                    reply = await fake.next_message(timeout=60)
                    if reply.reply_to != int(request["id"]) or not reply.files:
                        raise SystemExit(f"job {job} got {reply!r} instead of a painting")
                    if not args.keep_fake_state:
                        forget_job(fake, request, [reply])
                    if job % args.every == 0:
                        curve.append(measure(job, started))
                        print_point(curve[-1], curve[0])
                gap = fake.gateway.max_heartbeat_gap()
                beats = list(fake.gateway.heartbeats)
                again = reconnects(fake)
    finally:
        await fake.close()
    print(f"gateway: {len(beats)} heartbeats, {sum(b.acked for b in beats)} acked, largest gap "
          f"{gap:.2f} s (interval {fake.gateway.heartbeat_interval:g} s), {again} reconnects")
    return curve


def print_point(point: Point, first: Point) -> None:
    rate = point.jobs / point.seconds if point.seconds else 0.0
    print(f"{point.jobs:>6} {point.rss_mib:>9.1f} {point.rss_mib - first.rss_mib:>+8.1f} "
          f"{point.fds:>5} {point.threads:>8} {point.seconds:>8.1f} {rate:>7.1f}", flush=True)


def summary(curve: list[Point], every: int) -> str:
    after_first = [p for p in curve if p.jobs >= every]
    if len(after_first) < 2:
        return "too few points for a summary"
    start, end = after_first[0], after_first[-1]
    half = next(p for p in after_first if p.jobs >= end.jobs // 2)
    fds = [p.fds for p in after_first]
    return (f"RSS {start.rss_mib:.1f} MiB after job {start.jobs}, {half.rss_mib:.1f} after "
            f"{half.jobs}, {end.rss_mib:.1f} after {end.jobs}: "
            f"{end.rss_mib - start.rss_mib:+.1f} MiB over jobs {start.jobs}-{end.jobs}, "
            f"{end.rss_mib - half.rss_mib:+.1f} MiB over jobs {half.jobs}-{end.jobs}; "
            f"open fds {min(fds)}-{max(fds)}; {end.jobs / end.seconds:.1f} jobs/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--every", type=int, default=100, help="print a point every N jobs")
    parser.add_argument("--photo", type=lambda s: tuple(map(int, s.split("x"))),
                        default=(96, 64), help="photo size WxH (default 96x64)")
    parser.add_argument("--size", type=int, default=64, help="output long side (size=)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--restyle-ttl", type=float, default=None,
                        help="seconds a result's buttons live (default: the config default)")
    parser.add_argument("--keep-fake-state", action="store_true")
    args = parser.parse_args()
    value = os.environ.get("STYLEBOT_MIRROR", "")
    if not value or not (Path(value) / "models").is_dir():
        raise SystemExit("set STYLEBOT_MIRROR to the mirror folder (models/, presets/)")
    print(f"soak: {args.jobs} jobs, photo {args.photo[0]}x{args.photo[1]}, size={args.size}, "
          f"workers={args.workers}, restyle_ttl={args.restyle_ttl or 'default'}, "
          f"fake state {'kept' if args.keep_fake_state else 'dropped'}")
    print(f"{'jobs':>6} {'RSS MiB':>9} {'ΔRSS':>8} {'fds':>5} {'threads':>8} {'seconds':>8} "
          f"{'jobs/s':>7}")
    with tempfile.TemporaryDirectory(prefix="stylebot-soak-") as work:
        curve = asyncio.run(soak(args, Path(value).resolve(), Path(work)))
    print(summary(curve, args.every))


if __name__ == "__main__":
    main()
