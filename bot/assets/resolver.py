"""Find a model file or preset image: local path, cache, offline mirror, then download."""

from __future__ import annotations

import asyncio
import hashlib
import re
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageOps

from bot.assets.download import USER_AGENT, download_file
from bot.assets.models import ModelFile
from bot.assets.paths import default_cache_dir, mirror_dir_from_env
from bot.assets.presets import Preset
from bot.atomic import atomic_write
from bot.errors import AssetError

if TYPE_CHECKING:  # aiohttp costs ~0.2 s to import; only downloads need it
    import aiohttp

PRESET_MAX_SIDE = 1024
PRESET_JPEG_QUALITY = 92
PRESET_MAX_BYTES = 64 * 1024 * 1024
_WIKI_FILE_PAGE = re.compile(r"^(https?://[^/]+)/wiki/File:(.+)$")

# (absolute path, size, mtime_ns, sha256) of files already hashed in this process.
_verified: set[tuple[str, int, int, str]] = set()


def direct_image_url(url: str) -> str:
    """Turn a MediaWiki file *page* URL (/wiki/File:X) into one that redirects to the image."""
    match = _WIKI_FILE_PAGE.match(url)
    return f"{match[1]}/wiki/Special:FilePath/{match[2]}" if match else url


def _fingerprint(path: Path, sha256: str) -> tuple[str, int, int, str]:
    stat = path.stat()
    return str(path.absolute()), stat.st_size, stat.st_mtime_ns, sha256.lower()


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


async def _matches(path: Path, sha256: str, size: int | None = None) -> bool:
    """Whether path hashes to sha256 (hashed at most once per process while unchanged)."""
    key = _fingerprint(path, sha256)
    if key in _verified:
        return True
    if size is not None and key[1] != size:
        return False
    if await asyncio.to_thread(_hash_file, path) != key[3]:
        return False
    _verified.add(key)
    return True


def _places(*places: tuple[str, Path | None]) -> str:
    """'the cache /a or the mirror /b' for the places that are configured."""
    named = [f"{what} {where}" for what, where in places if where is not None]
    return ", ".join(named[:-1]) + " or " + named[-1] if len(named) > 1 else named[0]


@asynccontextmanager
async def _session(session: aiohttp.ClientSession | None) -> AsyncIterator[aiohttp.ClientSession]:
    if session is not None:
        yield session
        return
    import aiohttp

    async with aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as own:
        yield own


class AssetResolver:
    """Locates assets on disk, verifying them, and downloads into the cache when allowed."""

    def __init__(
        self,
        cache_dir: Path | None = None,
        mirror_dir: Path | None = None,
        model_dir: Path | None = None,
        *,
        allow_download: bool = True,
        timeout: float = 120.0,
        progress: bool = False,
    ) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.mirror_dir = Path(mirror_dir) if mirror_dir is not None else mirror_dir_from_env()
        self.model_dir = Path(model_dir) if model_dir is not None else None
        self.allow_download = allow_download
        self.timeout = timeout
        self.progress = progress

    def _in_mirror(self, folder: str, name: str) -> Path | None:
        return self.mirror_dir / folder / name if self.mirror_dir is not None else None

    async def model_path(
        self, model: ModelFile, session: aiohttp.ClientSession | None = None
    ) -> Path:
        """The verified model file: model_dir, then cache, then mirror, then a download."""
        local = self.model_dir / model.filename if self.model_dir is not None else None
        cached = self.cache_dir / "models" / model.filename
        mirrored = self._in_mirror("models", model.filename)
        if local is not None and local.is_file():
            return await self._checked(local, model)
        if cached.is_file() and await _matches(cached, model.sha256, model.size):
            return cached
        if mirrored is not None and mirrored.is_file():
            return await self._checked(mirrored, model)
        if not self.allow_download:
            if cached.is_file():
                raise AssetError(f"The model file {cached} is damaged and downloads are off.")
            where = _places(
                ("the model folder", self.model_dir),
                ("the cache", cached.parent),
                ("the mirror", mirrored.parent if mirrored else None),
            )
            raise AssetError(
                f"The model file {model.filename} is not in {where} and downloads are off."
            )
        async with _session(session) as s:
            await download_file(
                s,
                model.url,
                cached,
                sha256=model.sha256,
                timeout=self.timeout,
                max_bytes=model.size,
                progress=self.progress,
            )
        _verified.add(_fingerprint(cached, model.sha256))
        return cached

    async def _checked(self, path: Path, model: ModelFile) -> Path:
        if not await _matches(path, model.sha256, model.size):
            raise AssetError(f"The model file {path} does not match its official SHA-256 checksum.")
        return path

    async def preset_image_path(
        self, preset: Preset, session: aiohttp.ClientSession | None = None
    ) -> Path:
        """The preset's image: its custom file, else cache, mirror, then a downscaled download."""
        if preset.custom_path is not None:
            if not preset.custom_path.is_file():
                raise AssetError(
                    f"The image {preset.custom_path} of preset {preset.slug} is missing."
                )
            return preset.custom_path
        name = f"{preset.slug}.jpg"
        cached = self.cache_dir / "presets" / name
        mirrored = self._in_mirror("presets", name)
        if cached.is_file():
            return cached
        if mirrored is not None and mirrored.is_file():
            if preset.mirror_sha256 and not await _matches(mirrored, preset.mirror_sha256):
                raise AssetError(
                    f"The preset image {mirrored} does not match its SHA-256 checksum."
                )
            return mirrored
        if not self.allow_download or not preset.url:
            where = _places(
                ("the cache", cached.parent), ("the mirror", mirrored and mirrored.parent)
            )
            why = "downloads are off" if preset.url else "it has no download address"
            raise AssetError(f"The preset image {name} is not in {where} and {why}.")
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            workdir = tempfile.TemporaryDirectory(dir=cached.parent, prefix=".download-")
        except OSError as exc:
            raise AssetError(f"The preset folder {cached.parent} is not writable.") from exc
        with workdir as tmp:
            async with _session(session) as s:
                raw = await download_file(
                    s,
                    direct_image_url(preset.url),
                    Path(tmp) / name,
                    timeout=self.timeout,
                    max_bytes=PRESET_MAX_BYTES,
                    progress=self.progress,
                    headers={"User-Agent": USER_AGENT},
                )
            await asyncio.to_thread(_save_downscaled, raw, cached)
        return cached


def _save_downscaled(raw: Path, dest: Path) -> None:
    """Re-encode raw as an RGB JPEG whose long side is at most PRESET_MAX_SIDE, atomically."""
    image: Image.Image
    try:
        with Image.open(raw) as image:
            image.draft("RGB", (PRESET_MAX_SIDE, PRESET_MAX_SIDE))
            image = ImageOps.exif_transpose(image).convert("RGB")
    except Exception as exc:  # Pillow raises many types for bad or hostile input
        raise AssetError(f"The file downloaded as {dest.name} is not a readable image.") from exc
    image.thumbnail((PRESET_MAX_SIDE, PRESET_MAX_SIDE), Image.Resampling.LANCZOS)
    try:
        with atomic_write(dest) as out:
            image.save(out, "JPEG", quality=PRESET_JPEG_QUALITY)
    except OSError as exc:
        raise AssetError(
            f"Saving {dest.name} in {dest.parent} failed: {exc.strerror or type(exc).__name__}."
        ) from exc
