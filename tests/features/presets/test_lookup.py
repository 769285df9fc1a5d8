"""library.PresetLibrary with a real Store, the real catalog and the mirror-backed resolver."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image

from bot.assets import AssetResolver, PresetCatalog
from bot.errors import UnknownPreset
from bot.features.presets.lookup import PresetLibrary
from bot.imaging import ImageLimits
from bot.store import Store

GUILD, OTHER_GUILD = 111111111111111111, 222222222222222222
LIMITS = ImageLimits()


def png(colour: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


MURAL, SKETCH = png((200, 40, 40)), png((40, 40, 200))


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "data" / "stylebot.sqlite3") as opened:
        yield opened


@pytest.fixture
def resolver(tmp_path: Path, mirror_dir: Path) -> AssetResolver:
    return AssetResolver(cache_dir=tmp_path / "cache", mirror_dir=mirror_dir,
                         allow_download=False)


@pytest.fixture
def library(store, resolver) -> PresetLibrary:
    return PresetLibrary(PresetCatalog.builtin(), resolver, store, LIMITS)


async def test_names_without_a_guild_are_the_catalog(library):
    assert await library.names(None) == PresetCatalog.builtin().names()
    assert await library.names(GUILD) == PresetCatalog.builtin().names()


async def test_custom_names_come_first_and_only_in_their_guild(library, store):
    store.add_preset(GUILD, "zz-sketch", SKETCH, 1)
    store.add_preset(GUILD, "my-mural", MURAL, 1)
    builtin = PresetCatalog.builtin().names()
    assert await library.names(GUILD) == ["my-mural", "zz-sketch", *builtin]
    assert await library.names(OTHER_GUILD) == builtin
    assert await library.names(None) == builtin


async def test_a_custom_preset_shadows_a_catalog_name_without_duplicates(library, store):
    store.add_preset(GUILD, "udnie", MURAL, 1)  # the store itself allows it; the cog refuses
    names = await library.names(GUILD)
    assert names[0] == "udnie" and names.count("udnie") == 1
    assert await library.image(GUILD, "udnie") == ("udnie", MURAL)
    other_name, other_bytes = await library.image(OTHER_GUILD, "udnie")
    assert other_name == "udnie" and other_bytes != MURAL


async def test_builtin_image_is_the_mirror_painting(library, mirror_dir):
    name, data = await library.image(GUILD, "  Starry-Night ")
    assert name == "starry-night"
    assert data == (mirror_dir / "presets" / "starry-night.jpg").read_bytes()
    assert await library.image(None, "starry_night") == (name, data)


async def test_custom_image_is_the_stored_bytes(library, store):
    store.add_preset(GUILD, "my-mural", MURAL, 1)
    assert await library.image(GUILD, "my-mural") == ("my-mural", MURAL)
    assert await library.image(GUILD, " My_Mural ") == ("my-mural", MURAL)  # canonical name


async def test_custom_images_stay_in_their_guild(library, store):
    store.add_preset(GUILD, "my-mural", MURAL, 1)
    for guild_id in (OTHER_GUILD, None):
        with pytest.raises(UnknownPreset) as caught:
            await library.image(guild_id, "my-mural")
        assert "my-mural" not in caught.value.suggestions  # no hint at another server's names


async def test_unknown_preset_suggests_a_close_custom_name(library, store):
    store.add_preset(GUILD, "my-mural", MURAL, 1)
    with pytest.raises(UnknownPreset) as caught:
        await library.image(GUILD, "my-murl")
    assert caught.value.name == "my-murl"
    assert caught.value.suggestions[0] == "my-mural"
    assert "my-mural" in caught.value.message
    assert caught.value.message.startswith("There is no preset called “my-murl”.")


async def test_suggestions_mix_custom_and_catalog_names_and_stay_short(library, store):
    store.add_preset(GUILD, "starry-nights", MURAL, 1)
    with pytest.raises(UnknownPreset) as caught:
        await library.image(GUILD, "starry-nite")
    assert caught.value.suggestions[:2] == ["starry-nights", "starry-night"]
    assert len(caught.value.suggestions) <= 3


async def test_unknown_without_any_close_name_has_no_hint(library):
    with pytest.raises(UnknownPreset) as caught:
        await library.image(GUILD, "qqqqqqqq")
    assert caught.value.suggestions == []
    assert caught.value.message == "There is no preset called “qqqqqqqq”."


async def test_custom_folder_presets_are_read_from_disk(store, resolver, tmp_path):
    folder = tmp_path / "presets"
    folder.mkdir()
    (folder / "Harbour.png").write_bytes(SKETCH)
    catalog = PresetCatalog.builtin().with_custom_dir(folder)
    library = PresetLibrary(catalog, resolver, store, LIMITS)
    assert (await library.names(GUILD))[-1] == "harbour"
    assert await library.image(GUILD, "HARBOUR") == ("harbour", SKETCH)


async def test_warm_up_keeps_the_bytes_of_every_catalog_preset(
        store, resolver, tmp_path, lite_engine):
    folder = tmp_path / "presets"
    folder.mkdir()
    shutil.copyfile(resolver.mirror_dir / "presets" / "udnie.jpg", folder / "dancer.jpg")
    catalog = PresetCatalog.builtin().with_custom_dir(folder)
    library = PresetLibrary(catalog, resolver, store, LIMITS)
    await library.warm_up(lite_engine, None)
    expected = (folder / "dancer.jpg").read_bytes()
    (folder / "dancer.jpg").unlink()  # served from memory from now on
    assert await library.image(GUILD, "dancer") == ("dancer", expected)
