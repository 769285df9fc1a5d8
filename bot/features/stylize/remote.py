"""The painter for `jobs.backend = "serve"`: each job is posted to the painting service.

The job still takes one of the queue's slots (`jobs.remote_slots` of them), so per-user limits,
cooldown, queue positions and timeouts work as with the engine; its worker thread waits for the
request, which runs on the bot's event loop with the bot's aiohttp session (bot/service/client.py,
no Ray). The client retries what the service did not answer; the user is told once when the
first try fails, and a 4xx is the user's own error, its sentence shown as is.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp
from PIL import Image

from bot.features.stylize.painters import Notice, PaintSteps, Progress
from bot.features.stylize.painting import Rendered, RenderRequest
from bot.imaging.upload import encode_for_upload
from bot.service.client import RetryPolicy, ServiceClient, ServicePainting, ServiceStyle
from bot.service.errors import ServiceUnavailable

log = logging.getLogger(__name__)

STILL_TRYING = "⏳ The painting service is not answering; still trying…"
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
# The job's own timeout (limits.job_timeout) must not beat the client's last sentence.
_TIMEOUT_MARGIN = 1.0


class RemotePainter:
    """Paints on the service at `url` through `session`: each job gets a first try, then up to
    `retries` more with growing pauses, all within `job_timeout` seconds."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        loop: asyncio.AbstractEventLoop,
        *,
        retries: int,
        job_timeout: float,
    ) -> None:
        self.url = url
        self._loop = loop
        self.budget = max(job_timeout - _TIMEOUT_MARGIN, job_timeout / 2)
        self.retries = retries
        self._first = ServiceClient(session, url, RetryPolicy(retries=0))
        self._again = ServiceClient(session, url, RetryPolicy(retries=max(retries - 1, 0)))
        self.client = self._first  # for presets and health checks

    @property
    def name(self) -> str:
        return f"the painting service at {self.url}"

    def steps(self, request: RenderRequest, notice: Notice) -> PaintSteps:
        # Nothing to prepare: the service decodes the images (and refuses bad ones).
        paint = functools.partial(self.paint, notice=notice)
        return PaintSteps(
            functools.partial(_same, request), functools.partial(self._wait_for, paint, self.budget)
        )

    def _wait_for(
        self, paint: Callable[[RenderRequest], Coroutine[Any, Any, ServicePainting]],
        budget: float, request: RenderRequest,
    ) -> ServicePainting:
        """On the job's worker thread: run `paint(request)` on the event loop and wait for it."""
        future = asyncio.run_coroutine_threadsafe(paint(request), self._loop)
        # The client's budget ends the request; the margin only guards against a loop that
        # stopped without cancelling it, which would otherwise hold the thread forever.
        return future.result(timeout=budget + 30)

    def animation_steps(
        self, request: RenderRequest, notice: Notice, progress: Progress, max_bytes: int,
        timeout: float,
    ) -> PaintSteps:
        """An animated job's steps: the clip posted with max_bytes = the upload limit, so the
        service paints every frame and answers GIF if it fits, else MP4, else smaller; it
        streams the frame count as it paints, which goes to `progress` (on the event loop)."""
        budget = max(timeout - _TIMEOUT_MARGIN, timeout / 2)
        animate = functools.partial(self.paint, notice=notice, max_bytes=max_bytes,
                                    budget=budget, progress=progress)
        return PaintSteps(
            functools.partial(_same, request), functools.partial(self._wait_for, animate, budget)
        )

    async def paint(
        self, request: RenderRequest, notice: Notice, *, max_bytes: int | None = None,
        budget: float | None = None, progress: Progress | None = None,
    ) -> ServicePainting:
        """The service's painting of `request`: one try, then (after telling the user) the
        client's retries with backoff in what is left of the budget. With `max_bytes` the
        request is an animation, answered in the format that fits; `progress` asks the service
        to stream its frame count."""
        options = request.options
        styles = [
            ServiceStyle(image=style.data, weight=style.weight, filename=f"style{number}")
            for number, style in enumerate(request.styles, 1)
        ]
        budget = self.budget if budget is None else budget

        async def send(client: ServiceClient, budget: float) -> ServicePainting:
            return await client.stylize(
                request.content, styles, strength=options.strength,
                keep_colours=options.keep_colours, max_size=options.max_side,
                image_format=None if max_bytes is not None else "png", max_bytes=max_bytes,
                total_timeout=budget, progress=progress,
            )

        deadline = time.monotonic() + budget
        pause = self._again.policy.backoff
        try:
            return await send(self._first, budget)
        except ServiceUnavailable:
            if self.retries < 1 or deadline - time.monotonic() <= pause:
                raise
        log.warning("%s did not answer; retrying", self.name)
        await notice(STILL_TRYING)
        await asyncio.sleep(pause)
        painting = await send(self._again, deadline - time.monotonic())
        log.info("%s answered after %d more tries", self.name, painting.attempts)
        return painting

    async def finish(self, painted: ServicePainting, upload_limit: int) -> Rendered:
        """The service's PNG as is when it fits the upload limit, else re-encoded to fit."""
        if len(painted.data) <= upload_limit:
            extension = _EXTENSIONS.get(painted.media_type, "png")
            return Rendered(painted.data, f"stylized.{extension}", painted.width,
                            painted.height, painted.seconds)
        return await asyncio.to_thread(_fit, painted, upload_limit)


def _same(request: RenderRequest) -> RenderRequest:
    return request


def _fit(painted: ServicePainting, upload_limit: int) -> Rendered:
    start = time.perf_counter()
    with Image.open(io.BytesIO(painted.data)) as image:
        upload = encode_for_upload(image.convert("RGB"), upload_limit)
    seconds = painted.seconds + time.perf_counter() - start
    return Rendered(upload.data, upload.filename, *upload.size, seconds)
