"""Model files and preset images: local path, cache, offline mirror, download; preset catalog."""

from bot.assets.download import USER_AGENT, download_file
from bot.assets.models import (
    PREDICTION_INT8,
    TRANSFER_FP16,
    TRANSFER_INT8,
    TRANSFER_MODELS,
    ModelFile,
)
from bot.assets.paths import default_cache_dir, mirror_dir_from_env
from bot.assets.prefetch import prefetch
from bot.assets.presets import Preset, PresetCatalog
from bot.assets.resolver import AssetResolver

__all__ = [
    "PREDICTION_INT8",
    "TRANSFER_FP16",
    "TRANSFER_INT8",
    "TRANSFER_MODELS",
    "USER_AGENT",
    "AssetResolver",
    "ModelFile",
    "Preset",
    "PresetCatalog",
    "default_cache_dir",
    "download_file",
    "mirror_dir_from_env",
    "prefetch",
]
