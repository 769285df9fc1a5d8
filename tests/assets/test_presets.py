"""The built-in preset catalog, custom presets and name lookup."""

import dataclasses
import hashlib
import tomllib
from pathlib import Path

import pytest

from bot.assets.presets import Preset, PresetCatalog
from bot.errors import AssetError, UnknownPreset

BUILTIN = [
    "starry-night",
    "great-wave",
    "the-scream",
    "composition-vii",
    "udnie",
    "nantes",
    "impression-sunrise",
    "the-kiss",
    "portrait-of-metzinger",
    "moulin-de-la-galette",
    "landscape-black-figure",
]


@pytest.fixture(scope="module")
def catalog() -> PresetCatalog:
    return PresetCatalog.builtin()


def test_eleven_builtins(catalog):
    assert len(catalog) == 11
    assert catalog.names() == BUILTIN
    assert [p.slug for p in catalog] == BUILTIN
    for preset in catalog:
        assert isinstance(preset, Preset)
        assert not preset.is_custom
        assert preset.url and preset.url.startswith("https://")
        assert isinstance(preset.year, int)
        assert preset.title and preset.artist


def test_every_builtin_has_a_matching_mirror_image(catalog, mirror_dir):
    for preset in catalog:
        path = mirror_dir / "presets" / f"{preset.slug}.jpg"
        assert path.is_file(), f"{path} is missing from the mirror"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == preset.mirror_sha256, preset.slug


def test_catalog_agrees_with_mirror_presets_toml(catalog, mirror_dir):
    with (mirror_dir / "presets" / "presets.toml").open("rb") as f:
        source = [p for p in tomllib.load(f)["preset"] if "url" in p]
    assert [p["slug"] for p in source] == catalog.names()
    for entry in source:
        preset = catalog.get(entry["slug"])
        assert (preset.title, preset.artist, preset.year, preset.url, preset.mirror_sha256) == (
            entry["title"],
            entry["artist"],
            entry["year"],
            entry["url"],
            entry["sha256"],
        )


def test_get_is_case_insensitive_and_strips(catalog):
    assert catalog.get("  STARRY-Night \n").slug == "starry-night"
    assert catalog.get("Starry Night").slug == "starry-night"
    assert catalog.get("the_kiss").slug == "the-kiss"
    assert "GREAT-WAVE" in catalog
    assert "great wave" in catalog
    assert "nope" not in catalog
    assert 42 not in catalog


def test_unknown_preset_suggests_close_names(catalog):
    with pytest.raises(UnknownPreset) as info:
        catalog.get("starry-nite")
    assert info.value.suggestions[0] == "starry-night"
    assert info.value.name == "starry-nite"
    assert "Did you mean starry-night" in str(info.value)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("starry", "starry-night"),
        ("scream", "the-scream"),
        ("wave", "great-wave"),
        ("Monet", "impression-sunrise"),
        ("moulin", "moulin-de-la-galette"),
    ],
)
def test_unknown_preset_matches_prefixes_and_substrings(catalog, typed, expected):
    with pytest.raises(UnknownPreset) as info:
        catalog.get(typed)
    assert info.value.suggestions[0] == expected
    assert len(info.value.suggestions) <= 3


def test_unknown_preset_without_suggestions(catalog):
    with pytest.raises(UnknownPreset) as info:
        catalog.get("qqqqqq")
    assert info.value.suggestions == []
    assert str(info.value) == "There is no preset called “qqqqqq”."
    with pytest.raises(UnknownPreset):
        catalog.get("   ")


def test_suggestions_are_capped_at_three(catalog):
    with pytest.raises(UnknownPreset) as info:
        catalog.get("e")
    assert len(info.value.suggestions) == 3


def write_image(path: Path) -> Path:
    path.write_bytes(b"not really an image; the catalog only looks at names")
    return path


def test_custom_dir_adds_and_overrides(catalog, tmp_path):
    write_image(tmp_path / "My-Cat.PNG")
    write_image(tmp_path / "sunset.webp")
    write_image(tmp_path / "old.jpeg")
    write_image(tmp_path / "Starry-Night.jpg")
    write_image(tmp_path / "notes.txt")
    (tmp_path / "folder.jpg").mkdir()

    merged = catalog.with_custom_dir(tmp_path)

    assert len(merged) == 14
    assert set(merged.names()) == set(BUILTIN) | {"my-cat", "sunset", "old"}
    cat = merged.get("MY-CAT")
    assert cat.is_custom and cat.custom_path == tmp_path / "My-Cat.PNG"
    assert cat.url is None and cat.year is None
    override = merged.get("starry-night")
    assert override.is_custom and override.custom_path == tmp_path / "Starry-Night.jpg"
    # The original catalog is untouched.
    assert len(catalog) == 11 and not catalog.get("starry-night").is_custom


def test_custom_dir_none_and_missing(catalog, tmp_path):
    assert list(catalog.with_custom_dir(None)) == list(catalog)
    with pytest.raises(AssetError, match="does not exist"):
        catalog.with_custom_dir(tmp_path / "missing")


def test_preset_is_frozen(catalog):
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalog.get("udnie").slug = "x"  # type: ignore[misc]
