"""`stylebot presets`: the built-in paintings, plus a custom folder named in a config file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from tests.commands import one_error_line, run_cli, shared_cache_dir

BUILTIN = {
    "starry-night": ("The Starry Night", "Vincent van Gogh", 1889),
    "great-wave": ("The Great Wave off Kanagawa", "Katsushika Hokusai", 1831),
    "the-scream": ("The Scream", "Edvard Munch", 1893),
    "composition-vii": ("Composition VII", "Wassily Kandinsky", 1913),
    "udnie": ("Udnie (Young American Girl, The Dance)", "Francis Picabia", 1913),
    "nantes": ("Nantes from the Ile Feydeau", "J. M. W. Turner", 1829),
    "impression-sunrise": ("Impression, Sunrise", "Claude Monet", 1872),
    "the-kiss": ("The Kiss", "Gustav Klimt", 1908),
    "portrait-of-metzinger": ("Portrait of Jean Metzinger", "Robert Delaunay", 1906),
    "moulin-de-la-galette": ("Bal du moulin de la Galette", "Pierre-Auguste Renoir", 1876),
    "landscape-black-figure": ("Landscape with Black Figure", "Amadeo de Souza-Cardoso", 1915),
}
BUILTIN_LINE = re.compile(r"^(\S+) +(.+) - (.+) \((\d{4})\)$")


@pytest.fixture(autouse=True)
def cli_env(monkeypatch, tmp_path_factory, mirror_dir):
    monkeypatch.setenv("STYLEBOT_MIRROR", str(mirror_dir))
    monkeypatch.setenv("STYLEBOT_CACHE_DIR", str(shared_cache_dir(tmp_path_factory)))
    monkeypatch.delenv("STYLEBOT_CONFIG", raising=False)


@pytest.fixture
def custom_config(tmp_path, photo) -> Path:
    """A config file whose [paths] presets_dir (relative to it) holds two images and a note."""
    folder = tmp_path / "my-presets"
    folder.mkdir()
    photo("coffee", (64, 48)).save(folder / "Morning_Coffee.jpg")
    photo("astronaut", (48, 64)).save(folder / "rocket.png")
    (folder / "notes.txt").write_text("not an image, not a preset\n")
    config = tmp_path / "stylebot.toml"
    config.write_text('[paths]\npresets_dir = "my-presets"\n')
    return config


def listed(capsys, *argv) -> list[str]:
    assert run_cli([*argv, "presets"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out.splitlines()


def test_lists_the_eleven_builtin_presets_with_title_artist_and_year(capsys):
    lines = listed(capsys)
    assert len(lines) == 11
    parsed = {}
    for line in lines:
        match = BUILTIN_LINE.match(line)
        assert match, f"unexpected line {line!r}"
        slug, title, artist, year = match.groups()
        parsed[slug] = (title, artist, int(year))
    assert parsed == BUILTIN
    assert [line.split()[0] for line in lines] == list(BUILTIN)  # catalog order
    starts = {line.index(BUILTIN[slug][0]) for line, slug in zip(lines, BUILTIN, strict=True)}
    assert len(starts) == 1  # titles line up in one column


def test_a_custom_presets_folder_from_the_config_adds_names(capsys, custom_config):
    lines = listed(capsys, "--config", custom_config)
    assert len(lines) == 13
    assert [line.split()[0] for line in lines[:11]] == list(BUILTIN)  # built-ins first
    custom = {line.split()[0]: line for line in lines[11:]}
    assert set(custom) == {"morning-coffee", "rocket"}
    folder = custom_config.parent / "my-presets"
    assert str(folder / "Morning_Coffee.jpg") in custom["morning-coffee"]
    assert str(folder / "rocket.png") in custom["rocket"]


def test_a_custom_preset_paints_by_name(capsys, custom_config, tmp_path, photo):
    content = tmp_path / "photo.jpg"
    photo("chelsea", (180, 120)).save(content)
    output = tmp_path / "out.png"
    code = run_cli(["--config", custom_config, "stylize", content, "-s", "Morning Coffee",
                    "-o", output])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith(f"Wrote {output} (180x120)")
    with Image.open(output) as image:
        assert image.size == (180, 120)


def test_a_missing_custom_presets_folder_fails_with_one_line(capsys, tmp_path):
    config = tmp_path / "stylebot.toml"
    config.write_text('[paths]\npresets_dir = "gone"\n')
    assert run_cli(["--config", config, "presets"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert one_error_line(err) == f"The custom preset folder {tmp_path / 'gone'} does not exist."


def test_a_bad_config_file_fails_with_one_line(capsys, tmp_path):
    config = tmp_path / "stylebot.toml"
    config.write_text("[paths]\npreset_dir = 'typo'\n")
    assert run_cli(["--config", config, "presets"]) == 1
    message = one_error_line(capsys.readouterr().err)
    assert message.startswith("Unknown setting paths.preset_dir")
    assert "did you mean paths.presets_dir?" in message


def test_custom_preset_paths_are_shown_normalised(capsys, custom_config, tmp_path):
    """Issue 9, papercut 9: a config reached through '..' listed '.../main/../cfg/...'."""
    (tmp_path / "main").mkdir()
    lines = listed(capsys, "--config", tmp_path / "main" / ".." / custom_config.name)
    custom = {line.split()[0]: line for line in lines[11:]}
    assert custom["rocket"].endswith(f" - {tmp_path / 'my-presets' / 'rocket.png'}")
    assert all("/../" not in line for line in lines)
