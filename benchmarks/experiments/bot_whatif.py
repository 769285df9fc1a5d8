"""What-if runs of the burst from benchmarks/bot.py: the same bot with one change patched in.

Run from the repository root:
  STYLEBOT_MIRROR=../shared .venv/bin/python -m benchmarks.experiments.bot_whatif
Each variant sends the same burst (default 50 requests from 25 users within ~1 s, 1024x768
photos, one worker) to the real bot and engine; the fake Discord runs in its own thread.
Changes (patched in for the run only, then restored):
  inside  decode, paint and encode all inside the job's worker slot, as before the photo was
          decoded ahead and the upload encoded after the worker (the next painting waits)
  no ahead  decode each photo inside its job's worker slot instead of ahead of its turn
  quiet   no queue-position lines (no status message, no edits per position change)
  jpeg    upload JPEG 92 first instead of PNG (render.encode's `formats` order)
These patches reach into the bot's current structure (the cog's functions and its job queue's
submit); update them when that changes.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bot.features.stylize.painting as render_module
from benchmarks.bot_harness import (
    CpuSplit,
    FakeHost,
    Others,
    base_settings,
    make_engine,
    mirror,
    photo_jpeg,
    running_bot,
    settings_for,
    stylize,
    trim_fake,
    wait_quiet,
)
from bot.imaging import decode_image, read_image_bytes
from bot.imaging.upload import FULL_SIZE_FORMATS
from bot.stylization import style_from_bytes

VARIANTS = {
    "as is": (),
    "no ahead": ("no ahead",),
    "inside": ("inside",),
    "quiet": ("quiet",),
    "jpeg": ("jpeg",),
    "jpeg+quiet": ("jpeg", "quiet"),
}
INSIDE_LIMIT = 10 * 1024 * 1024  # the fake's upload limit; the job cannot see the replier's
# The "jpeg" variant's upload formats: JPEG 92 first, then the default order without PNG.
JPEG_FIRST = (("JPEG", 92),) + tuple(f for f in FULL_SIZE_FORMATS if f[0] != "PNG")


@dataclass(frozen=True)
class PreEncoded(render_module.Painted):
    """A painting that was already encoded inside the worker slot."""

    rendered: Any = None


def paint_and_encode(prepare: Any, run: Any) -> PreEncoded:
    """The job as before: decode, paint and encode, all in the worker slot."""
    painted = run(prepare())
    return PreEncoded(painted.image, painted.seconds,
                      render_module.encode(painted, INSIDE_LIMIT))


def run_prepared(prepare: Any, run: Any) -> Any:
    """A prepared job done in one go, in its worker."""
    return run(prepare())


def encode_unless_done(original: Any) -> Any:
    def encode(painted: Any, limit: int) -> Any:
        found = getattr(painted, "rendered", None)
        return found if found is not None else original(painted, limit)

    return encode


async def no_position(position: int) -> None:
    return None


class Patches:
    """Apply a variant's changes to the running bot and undo them."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.cog = sys.modules["bot.features.stylize.cog"]
        self.saved = (bot.jobs.submit, self.cog.position_reporter, self.cog.encode)

    def apply(self, changes: tuple[str, ...]) -> None:
        self.restore()
        submit, _, encode = self.saved
        if "jpeg" in changes:
            encode = functools.partial(encode, formats=JPEG_FIRST)
            self.cog.encode = encode
        if "inside" in changes:
            def inside_submit(user_id: Any, fn: Any, *, prepare: Any = None,
                              **kwargs: Any) -> Any:
                if not (isinstance(fn, functools.partial) and fn.func is self.cog.paint_inputs
                        and prepare is not None):
                    raise SystemExit("the cog no longer submits partial(paint_inputs, ...) with "
                                     "prepare=: update benchmarks/experiments/bot_whatif.py")
                return submit(user_id, functools.partial(paint_and_encode, prepare, fn),
                              **kwargs)

            self.bot.jobs.submit = inside_submit
            self.cog.encode = encode_unless_done(encode)
        if "no ahead" in changes:
            def inline_submit(user_id: Any, fn: Any, *, prepare: Any = None,
                              **kwargs: Any) -> Any:
                work = fn if prepare is None else functools.partial(run_prepared, prepare, fn)
                return submit(user_id, work, **kwargs)

            self.bot.jobs.submit = inline_submit
        if "quiet" in changes:
            self.cog.position_reporter = lambda replier: no_position

    def restore(self) -> None:
        self.bot.jobs.submit, self.cog.position_reporter, self.cog.encode = self.saved


async def run(count: int, rounds: int, patience: float, side: int,
              variants: list[str]) -> None:
    folder = mirror()
    with tempfile.TemporaryDirectory(prefix="stylebot-whatif-") as tmp:
        settings = settings_for(base_settings(Path(tmp), folder),
                                jobs={"per_user": 2, "max_queue": count + 8})
        engine = await make_engine(settings)
        photo = photo_jpeg(side, side * 3 // 4 if side == 1024 else 341)
        limits = settings.image_limits()
        image = decode_image(photo, limits)
        style = style_from_bytes(read_image_bytes(folder / "presets" / "starry-night.jpg",
                                                  limits), limits)
        alone: list[tuple[float, float]] = []
        results: dict[str, list[tuple[float, float, dict[str, float], float]]] = {}
        async with FakeHost("thread", heartbeat_interval=5.0) as host:
            users = [await host.do(host.fake.make_user, f"user{i:02d}")
                     for i in range(count // 2)]
            async with running_bot(settings, engine) as bot:
                patches = Patches(bot)
                await stylize(host, photo)  # warm the shape
                try:
                    for _ in range(rounds):
                        for name in variants:
                            changes = VARIANTS[name]
                            await wait_quiet(patience)
                            with Others() as others:  # right before each burst: the VM drifts
                                took = await asyncio.to_thread(
                                    lambda: sum(timed(engine.stylize, image, [style])
                                                for _ in range(count)))
                            alone.append((took, others.cores))
                            patches.apply(changes)
                            await wait_quiet(patience)
                            with Others() as others, CpuSplit() as cpu:
                                outcomes = await asyncio.gather(*(
                                    stylize(host, photo, author=users[i % len(users)],
                                            delay=i / count) for i in range(count)))
                            patches.restore()
                            bad = sum(1 for o in outcomes if not o.uploaded)
                            if bad:
                                raise SystemExit(f"{name}: {bad} requests got no painting")
                            wall = (max(o.answer.time for o in outcomes if o.answer)
                                    - min(o.sent for o in outcomes))
                            results.setdefault(name, []).append(
                                (wall, others.cores, cpu.used, alone[-1][0] / wall))
                            await host.do(trim_fake, host.fake)
                finally:
                    patches.restore()
        engine.close()
    print(f"\nengine alone, {count} runs back to back: " + ", ".join(
        f"{t:.2f} s (other processes {o:.2f} cores)" for t, o in alone))
    header = ["variant", "wall s (median)", "efficiency", "bot loop CPU s", "fake CPU s",
              "worker+engine CPU s", "other procs' cores"]
    rows = []
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)

        def cpu(kinds: tuple[str, ...], runs: list = runs) -> str:
            return f"{statistics.median(sum(r[2].get(k, 0.0) for k in kinds) for r in runs):.2f}"

        efficiency = statistics.median(r[3] for r in runs)
        rows.append([name, f"{wall:.2f}", f"{100 * efficiency:.0f}%", cpu(("bot loop",)),
                     cpu(("fake loop",)), cpu(("job worker", "other")),
                     " ".join(f"{r[1]:.2f}" for r in runs)])
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    print(f"\n## burst what-ifs: {count} requests, {image.width}x{image.height}, median of "
          f"{rounds} rounds; "
          f"efficiency = engine alone ({count} runs, measured right before each burst) / wall")
    for n, row in enumerate([header, *rows]):
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def timed(fn: Any, *args: Any) -> float:
    start = time.monotonic()
    fn(*args)
    return time.monotonic() - start


def main() -> None:
    """Parse arguments and run every variant."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=50, help="requests per burst")
    parser.add_argument("--rounds", type=int, default=2, help="bursts per variant")
    parser.add_argument("--patience", type=float, default=0.0, metavar="S",
                        help="let each run wait up to S seconds for a quiet machine")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--side", type=int, choices=(512, 1024), default=1024,
                        help="the photo: 1024x768 or 512x341")
    args = parser.parse_args()
    asyncio.run(run(args.count, args.rounds, args.patience, args.side, args.variants))


if __name__ == "__main__":
    main()
