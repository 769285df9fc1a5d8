"""AssetResolver order (local, cache, mirror, download), verification, presets, prefetch, paths."""

import dataclasses
import shutil
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from bot.assets import (
    PREDICTION_INT8,
    TRANSFER_FP16,
    TRANSFER_INT8,
    USER_AGENT,
    AssetResolver,
    ModelFile,
    Preset,
    PresetCatalog,
    default_cache_dir,
    mirror_dir_from_env,
    prefetch,
)
from bot.assets.resolver import direct_image_url
from bot.errors import AssetError

MODEL = TRANSFER_INT8


@pytest.fixture
def empty_mirror(tmp_path) -> Path:
    root = tmp_path / "empty-mirror"
    (root / "models").mkdir(parents=True)
    (root / "presets").mkdir()
    return root


@pytest.fixture
def served_model(server) -> ModelFile:
    """TRANSFER_INT8 with its URL pointed at the loopback server."""
    return dataclasses.replace(MODEL, url=server.url(f"files/models/{MODEL.filename}"))


def copy_model(mirror_dir: Path, folder: Path, model=MODEL) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(mirror_dir / "models" / model.filename, folder / model.filename))


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# --- models -------------------------------------------------------------------------------


async def test_downloads_into_the_cache_when_nothing_is_local(
    server, served_model, empty_mirror, tmp_path, mirror_dir
):
    cache = tmp_path / "cache"
    resolver = AssetResolver(cache, empty_mirror)
    path = await resolver.model_path(served_model)
    assert path == cache / "models" / MODEL.filename
    assert path.read_bytes() == (mirror_dir / "models" / MODEL.filename).read_bytes()
    assert server.hits[f"/files/models/{MODEL.filename}"] == 1
    assert server.user_agents[f"/files/models/{MODEL.filename}"] == USER_AGENT
    # Second time: straight from the cache, no request.
    assert await resolver.model_path(served_model) == path
    assert server.hits[f"/files/models/{MODEL.filename}"] == 1
    assert files_in(cache) == ["models", f"models/{MODEL.filename}"]


async def test_mirror_before_download(server, served_model, mirror_dir, tmp_path):
    resolver = AssetResolver(tmp_path / "cache", mirror_dir)
    path = await resolver.model_path(served_model)
    assert path == mirror_dir / "models" / MODEL.filename
    assert sum(server.hits.values()) == 0


async def test_cache_before_mirror(served_model, mirror_dir, tmp_path):
    cached = copy_model(mirror_dir, tmp_path / "cache" / "models")
    resolver = AssetResolver(tmp_path / "cache", mirror_dir)
    assert await resolver.model_path(served_model) == cached


async def test_local_model_dir_first(served_model, mirror_dir, tmp_path):
    copy_model(mirror_dir, tmp_path / "cache" / "models")
    local = copy_model(mirror_dir, tmp_path / "local")
    resolver = AssetResolver(tmp_path / "cache", mirror_dir, tmp_path / "local")
    assert await resolver.model_path(served_model) == local


async def test_missing_local_file_falls_through(served_model, mirror_dir, tmp_path):
    (tmp_path / "local").mkdir()
    resolver = AssetResolver(tmp_path / "cache", mirror_dir, tmp_path / "local")
    assert await resolver.model_path(served_model) == mirror_dir / "models" / MODEL.filename


async def test_mirror_file_with_wrong_content(tmp_path, mirror_dir):
    bad_mirror = tmp_path / "bad-mirror"
    # Right name, wrong bytes (and the right size, so the hash itself is checked).
    (bad_mirror / "models").mkdir(parents=True)
    (bad_mirror / "models" / MODEL.filename).write_bytes(b"\0" * MODEL.size)
    resolver = AssetResolver(tmp_path / "cache", bad_mirror, allow_download=False)
    with pytest.raises(AssetError) as info:
        await resolver.model_path(MODEL)
    assert str(info.value) == (
        f"The model file {bad_mirror / 'models' / MODEL.filename} "
        "does not match its official SHA-256 checksum."
    )


async def test_local_file_with_wrong_content(tmp_path, mirror_dir):
    local = copy_model(mirror_dir, tmp_path / "local", TRANSFER_FP16)
    local.rename(tmp_path / "local" / MODEL.filename)  # the fp16 bytes under the int8 name
    resolver = AssetResolver(tmp_path / "cache", mirror_dir, tmp_path / "local")
    with pytest.raises(AssetError, match="does not match its official SHA-256 checksum"):
        await resolver.model_path(MODEL)


async def test_damaged_cache_file_is_downloaded_again(server, served_model, empty_mirror, tmp_path):
    cached = tmp_path / "cache" / "models" / MODEL.filename
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"garbage")
    resolver = AssetResolver(tmp_path / "cache", empty_mirror)
    assert await resolver.model_path(served_model) == cached
    assert cached.stat().st_size == MODEL.size
    assert server.hits[f"/files/models/{MODEL.filename}"] == 1


async def test_damaged_cache_file_with_downloads_off(empty_mirror, tmp_path):
    cached = tmp_path / "cache" / "models" / MODEL.filename
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"garbage")
    resolver = AssetResolver(tmp_path / "cache", empty_mirror, allow_download=False)
    with pytest.raises(AssetError, match="is damaged and downloads are off"):
        await resolver.model_path(MODEL)


async def test_downloads_off_says_where_it_looked(server, served_model, empty_mirror, tmp_path):
    resolver = AssetResolver(tmp_path / "cache", empty_mirror, allow_download=False)
    with pytest.raises(AssetError) as info:
        await resolver.model_path(served_model)
    assert str(info.value) == (
        f"The model file {MODEL.filename} is not in the cache {tmp_path / 'cache' / 'models'} "
        f"or the mirror {empty_mirror / 'models'} and downloads are off."
    )
    assert sum(server.hits.values()) == 0


async def test_download_with_wrong_bytes_leaves_the_cache_empty(server, empty_mirror, tmp_path):
    wrong = dataclasses.replace(MODEL, url=server.url(f"files/models/{TRANSFER_FP16.filename}"))
    resolver = AssetResolver(tmp_path / "cache", empty_mirror)
    with pytest.raises(AssetError, match=f"^Downloading {MODEL.filename} failed: "):
        await resolver.model_path(wrong)
    assert files_in(tmp_path / "cache") == ["models"]


async def test_uses_a_given_session(server, served_model, empty_mirror, tmp_path):
    resolver = AssetResolver(tmp_path / "cache", empty_mirror)
    async with aiohttp.ClientSession() as session:
        path = await resolver.model_path(served_model, session)
        assert not session.closed
    assert path.stat().st_size == MODEL.size


async def test_model_and_preset_downloads(server, served_model, empty_mirror, tmp_path):
    resolver = AssetResolver(tmp_path / "cache", empty_mirror)
    assert (await resolver.model_path(served_model)).stat().st_size == MODEL.size
    preset = Preset("big", "Big", "Nobody", None, server.url("generated/big.jpg"))
    with Image.open(await resolver.preset_image_path(preset)) as image:
        assert image.size == (1024, 768)


def test_defaults_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STYLEBOT_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("STYLEBOT_MIRROR", str(tmp_path / "m"))
    resolver = AssetResolver()
    assert resolver.cache_dir == tmp_path / "c"
    assert resolver.mirror_dir == tmp_path / "m"
    assert resolver.model_dir is None


# --- presets ------------------------------------------------------------------------------


async def test_preset_download_is_downscaled_to_1024(server, empty_mirror, tmp_path):
    url = server.url("generated/big.jpg")
    preset = Preset("big-test", "Big", "Nobody", None, url)
    resolver = AssetResolver(tmp_path / "cache", empty_mirror)
    path = await resolver.preset_image_path(preset)
    assert path == tmp_path / "cache" / "presets" / "big-test.jpg"
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert image.mode == "RGB"
        assert image.size == (1024, 768)
    assert files_in(tmp_path / "cache") == ["presets", "presets/big-test.jpg"]
    assert server.user_agents["/generated/big.jpg"] == USER_AGENT
    # Cached now: no second request.
    assert await resolver.preset_image_path(preset) == path
    assert server.hits["/generated/big.jpg"] == 1


async def test_small_preset_download_is_not_enlarged(server, empty_mirror, tmp_path, mirror_dir):
    # The mirror's impression-sunrise is 640x498; serve it as if from the web.
    url = server.url("files/presets/impression-sunrise.jpg")
    preset = Preset("small", "Small", "Nobody", None, url)
    path = await AssetResolver(tmp_path / "cache", empty_mirror).preset_image_path(preset)
    with Image.open(path) as image:
        assert image.size == (640, 498)


async def test_preset_cache_then_mirror(server, mirror_dir, tmp_path):
    catalog = PresetCatalog.builtin()
    served = dataclasses.replace(catalog.get("udnie"), url=server.url("generated/big.jpg"))
    resolver = AssetResolver(tmp_path / "cache", mirror_dir)
    assert await resolver.preset_image_path(served) == mirror_dir / "presets" / "udnie.jpg"
    cached = tmp_path / "cache" / "presets" / "udnie.jpg"
    cached.parent.mkdir(parents=True)
    shutil.copy(mirror_dir / "presets" / "udnie.jpg", cached)
    assert await resolver.preset_image_path(served) == cached
    assert sum(server.hits.values()) == 0


async def test_preset_mirror_with_wrong_content(tmp_path, mirror_dir):
    bad = tmp_path / "bad-mirror"
    (bad / "presets").mkdir(parents=True)
    shutil.copy(mirror_dir / "presets" / "nantes.jpg", bad / "presets" / "udnie.jpg")
    resolver = AssetResolver(tmp_path / "cache", bad, allow_download=False)
    with pytest.raises(AssetError, match="udnie.jpg does not match its SHA-256 checksum"):
        await resolver.preset_image_path(PresetCatalog.builtin().get("udnie"))


async def test_preset_downloads_off(empty_mirror, tmp_path):
    resolver = AssetResolver(tmp_path / "cache", empty_mirror, allow_download=False)
    with pytest.raises(AssetError) as info:
        await resolver.preset_image_path(PresetCatalog.builtin().get("the-kiss"))
    assert str(info.value) == (
        f"The preset image the-kiss.jpg is not in the cache {tmp_path / 'cache' / 'presets'} "
        f"or the mirror {empty_mirror / 'presets'} and downloads are off."
    )


async def test_preset_without_url_and_nowhere(empty_mirror, tmp_path):
    resolver = AssetResolver(tmp_path / "cache", empty_mirror)
    with pytest.raises(AssetError, match="it has no download address"):
        await resolver.preset_image_path(Preset("x", "X", "Y", None, None))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("page.html", "is not a readable image"),
        ("files/presets/missing.jpg", "the server answered 404"),
    ],
)
async def test_failed_preset_download_leaves_nothing(server, empty_mirror, tmp_path, path, message):
    preset = Preset("bad", "Bad", "Nobody", None, server.url(path))
    with pytest.raises(AssetError, match=message):
        await AssetResolver(tmp_path / "cache", empty_mirror).preset_image_path(preset)
    assert files_in(tmp_path / "cache") == ["presets"]


async def test_custom_preset_is_its_own_path(tmp_path):
    image = tmp_path / "mine.png"
    Image.new("RGB", (8, 8)).save(image)
    preset = PresetCatalog.builtin().with_custom_dir(tmp_path).get("mine")
    resolver = AssetResolver(tmp_path / "cache", tmp_path, allow_download=False)
    assert await resolver.preset_image_path(preset) == image
    image.unlink()
    with pytest.raises(AssetError, match="is missing"):
        await resolver.preset_image_path(preset)


def test_wiki_file_pages_become_direct_image_urls():
    catalog = PresetCatalog.builtin()
    assert direct_image_url(catalog.get("impression-sunrise").url) == (
        "https://commons.wikimedia.org/wiki/Special:FilePath/Monet_-_Impression,_Sunrise.jpg"
    )
    assert direct_image_url(catalog.get("udnie").url).startswith(
        "https://en.wikipedia.org/wiki/Special:FilePath/Francis_Picabia,_1913,_Udnie"
    )
    direct = catalog.get("great-wave").url
    assert direct_image_url(direct) == direct


# --- prefetch -----------------------------------------------------------------------------


async def test_prefetch_from_the_mirror(mirror_dir, tmp_path):
    resolver = AssetResolver(tmp_path / "cache", mirror_dir, allow_download=False)
    (tmp_path / "custom").mkdir()
    (tmp_path / "custom" / "mine.png").write_bytes(b"")  # custom images are not prefetched
    catalog = PresetCatalog.builtin().with_custom_dir(tmp_path / "custom")
    paths = await prefetch(resolver, catalog, transfer="int8")
    assert paths[:2] == [
        mirror_dir / "models" / PREDICTION_INT8.filename,
        mirror_dir / "models" / TRANSFER_INT8.filename,
    ]
    assert paths[2:] == [mirror_dir / "presets" / f"{slug}.jpg" for slug in catalog.names()[:11]]


async def test_prefetch_downloads_what_is_missing(server, mirror_dir, tmp_path):
    resolver = AssetResolver(tmp_path / "cache", mirror_dir)
    catalog = PresetCatalog(
        [Preset("web-only", "W", "Nobody", None, server.url("generated/big.jpg"))]
    )
    paths = await prefetch(resolver, catalog)
    assert paths[1] == mirror_dir / "models" / TRANSFER_FP16.filename
    assert paths[2] == tmp_path / "cache" / "presets" / "web-only.jpg"
    assert paths[2].is_file()


async def test_prefetch_unknown_transfer(mirror_dir, tmp_path):
    resolver = AssetResolver(tmp_path / "cache", mirror_dir, allow_download=False)
    with pytest.raises(AssetError, match="choose fp16 or int8"):
        await prefetch(resolver, PresetCatalog.builtin(), transfer="fp32")


# --- paths --------------------------------------------------------------------------------


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("STYLEBOT_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("STYLEBOT_CACHE_DIR")
    assert default_cache_dir() == tmp_path / "xdg" / "stylebot"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "stylebot"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "stylebot"


def test_mirror_dir_from_env(monkeypatch, tmp_path):
    monkeypatch.delenv("STYLEBOT_MIRROR", raising=False)
    assert mirror_dir_from_env() is None
    monkeypatch.setenv("STYLEBOT_MIRROR", "")
    assert mirror_dir_from_env() is None
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STYLEBOT_MIRROR", "some/mirror")
    assert mirror_dir_from_env() == tmp_path / "some" / "mirror"
    monkeypatch.setenv("STYLEBOT_MIRROR", str(tmp_path / "abs"))
    assert mirror_dir_from_env() == tmp_path / "abs"
