"""Fixtures for end-to-end bot tests: the real bot and engine against the loopback Discord."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.app import create_bot
from bot.config import Settings
from tests.fakediscord.fixtures import fake_discord  # noqa: F401  (re-exported fixture)


@pytest.fixture
def settings(tmp_path: Path, mirror_dir: Path) -> Settings:
    """Test settings: tmp data and cache dirs, the mirror, no cooldown, small outputs, and every
    queue move shown at once (position_interval 0) so tests can check each status edit."""
    base = Settings()
    return dataclasses.replace(
        base,
        paths=dataclasses.replace(base.paths, data_dir=tmp_path / "data",
                                  cache_dir=tmp_path / "cache", mirror=mirror_dir),
        jobs=dataclasses.replace(base.jobs, cooldown=0.0, grace_period=10.0,
                                 position_interval=0.0),
        limits=dataclasses.replace(base.limits, default_output_side=512),
    )


@pytest.fixture
def make_bot(lite_engine):
    """Build the real bot around the session's engine; pass Settings changes as sections."""

    def build(settings: Settings, **sections):
        for name, changes in sections.items():
            settings = dataclasses.replace(
                settings, **{name: dataclasses.replace(getattr(settings, name), **changes)}
            )
        bot = create_bot(settings, engine=lite_engine, allow_loopback_cdn=True,
                         guild_ready_timeout=0.05)

        async def no_identify_wait(shard_id, *, initial=False):  # discord.py waits 5 s
            return None

        bot.before_identify_hook = no_identify_wait
        return bot

    return build


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    """Encode an image as JPEG bytes, as a user's upload would be."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def decoded(data: bytes) -> Image.Image:
    """Open uploaded bytes as an RGB image (fails the test if they are not an image)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.convert("RGB")


def diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel (0..255) of two same-sized images."""
    assert a.size == b.size, (a.size, b.size)
    return float(np.abs(np.asarray(a, float) - np.asarray(b, float)).mean())


def chroma_diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of the colour (Cb, Cr) planes only."""
    assert a.size == b.size, (a.size, b.size)
    planes = [np.asarray(image.convert("YCbCr"), float)[..., 1:] for image in (a, b)]
    return float(np.abs(planes[0] - planes[1]).mean())
