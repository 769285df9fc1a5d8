"""Where assets live on disk: the cache directory and the offline mirror, from the environment."""

import os
from pathlib import Path

from bot.folders import absolute_path, user_cache_dir


def default_cache_dir() -> Path:
    """$STYLEBOT_CACHE_DIR, else $XDG_CACHE_HOME/stylebot, else ~/.cache/stylebot."""
    return _path_from_env("STYLEBOT_CACHE_DIR") or user_cache_dir()


def mirror_dir_from_env() -> Path | None:
    """$STYLEBOT_MIRROR as an absolute path (relative to the current dir), or None if unset."""
    return _path_from_env("STYLEBOT_MIRROR")


def _path_from_env(variable: str) -> Path | None:
    value = os.environ.get(variable, "").strip()
    return absolute_path(value) if value else None
