"""The preset catalog: built-in paintings from catalog.toml plus custom images from a folder."""

import difflib
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bot.errors import AssetError, UnknownPreset

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp"})
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Preset:
    """A style image: a built-in painting (fetched by url) or a custom local file."""

    slug: str
    title: str
    artist: str
    year: int | None
    url: str | None
    custom_path: Path | None = None
    mirror_sha256: str | None = None  # hash of the mirror copy only, never of a download

    @property
    def is_custom(self) -> bool:
        return self.custom_path is not None


def _key(name: str) -> str:
    return name.strip().lower()


def _hyphened(key: str) -> str:
    return re.sub(r"[\s_]+", "-", key)


class PresetCatalog:
    """An ordered, immutable set of presets looked up by case-insensitive name."""

    def __init__(self, presets: Iterable[Preset] = ()) -> None:
        self._presets: dict[str, Preset] = {_key(p.slug): p for p in presets}

    @classmethod
    def builtin(cls) -> "PresetCatalog":
        """The presets shipped in bot/assets/catalog.toml."""
        text = resources.files("bot.assets").joinpath("catalog.toml").read_text("utf-8")
        return cls(
            Preset(
                slug=entry["slug"],
                title=entry["title"],
                artist=entry["artist"],
                year=entry.get("year"),
                url=entry.get("url"),
                mirror_sha256=entry.get("mirror_sha256"),
            )
            for entry in tomllib.loads(text)["preset"]
        )

    def with_custom_dir(self, folder: Path | None) -> "PresetCatalog":
        """A copy with every image in folder added, named by its file stem (lower case, hyphens)."""
        if folder is None:
            return self
        folder = Path(folder)
        if not folder.is_dir():
            raise AssetError(f"The custom preset folder {folder} does not exist.")
        presets = dict(self._presets)
        for path in sorted(folder.iterdir()):
            key = _hyphened(_key(path.stem))
            if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file() and key:
                presets[key] = Preset(key, path.stem, "", None, None, custom_path=path)
        return PresetCatalog(presets.values())

    def get(self, name: str) -> Preset:
        """The preset called name (any case; spaces or underscores may stand for hyphens)."""
        key = _key(name)
        for candidate in (key, _hyphened(key)):
            if candidate in self._presets:
                return self._presets[candidate]
        raise UnknownPreset(name.strip(), self._suggest(key))

    def _suggest(self, key: str) -> list[str]:
        if not key:
            return []
        names = self.names()
        slug = _hyphened(key)
        hits = [n for n in names if n.startswith(slug)]
        hits += [n for n in names if slug in n]
        hits += difflib.get_close_matches(slug, names, n=MAX_SUGGESTIONS, cutoff=0.6)
        hits += [
            n for n, p in self._presets.items() if key in p.title.lower() or key in p.artist.lower()
        ]
        return list(dict.fromkeys(hits))[:MAX_SUGGESTIONS]

    def names(self) -> list[str]:
        return list(self._presets)

    def __iter__(self) -> Iterator[Preset]:
        return iter(list(self._presets.values()))

    def __len__(self) -> int:
        return len(self._presets)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = _key(name)
        return key in self._presets or _hyphened(key) in self._presets
