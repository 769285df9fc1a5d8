"""`stylebot download`: fetch the model files and preset images ahead of time."""

from __future__ import annotations

import asyncio
import sys

from bot.assets import prefetch
from bot.config import Settings
from bot.runtime import make_catalog, make_resolver


def run_download(settings: Settings) -> int:
    """Fetch everything the default engine and the built-in presets need into the cache."""
    resolver = make_resolver(settings, progress=sys.stderr.isatty())
    paths = asyncio.run(prefetch(resolver, make_catalog(settings), settings.engine.transfer))
    cached = sum(1 for path in paths if resolver.cache_dir in path.parents)
    print(f"{len(paths)} files ready: {cached} in {resolver.cache_dir}, "
          f"{len(paths) - cached} read in place (mirror or local folders).")
    return 0
