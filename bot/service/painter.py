"""The Painter deployment: each replica loads the configured engine once and paints orders."""

from __future__ import annotations

import asyncio
import logging
import time

from bot.config import Settings
from bot.engine import WeightedStyle
from bot.errors import StylebotError
from bot.imaging import decode_image, encode_image, read_image_bytes, style_limits
from bot.pipeline import style_from_bytes, stylize
from bot.runtime import load_engine, make_catalog, make_resolver
from bot.service.errors import status_for
from bot.service.order import OrderStyle, PaintOrder, PaintOutcome

log = logging.getLogger(__name__)


class Painter:
    """One replica: the engine (threads = the replica's CPUs), preset bytes and style vectors.

    Style vectors are keyed by the style image's SHA-256 (`bot.pipeline.style_from_bytes`) in
    the engine's cache: in memory, and on the node's disk under the cache folder, so an
    uploaded style costs the style network once per node.
    """

    # Serve awaits an async constructor; type checkers insist __init__ returns None.
    async def __init__(self, settings: Settings) -> None:  # type: ignore[misc]
        import ray
        from ray import serve

        self._settings = settings
        self._limits = settings.image_limits()
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
        content = decode_image(order.content, self._limits, what="photo")
        painted = stylize(self._engine, content, styles, order.options)
        data = encode_image(painted, order.image_format)
        return PaintOutcome(
            data=data,
            media_type=order.media_type,
            width=painted.width,
            height=painted.height,
            seconds=time.perf_counter() - start,
            replica=self._replica,
            node=self._node,
        )

    def check_health(self) -> None:
        """Serve's health check: the replica is healthy while its engine is loaded."""

    def __del__(self) -> None:
        engine = getattr(self, "_engine", None)
        if engine is not None:
            engine.close()
