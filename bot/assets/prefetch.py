"""Fetch every asset stylebot needs ahead of time (the `stylebot download` command)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.assets.download import USER_AGENT
from bot.assets.models import PREDICTION_INT8, TRANSFER_MODELS
from bot.assets.presets import PresetCatalog
from bot.assets.resolver import AssetResolver
from bot.errors import AssetError

if TYPE_CHECKING:  # aiohttp costs ~0.2 s to import; only downloads need it
    pass


async def prefetch(
    resolver: AssetResolver, catalog: PresetCatalog, transfer: str = "fp16"
) -> list[Path]:
    """Resolve the prediction model, the chosen transfer model and every built-in preset image."""
    if transfer not in TRANSFER_MODELS:
        choices = " or ".join(sorted(TRANSFER_MODELS))
        raise AssetError(f"There is no transfer model “{transfer}”; choose {choices}.")
    import aiohttp

    async with aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as session:
        paths = [
            await resolver.model_path(PREDICTION_INT8, session),
            await resolver.model_path(TRANSFER_MODELS[transfer], session),
        ]
        for preset in catalog:
            if not preset.is_custom:
                paths.append(await resolver.preset_image_path(preset, session))
    return paths
