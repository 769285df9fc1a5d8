"""Who paints a job: the Painter interface and the in-process painter (the engine, no network).

A job runs in the queue as `paint(prepare())` on a worker thread (prepare may start ahead, while
the job before it is painted), then `finish` turns its result into an upload off the queue.
`jobs.backend` picks the implementation: `LocalPainter` here, or `RemotePainter` (remote.py),
which sends the job to the painting service; the cog sees only this interface.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.engine import Engine
from bot.features.stylize.painting import (
    Painted,
    Rendered,
    RenderRequest,
    decode_inputs,
    encode,
    paint_inputs,
)
from bot.imaging import ImageLimits

# Shows the user one status line while the job runs (e.g. that the service is being retried).
Notice = Callable[[str], Awaitable[None]]
# An animation's frame count as it is painted: progress(frames painted, frames in all).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PaintSteps:
    """A job's two blocking steps, run on the queue's threads: `paint(prepare())`."""

    prepare: Callable[[], Any]
    paint: Callable[[Any], Any]


class Painter(Protocol):
    """Paints jobs: the steps the queue runs, and the upload made of their result."""

    @property
    def name(self) -> str:
        """What paints, for the logs: "the lite engine", "the painting service at ..."."""
        ...

    def steps(self, request: RenderRequest, notice: Notice) -> PaintSteps:
        """The job's steps for `request`; `notice` may tell its user about a delay."""
        ...

    async def finish(self, painted: Any, upload_limit: int) -> Rendered:
        """The job's result as an upload of at most `upload_limit` bytes (never blocks)."""
        ...

    def animation_steps(
        self, request: RenderRequest, notice: Notice, progress: Progress, max_bytes: int,
        timeout: float,
    ) -> PaintSteps | None:
        """An animated job's steps when this painter paints animations itself (their result a
        fitted animation; `progress` gets the frame count as it goes), else None: the animated
        feature paints it with the engine here."""
        ...


class LocalPainter:
    """Paints in this process: decode ahead, paint with the engine, encode after the job."""

    def __init__(self, engine: Engine, limits: ImageLimits) -> None:
        self.engine = engine
        self.limits = limits

    @property
    def name(self) -> str:
        return f"the {self.engine.name} engine"

    def steps(self, request: RenderRequest, notice: Notice) -> PaintSteps:
        # The photo is decoded ahead, while the job before it is painted.
        return PaintSteps(
            functools.partial(decode_inputs, request, self.limits),
            functools.partial(paint_inputs, self.engine, request.options),
        )

    async def finish(self, painted: Painted, upload_limit: int) -> Rendered:
        # Outside the job: the queue's worker is free and the next painting already runs.
        return await asyncio.to_thread(encode, painted, upload_limit)

    def animation_steps(
        self, request: RenderRequest, notice: Notice, progress: Progress, max_bytes: int,
        timeout: float,
    ) -> PaintSteps | None:
        return None  # frame by frame with self.engine, progress shown (see animated.py)
