"""`stylebot download`: offline from the mirror, and a prompt one-line failure without it."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.assets.resolver
from bot.assets import PREDICTION_INT8, TRANSFER_FP16, PresetCatalog
from tests.commands import STYLEBOT, one_error_line, process_env, run_cli, run_process


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


@pytest.fixture(autouse=True)
def cli_env(monkeypatch, mirror_dir, cache):
    monkeypatch.setenv("STYLEBOT_MIRROR", str(mirror_dir))
    monkeypatch.setenv("STYLEBOT_CACHE_DIR", str(cache))
    monkeypatch.delenv("STYLEBOT_CONFIG", raising=False)


@pytest.fixture
def no_downloads(monkeypatch) -> list[str]:
    """Record (and refuse) any download the resolver attempts."""
    attempts: list[str] = []

    async def refuse(session, url, dest, **kwargs):
        attempts.append(url)
        raise AssertionError(f"download attempted: {url}")

    monkeypatch.setattr(bot.assets.resolver, "download_file", refuse)
    return attempts


def test_the_mirror_satisfies_everything_offline(capsys, cache, no_downloads):
    builtin = sum(not preset.is_custom for preset in PresetCatalog.builtin())
    assert builtin == 11
    assert run_cli(["download"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out == (f"{2 + builtin} files ready: 0 in {cache}, "
                   f"{2 + builtin} read in place (mirror or local folders).\n")
    assert no_downloads == []


def test_into_cache_copies_only_what_the_catalog_names_from_the_mirror(capsys, cache, mirror_dir,
                                                                      no_downloads):
    """The Docker build's step: the cache alone then holds everything, and nothing else of the
    mirror (its READMEs, presets.toml, paintings outside the catalog, the int8 transfer net)."""
    assert run_cli(["download", "--into-cache"]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == (f"13 files ready: 13 in {cache} (13 copied from the mirror), "
                          "0 read in place (mirror or local folders).\n", "")
    expected = {f"models/{PREDICTION_INT8.filename}", f"models/{TRANSFER_FP16.filename}"} | {
        f"presets/{preset.slug}.jpg" for preset in PresetCatalog.builtin()}
    copied = {str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file()}
    assert copied == expected
    assert all((cache / name).read_bytes() == (mirror_dir / name).read_bytes()
               for name in expected)
    assert {p.name for p in mirror_dir.rglob("*") if p.is_file()} - {
        name.split("/")[1] for name in expected}  # the mirror had more, which stayed out
    assert no_downloads == []
    # a second run finds everything in the cache
    assert run_cli(["download", "--into-cache"]) == 0
    assert capsys.readouterr().out.startswith(f"13 files ready: 13 in {cache} (0 copied ")


def test_custom_presets_are_not_counted(capsys, tmp_path, cache, photo, no_downloads):
    folder = tmp_path / "mine"
    folder.mkdir()
    photo("astronaut", (32, 32)).save(folder / "rocket.jpg")
    config = tmp_path / "stylebot.toml"
    config.write_text('[paths]\npresets_dir = "mine"\n')
    assert run_cli(["--config", config, "download"]) == 0
    assert capsys.readouterr().out.startswith(f"13 files ready: 0 in {cache}, ")
    assert no_downloads == []


def test_without_mirror_or_network_download_fails_with_one_line(tmp_path, cache):
    empty_mirror = tmp_path / "empty-mirror"
    empty_mirror.mkdir()
    (tmp_path / "home").mkdir()
    env = process_env(tmp_path / "home", cache, empty_mirror)
    result = run_process([STYLEBOT, "download"], env, timeout=40)  # no hang: one attempt fails
    assert result.returncode == 1
    assert result.stdout == ""
    message = one_error_line(result.stderr)
    assert message.startswith(
        "Downloading magenta_arbitrary-image-stylization-v1-256_int8_prediction_1.tflite failed: "
    )
    assert [p for p in cache.rglob("*") if p.is_file()] == []  # no partial files left
