"""Where assets live on disk: the cache directory and the offline mirror, from the environment."""

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """$STYLEBOT_CACHE_DIR, else $XDG_CACHE_HOME/stylebot, else ~/.cache/stylebot."""
    explicit = os.environ.get("STYLEBOT_CACHE_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser().absolute()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    # The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "stylebot"
    return Path.home() / ".cache" / "stylebot"


def mirror_dir_from_env() -> Path | None:
    """$STYLEBOT_MIRROR as an absolute path (relative to the current dir), or None if unset."""
    value = os.environ.get("STYLEBOT_MIRROR", "").strip()
    if not value:
        return None
    return Path(value).expanduser().absolute()
