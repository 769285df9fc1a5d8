"""Settings -> asset resolver, preset catalog and engine: shared by the CLI, bot and service."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.assets import PREDICTION_INT8, TRANSFER_MODELS, AssetResolver, Preset, PresetCatalog
from bot.config import Settings
from bot.engine import Engine, WeightedStyle, create_engine
from bot.imaging import ImageLimits
from bot.stylization import style_from_file


def make_resolver(settings: Settings, *, progress: bool = False) -> AssetResolver:
    """The asset resolver for these settings (cache, mirror and local model folder)."""
    paths = settings.paths
    return AssetResolver(
        cache_dir=paths.resolved_cache_dir(),
        mirror_dir=paths.mirror,
        model_dir=settings.engine.model_dir,
        timeout=settings.limits.download_timeout * 6,
        progress=progress,
    )


def make_catalog(settings: Settings) -> PresetCatalog:
    """Built-in presets plus the custom presets folder, if any."""
    return PresetCatalog.builtin().with_custom_dir(settings.paths.presets_dir)


async def load_engine(
    settings: Settings,
    resolver: AssetResolver,
    *,
    name: str | None = None,
    hub_handle: str | None = None,
    threads: int | None = None,
    precision: str | None = None,
) -> Engine:
    """Fetch the model files the engine needs, then build it off the event loop."""
    name = name or settings.engine.name
    prediction = transfer = None
    if name == "lite":
        prediction = await resolver.model_path(PREDICTION_INT8)
        transfer = await resolver.model_path(TRANSFER_MODELS[settings.engine.transfer])
    threads = threads or settings.engine.effective_threads(settings.jobs.workers)
    cache = Path(resolver.cache_dir)
    return await asyncio.to_thread(
        create_engine,
        name,
        prediction_model=prediction,
        transfer_model=transfer,
        hub_handle=hub_handle or settings.engine.hub_handle,
        threads=threads,
        vector_dir=cache / "vectors" / PREDICTION_INT8.sha256[:12],
        compile_cache=cache / "openvino",
        precision=precision or settings.engine.precision,
    )


async def preset_style(
    resolver: AssetResolver, preset: Preset, limits: ImageLimits, *, weight: float = 1.0
) -> WeightedStyle:
    """A preset as a style: its image fetched if needed, its vector cached by content."""
    path = await resolver.preset_image_path(preset)
    return await asyncio.to_thread(
        style_from_file, path, limits, weight=weight, what=f"preset image for {preset.slug}"
    )
