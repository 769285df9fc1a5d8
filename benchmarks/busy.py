"""A burst in one busy channel under Discord's rate limits: how long until the last painting, and
what the bot spent of the channel's budget per request.

Run from the repository root:  STYLEBOT_MIRROR=../shared .venv/bin/python -m benchmarks.busy
(80 `!stylize` requests from 40 users, 640x480 photos, the bot's default job settings, the
loopback Discord enforcing its rate limits; --requests/--users/--side/--channels to vary it).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.bot_harness import (
    FakeHost,
    make_engine,
    mirror,
    photo_jpeg,
    running_bot,
    settings_for,
)
from benchmarks.common import cpu_summary
from bot.config import Settings
from tests.fakediscord import FakeDiscord, SentMessage
from tests.features.stylize.answers import STATUS, Asked, answers, folded_counts


@dataclass
class Request:
    """One `!stylize` message and what answered it."""

    message_id: int
    user_id: int
    channel_id: int
    sent: float
    painting: SentMessage | None = None
    answer: Any = None  # the record that told the user (painting, reply, folded message)

    @property
    def answered_at(self) -> float | None:
        return None if self.answer is None else self.answer.time


@dataclass
class ChannelRun:
    """The requests sent into one channel."""

    channel_id: int
    requests: list[Request] = field(default_factory=list)


def sort_answers(fake: FakeDiscord, runs: list[ChannelRun]) -> None:
    """Match every bot message to the request(s) it answers (tests/features/stylize/answers.py):
    a painting or a text reply answers the message it replies to (queue-position lines do not
    count); a folded refusal naming users answers as many of their requests as it counts; a
    bot reaction other than ⏳ and 🎨 on a request answers it too."""
    requests = [r for run in runs for r in run.requests]
    found = answers(fake.messages_created,
                    [Asked(r.message_id, r.user_id, r.channel_id) for r in requests])
    for request in requests:
        got = found[request.message_id]
        request.answer = got[0] if got else None
        request.painting = request.answer if got and got[0].files else None
    by_id = {r.message_id: r for r in requests}
    for reaction in fake.reactions:
        target = by_id.get(reaction.message_id)
        if (target is not None and reaction.added and target.answer is None
                and reaction.emoji not in ("%E2%8F%B3", "%F0%9F%8E%A8", "⏳", "🎨")):
            target.answer = reaction


class TimedEngine:
    """The engine with its busy time recorded (the bot gets this wrapper instead)."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self.spans: list[tuple[float, float]] = []

    def stylize(self, *args: Any, **kwargs: Any) -> Any:
        start = time.monotonic()
        try:
            return self._engine.stylize(*args, **kwargs)
        finally:
            self.spans.append((start, time.monotonic()))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


async def burst(host: FakeHost, channels: list[int], users: list[dict[str, Any]],
                per_channel: int, photo: bytes) -> list[ChannelRun]:
    """Post `per_channel` requests into each channel at once, users taking turns."""
    fake = host.fake
    runs = [ChannelRun(c) for c in channels]

    async def post(run: ChannelRun, user: dict[str, Any]) -> None:
        attachment = fake.add_attachment(photo, "photo.jpg", channel_id=run.channel_id)
        sent = time.monotonic()
        message = await fake.send_message("!stylize starry-night", author=user,
                                          channel_id=run.channel_id, attachments=[attachment])
        run.requests.append(Request(int(message["id"]), int(user["id"]), run.channel_id, sent))

    for n in range(per_channel):
        for run in runs:
            await host.run(post, run, users[n % len(users)])
    return runs


async def wait_answered(host: FakeHost, runs: list[ChannelRun], timeout: float) -> bool:
    """Poll until every request has its answer (and every accepted one its painting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await host.do(sort_answers, host.fake, runs)
        if all(r.answer is not None for run in runs for r in run.requests):
            await asyncio.sleep(1.0)  # let status lines be removed, reactions settle
            await host.do(sort_answers, host.fake, runs)
            return True
        await asyncio.sleep(0.25)
    return False


def report(fake: FakeDiscord, runs: list[ChannelRun], engine: TimedEngine, answered: bool,
           started: float) -> None:
    total = sum(len(run.requests) for run in runs)
    channels = {run.channel_id for run in runs}
    created = [m for m in fake.messages_created if m.channel_id in channels]
    edits = [m for m in fake.messages_edited if m.channel_id in channels]
    deletes = [m for m in fake.messages_deleted if m.channel_id in channels]
    reactions = [r for r in fake.reactions if r.channel_id in channels]
    kinds = Counter("painting" if m.files else
                    "status line" if STATUS.match(m.content or "") else
                    "folded" if folded_counts(m.content or "") else (m.content or "")[:48]
                    for m in created)
    print(f"\nrequests: {total} in {len(runs)} channel(s); every one answered: {answered}")
    for run in runs:
        painted = [r for r in run.requests if r.painting is not None]
        if not run.requests:
            continue
        first = min(r.sent for r in run.requests)
        last = max((r.painting.time for r in painted), default=first)  # type: ignore[union-attr]
        refused = [r.answered_at - r.sent for r in run.requests
                   if r.painting is None and r.answered_at is not None]
        bound = 1.2 * len(painted) + 10
        print(f"channel {run.channel_id}: {len(painted)} paintings, {len(refused)} refusals; "
              f"last painting {last - first:.1f} s after the first request "
              f"(the issue's bound 1.2 s x {len(painted)} + 10 s = {bound:.1f} s)")
        if refused:
            print(f"  refusals answered after: median {statistics.median(refused):.1f} s, "
                  f"max {max(refused):.1f} s")
    busy = sum(end - start for start, end in engine.spans)
    last_job = max((end for _, end in engine.spans), default=started) - started
    print(f"engine: {len(engine.spans)} paintings, {busy:.1f} s busy, last one done "
          f"{last_job:.1f} s after the first request")
    print("the bot's calls on the channel(s), total and per request:")
    for name, count in (("messages created", len(created)), ("edits", len(edits)),
                        ("deletes", len(deletes)), ("reactions", len(reactions)),
                        ("typing calls", sum(1 for t in fake.typing_calls
                                             if t.channel_id in channels)),
                        ("429 answers", len(fake.rate_limit_hits))):
        print(f"  {name:17} {count:4d}   {count / max(total, 1):.2f} per request")
    hits = Counter(h.bucket for h in fake.rate_limit_hits)
    if hits:
        print("  429s by bucket: " + ", ".join(f"{b} {n}" for b, n in hits.most_common()))
    print("messages created by kind:")
    for kind, count in kinds.most_common():
        print(f"  {count:4d}  {kind}")


async def run(args: argparse.Namespace) -> None:
    print(cpu_summary())
    folder = mirror()
    photo = photo_jpeg(*args.side)
    with tempfile.TemporaryDirectory(prefix="stylebot-busy-") as tmp:
        base = Settings()
        settings = settings_for(base, paths={"data_dir": Path(tmp) / "data",
                                             "cache_dir": Path(tmp) / "cache", "mirror": folder})
        engine = TimedEngine(await make_engine(settings))
        print(f"burst: {args.requests} requests from {args.users} users per channel, "
              f"{args.channels} channel(s), {args.side[0]}x{args.side[1]} photos; jobs: "
              f"{settings.jobs.workers} worker, {settings.jobs.per_user} per user, "
              f"{settings.jobs.max_queue} queued at most, cooldown {settings.jobs.cooldown:g} s")
        async with FakeHost("same", heartbeat_interval=5.0, max_records=50000) as host:
            fake = host.fake
            users = [fake.make_user(f"user{n:02d}") for n in range(args.users)]
            channels = [fake.channel_id]
            for n in range(1, args.channels):
                channels.append(int((await fake.add_channel(f"busy{n}"))["id"]))
            async with running_bot(settings, engine) as _bot:  # type: ignore[arg-type]
                fake.limiter.reset()
                engine.spans.clear()
                started = time.monotonic()
                runs = await burst(host, channels, users, args.requests, photo)
                answered = await wait_answered(host, runs, args.timeout)
                report(fake, runs, engine, answered, started)
        engine.close()


def main() -> None:
    """Parse the options and run the burst once."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=80, help="requests per channel (80)")
    parser.add_argument("--users", type=int, default=40, help="users taking turns (40)")
    parser.add_argument("--channels", type=int, default=1, help="busy channels at once (1)")
    parser.add_argument("--side", type=int, nargs=2, default=(640, 480), metavar=("W", "H"),
                        help="photo size (640 480)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="give up waiting for answers after this many seconds (300)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
