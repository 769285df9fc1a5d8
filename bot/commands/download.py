"""`stylebot download`: fetch the model files and preset images ahead of time."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bot.assets import prefetch
from bot.config import Settings
from bot.loaders import make_catalog, make_resolver


def run_download(settings: Settings, *, into_cache: bool = False) -> int:
    """Fetch everything the default engine and the built-in presets need into the cache; with
    `into_cache`, files found in the mirror are copied there too (the Docker image's build)."""
    resolver = make_resolver(settings, progress=sys.stderr.isatty())
    paths = asyncio.run(prefetch(resolver, make_catalog(settings), settings.engine.transfer))
    copied = 0
    if into_cache and resolver.mirror_dir is not None:
        for index, path in enumerate(paths):
            if resolver.mirror_dir in path.parents:
                paths[index] = copy_into(path, resolver.mirror_dir, resolver.cache_dir)
                copied += 1
    cached = sum(1 for path in paths if resolver.cache_dir in path.parents)
    from_mirror = f" ({copied} copied from the mirror)" if into_cache else ""
    print(f"{len(paths)} files ready: {cached} in {resolver.cache_dir}{from_mirror}, "
          f"{len(paths) - cached} read in place (mirror or local folders).")
    return 0


def copy_into(path: Path, mirror: Path, cache: Path) -> Path:
    """Copy a mirror file to the same place under the cache (the two share their layout,
    models/<file> and presets/<slug>.jpg), atomically; return the copy."""
    target = cache / path.relative_to(mirror)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".copy-", delete=False) as tmp:
        try:
            with path.open("rb") as source:
                shutil.copyfileobj(source, tmp)
            tmp.close()
            os.replace(tmp.name, target)
        except BaseException:
            Path(tmp.name).unlink(missing_ok=True)
            raise
    return target
