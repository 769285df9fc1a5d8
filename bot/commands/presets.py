"""`stylebot presets`: list the preset styles."""

from __future__ import annotations

from bot.assets import PresetCatalog
from bot.config import Settings
from bot.loaders import make_catalog


def format_presets(catalog: PresetCatalog) -> list[str]:
    """One aligned line per preset: slug, title, artist and year (or 'custom')."""
    rows = [
        (p.slug, p.title, p.artist, str(p.year or "")) if not p.is_custom
        else (p.slug, "custom preset", str(p.custom_path), "")
        for p in catalog
    ]
    width = max((len(r[0]) for r in rows), default=0)
    return [f"{slug:<{width}}  {title} - {artist}{f' ({year})' if year else ''}"
            for slug, title, artist, year in rows]


def run_presets(settings: Settings) -> int:
    """Print the catalog, built-in presets first."""
    for line in format_presets(make_catalog(settings)):
        print(line)
    return 0
