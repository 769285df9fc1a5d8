"""Animated requests (GIF, APNG, WebP, MP4/MOV/WebM): admitted a few at a time, painted frame by
frame with a progress line, uploaded as GIF if it fits, else MP4."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.animation import AnimationResult, paint_animation
from bot.engine import Engine, WeightedStyle
from bot.errors import ImageError
from bot.features.stylize.captions import PAINTING, describe_styles, queue_line
from bot.features.stylize.painting import RenderRequest
from bot.features.stylize.recent import RecentResult
from bot.features.stylize.replies import Replier
from bot.imaging import ImageLimits, style_limits
from bot.imaging.animation import Animation, AnimationLimits, looks_like_video, open_animation
from bot.imaging.animation.fit import FittedAnimation
from bot.imaging.animation.pillow_frames import open_animated
from bot.jobs import JobRejected, OnCooldown, QueueFull, UserBusy
from bot.jobs.latest import LatestOnly
from bot.service.client import ServicePainting
from bot.stylization import StylizeOptions, style_from_bytes

if TYPE_CHECKING:
    from bot.app import StyleBot
    from bot.features.stylize.journal import Journal
    from bot.features.stylize.views import ResultView

P = TypeVar("P")
T = TypeVar("T")

ADMISSION_RETRY = 1.0  # seconds between tries of a redone request refused for now
BAR_CELLS = 10
NOT_AN_ANIMATION = "The photo could not be read as an animation."
_FORMAT_OF_MEDIA = {"image/gif": "GIF", "video/mp4": "MP4", "image/webp": "WEBP"}

# The result's buttons for a request (the cog's view maker).
ViewMaker = Callable[[RenderRequest, Replier], Awaitable["ResultView"]]


class _Stopped(Exception):
    """Raised in the worker thread to stop painting an animation nobody waits for any more."""


class AnimationBusy(JobRejected):
    """As many animations as `jobs.max_animated` are painting or waiting already."""

    def __init__(self) -> None:
        super().__init__("One animation at a time, please; try again shortly.")


def is_animation(data: bytes) -> bool:
    """Whether `data` is a video or an animated GIF, APNG or WebP (told by the bytes; headers
    only, plus a GIF's skip to its second frame): slow for a big GIF, so run it off the loop."""
    if looks_like_video(data) is not None:
        return True
    image = open_animated(data)
    if image is None:
        return False
    image.close()
    return True


def progress_line(done: int, total: int) -> str:
    """'🎨 Painting frame 48/120 ▰▰▰▰▱▱▱▱▱▱'."""
    total = max(total, done, 1)
    filled = BAR_CELLS * done // total
    return f"🎨 Painting frame {done}/{total} {'▰' * filled}{'▱' * (BAR_CELLS - filled)}"


def animation_caption(request: RenderRequest, result: AnimationResult, upload: FittedAnimation,
                      seconds: float) -> str:
    """The line under a painted animation: styles, strength, colours, size, frames, length,
    time taken, the format when the GIF did not fit, and what was trimmed."""
    return clip_caption(request, result.frames, result.seconds, result.note, result.size,
                        upload, seconds)


def clip_caption(request: RenderRequest, frames: int, length: float, note: str,
                 painted_size: tuple[int, int], upload: FittedAnimation, seconds: float) -> str:
    """animation_caption from its parts (the painting service answers with these)."""
    options = request.options
    bits = [f"🎨 {describe_styles(request)}", f"strength {options.strength:g}"]
    if options.keep_colours:
        bits.append("colours kept")
    width, height = upload.size
    bits += [f"{width}×{height}", f"{frames} frames, {length:.1f} s", f"{seconds:.1f} s"]
    if upload.fmt != "GIF":
        smaller = " and made smaller" if upload.size != painted_size else ""
        bits.append(f"sent as {upload.fmt}{smaller} to fit the upload limit")
    if note:
        bits.append(note)
    return " · ".join(bits)


def service_upload(painting: ServicePainting) -> FittedAnimation:
    """The painting service's animation (already fitted to the upload limit) as an upload."""
    fmt = _FORMAT_OF_MEDIA.get(painting.media_type)
    if fmt is None or not painting.frames:  # not an animation: the service saw a still
        raise ImageError(NOT_AN_ANIMATION)
    return FittedAnimation(painting.data, fmt, (painting.width, painting.height))


@dataclass(frozen=True)
class AnimatedInputs:
    """An opened animation (frames not yet read) and the styles ready for the engine."""

    animation: Animation
    styles: list[WeightedStyle]


@dataclass(frozen=True)
class PaintedAnimation:
    """A painted animation and the seconds painting it took."""

    result: AnimationResult
    seconds: float


def open_inputs(request: RenderRequest, limits: ImageLimits,
                animation_limits: AnimationLimits) -> AnimatedInputs:
    """Open the animation (its first frame decoded, so a damaged file is refused before any
    painting) and decode the styles: the part of an animated job that needs no engine."""
    animation = open_animation(request.content, limits, animation_limits,
                               max_side=request.options.max_side, what="photo")
    if animation is None:
        raise ImageError(NOT_AN_ANIMATION)
    try:
        for_styles = style_limits(limits)
        styles = [style_from_bytes(style.data, for_styles, weight=style.weight,
                                   what=f"style image {style.name}")
                  for style in request.styles]
    except BaseException:
        animation.close()
        raise
    return AnimatedInputs(animation, styles)


def paint_inputs(engine: Engine, options: StylizeOptions,
                 progress: Callable[[int, int], None], inputs: AnimatedInputs) -> PaintedAnimation:
    """Paint every frame, reporting progress after each: the part that needs the engine."""
    start = time.perf_counter()
    try:
        result = paint_animation(engine, inputs.animation, inputs.styles, options,
                                 progress=progress, encode_as="GIF")  # tried first to fit
    finally:
        inputs.animation.close()
    return PaintedAnimation(result, time.perf_counter() - start)


class AnimationSlots:
    """At most `limit` animated jobs waiting or painting. A slot is freed when its job's thread
    has returned, or when the job ended without ever running (dropped from the queue): a timed-out
    animation whose thread still paints keeps its slot, as it keeps its worker."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.taken = 0

    def take(self) -> Slot:
        """A slot, or AnimationBusy (call from the event loop's thread)."""
        if self.taken >= self.limit:
            raise AnimationBusy()
        self.taken += 1
        return Slot(self, asyncio.get_running_loop())


class Slot:
    """One animated job's place among AnimationSlots."""

    def __init__(self, slots: AnimationSlots, loop: asyncio.AbstractEventLoop) -> None:
        self._slots = slots
        self._loop = loop
        self._lock = threading.Lock()
        self._ran = False
        self._freed = False

    def running(self, work: Callable[[P], T]) -> Callable[[P], T]:
        """`work` wrapped to free the slot when its thread returns."""

        def run(prepared: P) -> T:
            with self._lock:
                self._ran = True
            try:
                return work(prepared)
            finally:
                self._loop.call_soon_threadsafe(self._free)

        return run

    def settled(self) -> None:
        """The job's result is known: free the slot now if its work never ran."""
        with self._lock:
            ran = self._ran
        if not ran:
            self._free()

    def _free(self) -> None:
        if not self._freed:
            self._freed = True
            self._slots.taken -= 1


class AnimatedJobs:
    """Runs the animated requests of the stylize feature (cog.run_job hands them over)."""

    def __init__(self, bot: StyleBot, journal: Journal, view: ViewMaker) -> None:
        self.bot = bot
        self._journal = journal
        self._view = view
        self.slots = AnimationSlots(bot.settings.jobs.max_animated)
        self._tasks: set[asyncio.Task[None]] = set()

    async def wants(self, request: RenderRequest) -> bool:
        """Whether the request's photo is an animation (told off the event loop)."""
        return await asyncio.to_thread(is_animation, request.content)

    async def run_job(self, replier: Replier, request: RenderRequest, *,
                      journal_id: str | None = None, patient: bool = False) -> None:
        """Queue the animation (refused with AnimationBusy when `jobs.max_animated` are under
        way, unless `patient`), show its queue position then its frames, and post it."""
        settings = self.bot.settings
        line = LatestOnly(replier.status, settings.jobs.position_interval, self._spawn,
                          name="animation status")
        loop = asyncio.get_running_loop()
        stop = threading.Event()  # set once the job's outcome is known (e.g. it timed out)

        def progress(done: int, total: int) -> None:
            """After each frame: from the worker thread (the engine here), or on the event loop
            (the painting service's stream)."""
            if stop.is_set():  # a thread cannot be killed, but it can stop between frames
                raise _Stopped()
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is left to tell
                loop.call_soon_threadsafe(line.put, progress_line(done, total))

        async def notice(text: str) -> None:
            line.put(text, urgent=True)

        # jobs.backend = "serve": the service paints every frame and streams its count
        steps = self.bot.painter.animation_steps(request, notice, progress,
                                                 replier.filesize_limit,
                                                 settings.jobs.animation_timeout)
        if steps is None:
            prepare: Callable[[], Any] = functools.partial(
                open_inputs, request, self.bot.limits, settings.animation_limits())
            paint: Callable[[Any], Any] = functools.partial(
                paint_inputs, self.bot.engine, request.options, progress)
        else:
            prepare, paint = steps.prepare, steps.paint
        report = _line_reporter(line)
        if journal_id is not None:
            report = self._journal.marking_running(journal_id, report)
        while True:
            try:
                self.bot.jobs.check(replier.user_id)
                slot = self.slots.take()
            except (UserBusy, OnCooldown, QueueFull, AnimationBusy) as exc:
                if not patient:
                    raise
                await asyncio.sleep(getattr(exc, "retry_after", ADMISSION_RETRY))
                continue
            try:
                # The animation is opened ahead, while the job before it is painted.
                job = self.bot.jobs.submit(
                    replier.user_id, slot.running(paint), prepare=prepare,
                    timeout=settings.jobs.animation_timeout,
                    label=f"animation: {describe_styles(request)}", on_position=report,
                )
            except BaseException:
                slot.settled()
                raise
            break
        replier.accepted()  # the channel's outbox now counts this painting as owed
        try:
            async with replier.typing():
                painted = await job.result()
                line.close()
                if steps is not None:  # a ServicePainting: painted and fitted by the service
                    upload = service_upload(painted)
                    text = clip_caption(request, painted.frames, painted.duration, painted.note,
                                        upload.size, upload, painted.seconds)
                else:
                    start = time.perf_counter()
                    upload = await asyncio.to_thread(painted.result.encode_to_fit,
                                                     replier.filesize_limit)
                    seconds = painted.seconds + time.perf_counter() - start
                    text = animation_caption(request, painted.result, upload, seconds)
        finally:
            # a timed-out painting stops at its next painted frame (the few already on the
            # network's streams are finished first), freeing its worker
            stop.set()
            line.close()
            slot.settled()
        file = discord.File(io.BytesIO(upload.data), filename=f"stylized{upload.suffix}")
        message_id = await replier.result(text, file, await self._view(request, replier))
        self.bot.recent.put(message_id, RecentResult(replier.user_id, request))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)  # keep a reference so the task is not garbage-collected
        task.add_done_callback(self._tasks.discard)
        return task


def _line_reporter(line: LatestOnly[str]) -> Callable[[int], Awaitable[None]]:
    """A job's on_position callback into the animation's one status line, so the queue position,
    'Painting…' and the frame count never overtake one another."""
    shown = False

    async def report(position: int) -> None:
        nonlocal shown
        if position > 0:
            shown = True
            line.put(queue_line(position))
        elif shown:
            line.put(PAINTING, urgent=True)

    return report
