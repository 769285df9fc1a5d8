"""The Painter deployment: each replica loads the configured engine once and paints orders."""

from __future__ import annotations

import asyncio
import logging
import time

from bot.animation import paint_animation
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
from bot.service.errors import BadForm, status_for
from bot.service.order import (
    MEDIA_TYPE_OF_ANIMATION,
    OrderStyle,
    PaintOrder,
    PaintOutcome,
)
from bot.stylization import style_from_bytes, stylize

log = logging.getLogger(__name__)


class Painter:
    """One replica: the engine (threads = the replica's CPUs), preset bytes and style vectors.

    Style vectors are keyed by the style image's SHA-256 (`bot.stylization.style_from_bytes`) in
    the engine's cache: in memory, and on the node's disk under the cache folder, so an
    uploaded style costs the style network once per node.
    """

    # Serve awaits an async constructor; type checkers insist __init__ returns None.
    async def __init__(self, settings: Settings) -> None:  # type: ignore[misc]
        import ray
        from ray import serve

        self._settings = settings
        self._limits = settings.image_limits()
        self._animation_limits = settings.animation_limits()
        self._style_limits = style_limits(self._limits)
        self._resolver = make_resolver(settings)
        self._catalog = make_catalog(settings)
        self._preset_bytes: dict[str, bytes] = {}
        self._engine = await load_engine(
            settings, self._resolver, threads=settings.service.num_cpus
        )
        self._replica = serve.get_replica_context().replica_id.unique_id
        self._node = ray.get_runtime_context().get_node_id()
        log.info("painter %s ready on node %s", self._replica, self._node)

    async def paint(self, order: PaintOrder) -> PaintOutcome:
        """Paint one order; a user's error comes back as its status and sentence."""
        try:
            styles = [await self._style(style) for style in order.styles]
            return await asyncio.to_thread(self._paint, order, styles)
        except StylebotError as error:
            return PaintOutcome(
                replica=self._replica, node=self._node,
                status=status_for(error), error=error.message,
            )

    async def _style(self, style: OrderStyle) -> WeightedStyle:
        if style.data is not None:
            return style_from_bytes(
                style.data, self._style_limits, weight=style.weight,
                what=f"style image {style.name}",
            )
        slug = style.preset or style.name
        data = self._preset_bytes.get(slug)
        if data is None:
            path = await self._resolver.preset_image_path(self._catalog.get(slug))
            data = await asyncio.to_thread(
                read_image_bytes, path, self._style_limits, what=f"preset image for {slug}"
            )
            self._preset_bytes[slug] = data
        return style_from_bytes(
            data, self._style_limits, weight=style.weight, what=f"preset image for {slug}"
        )

    def _paint(self, order: PaintOrder, styles: list[WeightedStyle]) -> PaintOutcome:
        start = time.perf_counter()
        if not order.wants_still:
            # As the CLI: the kind is told by the bytes; None = a still (or bytes that
            # decode_image then refuses with its own sentence).
            animation = open_animation(
                order.content, self._limits, self._animation_limits,
                max_side=order.options.max_side, what="photo",
            )
            if animation is not None:
                return self._paint_animation(order, animation, styles, start)
        elif looks_like_video(order.content) is not None:
            raise BadForm(f"A video is painted as gif, mp4 or webp, not {order.format_name}.")
        image_format, media_type = order.still_format()
        content = decode_image(order.content, self._limits, what="photo")
        painted = stylize(self._engine, content, styles, order.options)
        data = encode_image(painted, image_format)
        return PaintOutcome(
            data=data,
            media_type=media_type,
            width=painted.width,
            height=painted.height,
            seconds=time.perf_counter() - start,
            replica=self._replica,
            node=self._node,
        )

    def _paint_animation(
        self, order: PaintOrder, animation: Animation, styles: list[WeightedStyle], start: float
    ) -> PaintOutcome:
        """Every frame painted (trimmed to the limits), encoded as asked or to fit max_bytes."""
        fmt = order.animation_format(DEFAULT_FORMAT_OF_KIND.get(animation.kind, "MP4"))
        # encoded while painted: the format asked for, or GIF, which fitting tries first
        encode_as = "GIF" if order.max_bytes is not None else fmt
        try:
            result = paint_animation(self._engine, animation, styles, order.options,
                                     encode_as=encode_as)
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
            seconds=time.perf_counter() - start,
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
