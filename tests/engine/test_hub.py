"""The hub engine, run through tensorflow_hub.load on small SavedModels built here."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.engine.base import WeightedStyle
from bot.engine.hub import DEFAULT_HUB_HANDLE, STYLE_SIDE, HubEngine
from bot.errors import EngineError

ROOT = Path(__file__).resolve().parents[2]
IMAGE_SPEC = ([1, None, None, 3], "float32")


def _save(tf, directory: Path, fn) -> str:
    """Save `fn(content, style) -> [image]` as a SavedModel with the hub model's signature."""
    spec = tf.TensorSpec(*IMAGE_SPEC)
    module = tf.Module()
    module.__call__ = tf.function(fn, input_signature=[spec, spec])
    tf.saved_model.save(module, str(directory))
    return str(directory)


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory) -> dict[str, str]:
    """Build the test SavedModels once; each has the real model's `(content, style)` call."""
    import tensorflow as tf

    root = tmp_path_factory.mktemp("hub_models")

    def mix(content, style):
        # Half the content, half the style's mean colour.
        mean = tf.reduce_mean(style, axis=[1, 2], keepdims=True)
        return [tf.clip_by_value(content * 0.5 + mean * 0.5, 0.0, 1.0)]

    def echo(content, style):
        # The style exactly as the engine passed it.
        return [style]

    def probe(content, style):
        # White where the style is 256 high (red), 256 wide (green); blue always on.
        shape = tf.shape(style)
        flags = tf.stack(
            [
                tf.cast(shape[1] == STYLE_SIDE, tf.float32),
                tf.cast(shape[2] == STYLE_SIDE, tf.float32),
                tf.constant(1.0),
            ]
        )
        return [tf.ones_like(content) * flags]

    def overshoot(content, style):
        # Like the real transfer net: sides rounded up to a multiple of 4, extra rows and
        # columns at the bottom and right (filled with white here).
        shape = tf.shape(content)
        pad_h = (4 - shape[1] % 4) % 4
        pad_w = (4 - shape[2] % 4) % 4
        return [tf.pad(content, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], constant_values=1.0)]

    return {
        name: _save(tf, root / name, fn)
        for name, fn in {"mix": mix, "echo": echo, "probe": probe, "overshoot": overshoot}.items()
    }


@pytest.fixture(scope="module")
def engine(model_dirs) -> HubEngine:
    return HubEngine(model_dirs["mix"], threads=2)


def _noise(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def _solid(colour: tuple[int, int, int], size: tuple[int, int] = (300, 200)) -> Image.Image:
    return Image.new("RGB", size, colour)


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float64)


def _avg_pool_same(pixels: np.ndarray) -> np.ndarray:
    """3x3 mean over the valid neighbours of each pixel (TensorFlow's SAME average pool)."""
    height, width = pixels.shape[:2]
    padded = np.pad(pixels, ((1, 1), (1, 1), (0, 0)))
    counts = np.pad(np.ones((height, width, 1)), ((1, 1), (1, 1), (0, 0)))
    total = np.zeros_like(pixels)
    count = np.zeros((height, width, 1))
    for dy in range(3):
        for dx in range(3):
            total += padded[dy : dy + height, dx : dx + width]
            count += counts[dy : dy + height, dx : dx + width]
    return total / count


def test_default_handle_and_identity() -> None:
    assert DEFAULT_HUB_HANDLE == (
        "https://tfhub.dev/google/magenta/arbitrary-image-stylization-v1-256/2"
    )
    assert HubEngine.name == "hub"


@pytest.mark.parametrize("size", [(333, 517), (517, 333), (7, 3), (256, 256)])
def test_output_has_the_content_size(engine: HubEngine, size: tuple[int, int]) -> None:
    out = engine.stylize(_noise(*size), [WeightedStyle(_noise(640, 480, seed=1))])
    assert out.size == size
    assert out.mode == "RGB"


def test_the_style_steers_the_colours(engine: HubEngine) -> None:
    content = _solid((128, 128, 128), (333, 517))
    red = _pixels(engine.stylize(content, [WeightedStyle(_solid((255, 0, 0)))]))
    blue = _pixels(engine.stylize(content, [WeightedStyle(_solid((0, 0, 255)))]))
    red_mean, blue_mean = red.mean(axis=(0, 1)), blue.mean(axis=(0, 1))
    # Half grey content (64) plus half the style colour (0 or 127.5).
    np.testing.assert_allclose(red_mean, [191.5, 64, 64], atol=1.0)
    np.testing.assert_allclose(blue_mean, [64, 64, 191.5], atol=1.0)
    assert red_mean[0] > blue_mean[0] + 100
    assert blue_mean[2] > red_mean[2] + 100


def test_describe_names_the_model_and_tensorflow(engine: HubEngine, model_dirs) -> None:
    line = engine.describe()
    assert line.startswith(f"hub engine ({model_dirs['mix']}): TensorFlow ")
    assert "\n" not in line


def test_strength_zero_is_the_photo_and_the_distance_grows(engine: HubEngine) -> None:
    content = _noise(333, 517, seed=6)
    style = [WeightedStyle(_solid((255, 0, 0)))]
    original = _pixels(content)
    paintings = [_pixels(engine.stylize(content, style, s)) for s in (0, 0.25, 0.5, 0.75, 1)]
    assert np.array_equal(paintings[0], original)
    distances = [np.abs(p - original).mean() for p in paintings]
    assert all(np.diff(distances) > 5), distances


def test_strength_blends_the_result_with_the_content(engine: HubEngine) -> None:
    content = _noise(333, 517, seed=2)
    style = [WeightedStyle(_solid((255, 0, 0)))]
    original = _pixels(content)
    full = _pixels(engine.stylize(content, style, strength=1.0))
    none = _pixels(engine.stylize(content, style, strength=0.0))
    half = _pixels(engine.stylize(content, style, strength=0.5))

    assert np.abs(none - original).max() <= 1
    assert np.abs(full - original).mean() > 30
    low, high = np.minimum(original, full), np.maximum(original, full)
    assert np.all(half >= low - 1) and np.all(half <= high + 1)
    assert np.abs(half - (original + full) / 2).max() <= 1.5


@pytest.mark.parametrize("strength", [-0.1, 1.01, math.nan])
def test_strength_outside_zero_to_one_is_refused(engine: HubEngine, strength: float) -> None:
    with pytest.raises(EngineError, match="Strength"):
        engine.stylize(_noise(32, 32), [WeightedStyle(_noise(32, 32))], strength=strength)


def test_several_styles_are_refused(engine: HubEngine) -> None:
    styles = [WeightedStyle(_solid((255, 0, 0))), WeightedStyle(_solid((0, 0, 255)))]
    with pytest.raises(EngineError) as caught:
        engine.stylize(_noise(32, 32), styles)
    assert str(caught.value) == (
        "The hub engine cannot blend several styles; use the lite engine for blends."
    )


def test_no_style_is_refused(engine: HubEngine) -> None:
    with pytest.raises(EngineError):
        engine.stylize(_noise(32, 32), [])


def test_a_style_loader_is_called(engine: HubEngine) -> None:
    calls = []

    def load() -> Image.Image:
        calls.append(1)
        return _solid((0, 0, 255))

    out = engine.stylize(_solid((128, 128, 128), (40, 30)), [WeightedStyle(load, key="blue")])
    assert calls == [1]
    assert _pixels(out).mean(axis=(0, 1))[2] > 180


@pytest.mark.parametrize("style_size", [(1000, 700), (90, 40), (256, 256), (257, 255)])
def test_the_model_gets_a_256_square_style(model_dirs, style_size: tuple[int, int]) -> None:
    probe = HubEngine(model_dirs["probe"])
    out = _pixels(probe.stylize(_noise(50, 30), [WeightedStyle(_noise(*style_size))]))
    assert np.all(out == 255), "the style reached the model at another size than 256x256"


def test_the_style_is_centre_cropped_and_average_pooled(model_dirs) -> None:
    echo = HubEngine(model_dirs["echo"])
    # A 256-wide, 400-high noise style: the centre square is already 256x256, so the
    # resize is exact and the model must see that square after a 3x3 SAME average pool.
    style = _noise(256, 400, seed=3)
    content = _noise(STYLE_SIDE, STYLE_SIDE, seed=4)
    seen = _pixels(echo.stylize(content, [WeightedStyle(style)]))

    top = (400 - 256) // 2
    square = _pixels(style)[top : top + 256]
    expected = _avg_pool_same(square / 255.0) * 255.0
    assert np.abs(seen - expected).max() <= 1.0
    assert np.abs(seen - square).mean() > 20  # the pooling made a real difference


def test_a_smaller_model_output_is_resized_to_the_content(model_dirs) -> None:
    echo = HubEngine(model_dirs["echo"])  # returns 256x256 whatever the content
    out = echo.stylize(_noise(333, 517), [WeightedStyle(_solid((0, 200, 0)))])
    assert out.size == (333, 517)
    np.testing.assert_allclose(_pixels(out).mean(axis=(0, 1)), [0, 200, 0], atol=1.0)


def test_an_overshooting_output_is_cropped_at_the_bottom_right(model_dirs) -> None:
    overshoot = HubEngine(model_dirs["overshoot"])
    content = _noise(333, 517, seed=5)
    out = overshoot.stylize(content, [WeightedStyle(_noise(64, 64))])
    assert out.size == (333, 517)
    assert np.abs(_pixels(out) - _pixels(content)).max() <= 1


def test_warm_up_and_close(model_dirs) -> None:
    engine = HubEngine(model_dirs["mix"])
    engine.warm_up([WeightedStyle(_solid((255, 0, 0)))])
    engine.close()
    with pytest.raises(EngineError, match="closed"):
        engine.stylize(_noise(16, 16), [WeightedStyle(_noise(16, 16))])


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_a_bad_handle_is_one_sentence(tmp_path: Path, kind: str) -> None:
    handle = tmp_path / "nowhere" if kind == "missing" else tmp_path
    with pytest.raises(EngineError) as caught:
        HubEngine(str(handle))
    message = str(caught.value)
    assert message.startswith(f"Could not load the TF Hub model from {handle}: ")
    assert message.endswith(".") and not message.endswith("..")
    assert "\n" not in message
    assert len(message) < 300


def test_importing_the_engines_does_not_import_tensorflow() -> None:
    # Only constructing a HubEngine may import TensorFlow (checked in a fresh interpreter;
    # that construction imports it is evident from every other test here).
    code = textwrap.dedent(
        """
        import sys

        import bot.engine
        import bot.engine.hub
        from bot.engine.hub import HubEngine

        heavy = [m for m in ("tensorflow", "tensorflow_hub", "tf_keras") if m in sys.modules]
        assert not heavy, f"imported without constructing a HubEngine: {heavy}"
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
