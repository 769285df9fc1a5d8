"""The Painter deployment: each replica loads the engine once and answers POST /v1/stylize."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from PIL import Image
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from bot.animation import Progress, paint_animation
from bot.config import Settings
from bot.engine import WeightedStyle
from bot.errors import StylebotError
from bot.imaging import decode_image, encode_image, read_image_bytes, style_limits
from bot.imaging.animation import (
    DEFAULT_FORMAT_OF_KIND,
    Animation,
    looks_like_video,
    open_animation,
)
from bot.loaders import load_engine, make_catalog, make_resolver
from bot.service.answers import (
    STYLIZE_PATH,
    answered,
    not_found,
    painting_answer,
    painting_headers,
    route_path,
    wrong_method,
)
from bot.service.errors import UNEXPECTED, BadForm, status_for
from bot.service.form import FILE_WHAT, FormLimits, read_form
from bot.service.order import (
    MEDIA_TYPE_OF_ANIMATION,
    PaintOrder,
    PaintOutcome,
    order_from_form,
)
from bot.service.stream import closing, json_part, new_boundary, part, stream_content_type
from bot.stylization import style_from_bytes, stylize

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """An order whose inputs are decoded: its styles, and the animation or the still photo."""

    order: PaintOrder
    styles: list[WeightedStyle]
    spent: float  # seconds spent decoding (X-Stylebot-Seconds adds the painting's)
    animation: Animation | None = None
    still: Image.Image | None = None


class Painter:
    """One replica: the engine (threads = the replica's CPUs), preset bytes and style vectors.

    Serve's HTTP ingress (HAProxy, or Serve's proxy) sends it each POST /v1/stylize directly
    (no ingress app in between): the replica reads the form as it arrives (413 from
    Content-Length, then while reading), checks it (400), decodes the inputs and paints in a
    thread, and answers the painting, or, with
    `progress=true`, a multipart/mixed stream (docs/design.md). It decodes and paints one
    request at a time (`_working`: its engine already has all its CPUs); with
    `max_ongoing_requests` above 1 the others wait in it, so the next painting starts the
    moment one ends, with no round trip through the ingress. Style vectors are keyed by the
    style image's SHA-256 (`bot.stylization.style_from_bytes`) in the engine's cache: in memory,
    and on the node's disk under the cache folder, so an uploaded style costs the style network
    once per node.
    """

    # Serve awaits an async constructor; type checkers insist __init__ returns None.
    async def __init__(self, settings: Settings) -> None:  # type: ignore[misc]
        import ray
        from ray import serve

        self._settings = settings
        self._limits = settings.image_limits()
        self._animation_limits = settings.animation_limits()
        self._style_limits = style_limits(self._limits)
        self._form_limits = FormLimits(
            max_file_bytes=settings.limits.max_input_bytes,
            max_parts=len(FILE_WHAT) + settings.limits.max_styles * 2 + 8,
        )
        self._resolver = make_resolver(settings)
        self._catalog = make_catalog(settings)
        self._preset_bytes: dict[str, bytes] = {}
        self._working = threading.Lock()  # held while decoding or painting, on a worker thread
        self._engine = await load_engine(
            settings, self._resolver, threads=settings.service.num_cpus
        )
        self._replica = serve.get_replica_context().replica_id.unique_id
        self._node = ray.get_runtime_context().get_node_id()
        log.info("painter %s ready on node %s", self._replica, self._node)

    async def __call__(self, request: Request) -> Response:
        """Answer one HTTP request; every failure is a JSON sentence, never a traceback."""
        return await answered(self._answer, request)

    async def _answer(self, request: Request) -> Response:
        below = route_path(request.scope).rstrip("/")
        if below:
            return not_found(STYLIZE_PATH + below)
        if request.method != "POST":
            return wrong_method("POST", STYLIZE_PATH)
        parts = await read_form(request.headers, request.stream(), self._form_limits)
        order = order_from_form(parts, self._settings, self._catalog)
        presets = {
            style.preset: await self._preset(style.preset)
            for style in order.styles
            if style.preset is not None
        }
        # Refused before painting starts (a style or photo that does not decode): plain JSON.
        prepared = await asyncio.to_thread(self._prepare, order, presets)
        if order.progress:
            boundary = new_boundary()
            return StreamingResponse(
                self._stream(prepared, boundary), media_type=stream_content_type(boundary)
            )
        return painting_answer(await asyncio.to_thread(self._paint, prepared, None))

    async def _preset(self, slug: str) -> bytes:
        """A preset painting's bytes, read once per replica."""
        data = self._preset_bytes.get(slug)
        if data is None:
            path = await self._resolver.preset_image_path(self._catalog.get(slug))
            data = await asyncio.to_thread(
                read_image_bytes, path, self._style_limits, what=f"preset image for {slug}"
            )
            self._preset_bytes[slug] = data
        return data

    def _prepare(self, order: PaintOrder, presets: dict[str, bytes]) -> Prepared:
        """The inputs decoded (on a worker thread), once no other request is being worked on."""
        with self._working:
            return self._decoded(order, presets)

    def _decoded(self, order: PaintOrder, presets: dict[str, bytes]) -> Prepared:
        """The styles, then the photo: an animation (told by its bytes, as the CLI does) or a
        still, decoded; each bad input raises its sentence."""
        start = time.perf_counter()
        styles = [
            style_from_bytes(
                presets[style.preset] if style.preset is not None else style.data or b"",
                self._style_limits,
                weight=style.weight,
                what=(f"preset image for {style.preset}" if style.preset is not None
                      else f"style image {style.name}"),
            )
            for style in order.styles
        ]
        if not order.wants_still:
            animation = open_animation(
                order.content, self._limits, self._animation_limits,
                max_side=order.options.max_side, what="photo",
            )
            if animation is not None:
                return Prepared(order, styles, time.perf_counter() - start,
                                animation=animation)
        elif looks_like_video(order.content) is not None:
            raise BadForm(f"A video is painted as gif, mp4 or webp, not {order.format_name}.")
        order.still_format()  # gif or mp4 asked for a still: refused before decoding
        still = decode_image(order.content, self._limits, what="photo")
        return Prepared(order, styles, time.perf_counter() - start, still=still)

    async def _stream(self, prepared: Prepared, boundary: str) -> AsyncIterator[bytes]:
        """Progress parts as the painting thread reports frames, then the final part."""
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[tuple[int, int] | None] = asyncio.Queue()

        def progress(done: int, expected: int) -> None:  # called on the painting thread
            loop.call_soon_threadsafe(events.put_nowait, (done, expected))

        painting = asyncio.ensure_future(asyncio.to_thread(self._paint, prepared, progress))
        # Queued after every progress event: the thread schedules those before it finishes.
        painting.add_done_callback(lambda _: events.put_nowait(None))
        try:
            while (event := await events.get()) is not None:
                yield json_part(boundary, {"frame": event[0], "frames": event[1]})
            yield self._final_part(painting, boundary)
            yield closing(boundary)
        finally:
            if not painting.done():  # the client left: this replica is busy until it ends
                await asyncio.wait([painting])

    def _final_part(self, painting: asyncio.Future[PaintOutcome], boundary: str) -> bytes:
        """The painting with its headers, or the failure found while painting, as JSON."""
        try:
            outcome = painting.result()
        except StylebotError as error:
            return json_part(boundary, {"error": error.message, "status": status_for(error)})
        except Exception:
            log.exception("unexpected failure while painting a streamed answer")
            return json_part(boundary, {"error": UNEXPECTED, "status": 500})
        headers = {"Content-Type": outcome.media_type, **painting_headers(outcome)}
        return part(boundary, headers, outcome.data)

    def _paint(self, prepared: Prepared, progress: Progress | None) -> PaintOutcome:
        """Paint and encode (on a worker thread); `progress` hears of each animation frame."""
        with self._working:
            start = time.perf_counter()
            if prepared.animation is not None:
                return self._paint_animation(prepared, prepared.animation, progress, start)
            return self._paint_still(prepared, start)

    def _paint_still(self, prepared: Prepared, start: float) -> PaintOutcome:
        """The still painted and encoded in the format asked for."""
        assert prepared.still is not None
        image_format, media_type = prepared.order.still_format()
        painted = stylize(self._engine, prepared.still, prepared.styles, prepared.order.options)
        data = encode_image(painted, image_format)
        return PaintOutcome(
            data=data,
            media_type=media_type,
            width=painted.width,
            height=painted.height,
            seconds=prepared.spent + time.perf_counter() - start,
            replica=self._replica,
            node=self._node,
        )

    def _paint_animation(
        self, prepared: Prepared, animation: Animation, progress: Progress | None, start: float
    ) -> PaintOutcome:
        """Every frame painted (trimmed to the limits), encoded as asked or to fit max_bytes."""
        order = prepared.order
        fmt = order.animation_format(DEFAULT_FORMAT_OF_KIND.get(animation.kind, "MP4"))
        # encoded while painted: the format asked for, or GIF, which fitting tries first
        encode_as = "GIF" if order.max_bytes is not None else fmt
        try:
            result = paint_animation(
                self._engine, animation, prepared.styles, order.options, progress=progress,
                encode_as=encode_as,
            )
        finally:
            animation.close()
        if order.max_bytes is not None:
            fitted = result.encode_to_fit(order.max_bytes)
            data, fmt, (width, height) = fitted.data, fitted.fmt, fitted.size
        else:
            data, (width, height) = result.encode(fmt), result.size
        return PaintOutcome(
            data=data,
            media_type=MEDIA_TYPE_OF_ANIMATION[fmt],
            width=width,
            height=height,
            seconds=prepared.spent + time.perf_counter() - start,
            frames=result.frames,
            duration=result.seconds,
            note=result.note,
            replica=self._replica,
            node=self._node,
        )

    def check_health(self) -> None:
        """Serve's health check: the replica is healthy while its engine is loaded."""

    def __del__(self) -> None:
        engine = getattr(self, "_engine", None)
        if engine is not None:
            engine.close()
