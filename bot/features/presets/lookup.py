"""Style names for a guild: its own custom presets first, then the catalog; bytes kept warm."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from bot.assets import AssetResolver, PresetCatalog
from bot.engine import Engine
from bot.errors import UnknownPreset
from bot.imaging import ImageLimits, read_image_bytes, style_limits
from bot.store import Store, normalise_preset_name
from bot.stylization import style_from_bytes

log = logging.getLogger(__name__)


class PresetLibrary:
    """Finds a preset's image bytes by name, for a guild, without blocking the event loop."""

    def __init__(
        self, catalog: PresetCatalog, resolver: AssetResolver, store: Store, limits: ImageLimits
    ) -> None:
        self.catalog = catalog
        self._resolver = resolver
        self._store = store
        self._limits = style_limits(limits)
        self._catalog_bytes: dict[str, bytes] = {}

    async def warm_up(self, engine: Engine, session: aiohttp.ClientSession | None) -> None:
        """Load every catalog preset's image and compute its style vector before serving."""
        for preset in self.catalog:
            path = await self._resolver.preset_image_path(preset, session)
            self._catalog_bytes[preset.slug] = await asyncio.to_thread(
                read_image_bytes, path, self._limits, what=f"preset image {preset.slug}"
            )
        styles = [style_from_bytes(data, self._limits) for data in self._catalog_bytes.values()]
        await asyncio.to_thread(engine.warm_up, styles)
        log.info("warmed %d presets", len(styles))

    async def names(self, guild_id: int | None) -> list[str]:
        """The guild's custom presets, then the catalog's."""
        custom = await asyncio.to_thread(self._store.preset_names, guild_id) if guild_id else []
        return custom + [name for name in self.catalog.names() if name not in custom]

    async def image(self, guild_id: int | None, name: str) -> tuple[str, bytes]:
        """(canonical name, image bytes) for a preset, or UnknownPreset with close matches."""
        key = name.strip().lower()
        if guild_id:
            data = await asyncio.to_thread(self._store.preset_image, guild_id, key)
            if data is not None:
                return normalise_preset_name(key), data  # as stored: My_Mural -> my-mural
        try:
            preset = self.catalog.get(key)
        except UnknownPreset as exc:
            raise UnknownPreset(name, await self._suggest(guild_id, key, exc.suggestions)) from None
        data = self._catalog_bytes.get(preset.slug)
        if data is None:  # a custom-folder preset, or one added after start-up
            path = await self._resolver.preset_image_path(preset)
            data = await asyncio.to_thread(read_image_bytes, path, self._limits,
                                           what=f"preset image {preset.slug}")
        return preset.slug, data

    async def _suggest(self, guild_id: int | None, key: str, found: list[str]) -> list[str]:
        import difflib

        custom = await asyncio.to_thread(self._store.preset_names, guild_id) if guild_id else []
        return (difflib.get_close_matches(key, custom, n=2, cutoff=0.6) + found)[:3]
