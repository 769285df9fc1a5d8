"""Shared fixtures: the offline mirror (required, never skipped), sample photos, a real engine."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from PIL import Image

from bot.assets import PREDICTION_INT8, TRANSFER_FP16

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    """The offline mirror of model files and presets; the suite fails loudly without it."""
    value = os.environ.get("STYLEBOT_MIRROR", "")
    if not value:
        pytest.fail("STYLEBOT_MIRROR is not set: point it at the mirror (e.g. ../shared).")
    mirror = Path(value).resolve()
    missing = [
        str(mirror / sub) for sub in ("models", "presets") if not (mirror / sub).is_dir()
    ]
    if missing:
        pytest.fail(f"STYLEBOT_MIRROR={value} lacks {', '.join(missing)}.")
    return mirror


@pytest.fixture(scope="session")
def model_paths(mirror_dir: Path) -> tuple[Path, Path]:
    """The mirror's int8 prediction and fp16 transfer model files."""
    paths = (mirror_dir / "models" / PREDICTION_INT8.filename,
             mirror_dir / "models" / TRANSFER_FP16.filename)
    for path in paths:
        if not path.is_file():
            pytest.fail(f"Model file {path} is missing from the mirror.")
    return paths


@pytest.fixture(scope="session")
def lite_engine(model_paths, tmp_path_factory):
    """One real lite engine for the whole session (2 threads, a throwaway vector cache)."""
    from bot.engine.lite import LiteEngine

    engine = LiteEngine(*model_paths, threads=2,
                        vector_dir=tmp_path_factory.mktemp("vectors"), compiled_shapes=8)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def preset_image(mirror_dir: Path):
    """Load a mirror preset painting by slug as an RGB image."""

    def load(slug: str) -> Image.Image:
        path = mirror_dir / "presets" / f"{slug}.jpg"
        if not path.is_file():
            pytest.fail(f"Preset image {path} is missing from the mirror.")
        with Image.open(path) as image:
            return image.convert("RGB")

    return load


@pytest.fixture(scope="session")
def photo():
    """Load a bundled example photo (examples/NAME.jpg), optionally resized."""

    def load(name: str = "chelsea", size: tuple[int, int] | None = None) -> Image.Image:
        with Image.open(EXAMPLES / f"{name}.jpg") as image:
            image = image.convert("RGB")
        return image.resize(size, Image.Resampling.LANCZOS) if size else image

    return load


@pytest.fixture
def cli_env(monkeypatch, mirror_dir, tmp_path_factory):
    """In-process `stylebot` runs: the mirror, one session-wide throwaway cache (compiled
    shapes and style vectors reused; never HOME's), and no config file from the environment."""
    from tests.commands import shared_cache_dir

    cache = shared_cache_dir(tmp_path_factory)
    monkeypatch.setenv("STYLEBOT_MIRROR", str(mirror_dir))
    monkeypatch.setenv("STYLEBOT_CACHE_DIR", str(cache))
    monkeypatch.delenv("STYLEBOT_CONFIG", raising=False)
    return cache


@pytest.fixture
def gated_engine(lite_engine):
    """The session's real engine behind a gate (tests/gated.py) and the gate, a threading.Event
    that the test sets to let jobs paint; always set at teardown so no worker is left waiting."""
    from tests.gated import event_gated

    engine, gate = event_gated(lite_engine)
    yield engine, gate
    gate.set()


@pytest_asyncio.fixture(loop_scope="function")
async def fake() -> AsyncIterator[object]:
    """A loopback fake Discord for `stylebot run` child processes (tests/hardening/processes.py):
    it accepts only their token."""
    from tests.fakediscord import FakeDiscord
    from tests.hardening.processes import TOKEN

    fake = FakeDiscord(token=TOKEN)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
