"""The lite engine on the real Magenta weights: sizes, determinism, styles, strength, blends."""

import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import openvino as ov
import pytest

from bot.engine import WeightedStyle
from bot.engine.openvino_net import (
    BOTTLENECK,
    CONTENT_INPUT,
    FRAMES_PER_STREAM,
    TransferNetwork,
)
from bot.errors import EngineError
from bot.imaging import to_float_array
from bot.machine import usable_cores
from tests.engine.stats import distance, mean_abs_diff


@pytest.fixture(scope="module")
def styles(preset_image):
    return {
        slug: WeightedStyle(preset_image(slug), key=f"test:{slug}")
        for slug in ("starry-night", "great-wave", "the-scream")
    }


@pytest.mark.parametrize("size", [(333, 517), (1024, 768), (2048, 97), (1, 5), (64, 64)])
def test_output_has_the_content_size(lite_engine, styles, photo, size):
    content = photo("coffee", size)
    out = lite_engine.stylize(content, [styles["starry-night"]])
    assert out.size == size
    assert out.mode == "RGB"


def test_output_values_are_sane_and_deterministic(lite_engine, styles, photo):
    content = photo("chelsea")
    first = np.asarray(lite_engine.stylize(content, [styles["great-wave"]]))
    second = np.asarray(lite_engine.stylize(content, [styles["great-wave"]]))
    assert np.array_equal(first, second)
    assert 20 < first.mean() < 235
    assert first.std() > 20  # a picture, not a flat colour


def test_different_styles_give_clearly_different_paintings(lite_engine, styles, photo):
    content = photo("chelsea")
    starry = lite_engine.stylize(content, [styles["starry-night"]])
    wave = lite_engine.stylize(content, [styles["great-wave"]])
    assert mean_abs_diff(starry, wave) > 0.08
    assert distance(starry, wave) > 0.15


STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)


@pytest.mark.parametrize("slug", ["starry-night", "great-wave", "the-scream"])
def test_strength_goes_from_the_photo_to_the_full_style(lite_engine, styles, photo, slug):
    content = photo("chelsea", (320, 213))
    paintings = [lite_engine.stylize(content, [styles[slug]], s) for s in STRENGTHS]
    assert np.array_equal(np.asarray(paintings[0]), np.asarray(content))  # 0 is the photo
    assert np.array_equal(np.asarray(paintings[-1]),
                          np.asarray(lite_engine.stylize(content, [styles[slug]])))
    distances = [mean_abs_diff(p, content) for p in paintings]
    assert all(np.diff(distances) > 0), distances
    assert distances[-1] > 0.1
    # Smooth: no step takes more than half of the whole way.
    assert max(np.diff(distances)) < 0.5 * distances[-1], distances


def test_a_two_style_blend_lies_between_its_parts(lite_engine, styles, photo):
    content = photo("chelsea")
    starry, scream = styles["starry-night"], styles["the-scream"]
    a = lite_engine.stylize(content, [starry])
    b = lite_engine.stylize(content, [scream])
    blend = lite_engine.stylize(content, [starry, scream])
    apart = distance(a, b)
    assert distance(blend, a) < apart and distance(blend, b) < apart
    # weights pull the blend towards the heavier style
    heavy_a = lite_engine.stylize(content, [replace(starry, weight=4.0), scream])
    assert distance(heavy_a, a) < distance(blend, a)


def test_patched_network_is_the_official_network(lite_engine, styles, model_paths, photo):
    """At 384x384 the resized, rewritten model equals the untouched file (both f32); at
    768x1024 it paints alike."""
    vector = lite_engine.style_vector(styles["starry-night"])
    content = to_float_array(photo("astronaut", (1024, 768)))
    crop = np.ascontiguousarray(content[:384, :384])

    core = ov.Core()
    f32 = {"INFERENCE_PRECISION_HINT": "f32"}
    official = core.compile_model(core.read_model(str(model_paths[1])), "CPU", f32)
    request = official.create_infer_request()
    request.infer({CONTENT_INPUT: crop[None], BOTTLENECK: vector.reshape(1, 1, 1, -1)})
    native = request.get_output_tensor(0).data[0].copy()

    patched = TransferNetwork(core, model_paths[1], 2, precision="f32")
    assert np.abs(patched(crop, vector) - native).max() < 1e-4

    large = patched(content, vector)
    assert large.shape == (768, 1024, 3)
    # Same network: on the shared region (borders excluded) the paintings correlate strongly.
    a, b = large[32:352, 32:352].ravel(), native[32:352, 32:352].ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.8
    assert np.abs(a.mean() - b.mean()) < 0.05


def test_style_vectors_are_cached_on_disk(model_paths, preset_image, tmp_path):
    from bot.engine.lite import LiteEngine

    style = WeightedStyle(lambda: preset_image("udnie"), key="preset:udnie")
    first = LiteEngine(*model_paths, threads=1, vector_dir=tmp_path).style_vector(style)
    assert len(list(tmp_path.glob("*.npy"))) == 1

    def never_loaded():
        raise AssertionError("a cached style must not be decoded again")

    second = LiteEngine(*model_paths, threads=1, vector_dir=tmp_path).style_vector(
        WeightedStyle(never_loaded, key="preset:udnie")
    )
    assert np.array_equal(first, second)


@pytest.mark.parametrize("strength", [-0.1, 1.5, float("nan")])
def test_strength_outside_zero_to_one_is_refused(lite_engine, styles, photo, strength):
    with pytest.raises(EngineError, match="Strength must be between 0 and 1"):
        lite_engine.stylize(photo("chelsea", (64, 64)), [styles["great-wave"]], strength)


def test_bad_weights_and_no_styles_are_refused(lite_engine, styles, photo):
    content = photo("chelsea", (64, 64))
    with pytest.raises(EngineError, match="At least one style"):
        lite_engine.stylize(content, [])
    bad = WeightedStyle(styles["great-wave"].image, weight=0.0)
    with pytest.raises(EngineError, match="positive"):
        lite_engine.stylize(content, [bad])


def test_compiled_shapes_are_bucketed_and_reused(lite_engine, styles, photo):
    before = lite_engine.compilations
    for size in [(300, 200), (310, 210), (320, 250)]:  # all pad to 320x256
        lite_engine.stylize(photo("coffee", size), [styles["great-wave"]])
    assert lite_engine.compilations - before <= 1


def frames_of(photo, count: int = 5, size=(200, 150)):
    """`count` different frames of one size: the photo seen through a sliding window."""
    wide = photo("coffee", (size[0] + 8 * count, size[1]))
    return [wide.crop((8 * i, 0, 8 * i + size[0], size[1])) for i in range(count)]


@pytest.mark.parametrize("strength", [1.0, 0.6, 0.0])
def test_frames_painted_together_are_the_frames_painted_one_at_a_time(
    lite_engine, styles, photo, strength
):
    frames = frames_of(photo)
    vector = lite_engine.job_vector([styles["great-wave"]], strength, frames[0])
    together = list(lite_engine.stylize_frames(iter(frames), vector, strength))
    assert len(together) == len(frames)
    for frame, painted in zip(frames, together, strict=True):
        alone = lite_engine.stylize_with_vector(frame, vector, strength)
        assert painted.size == frame.size
        assert np.array_equal(np.asarray(painted), np.asarray(alone))
    if strength == 0.0:
        assert np.array_equal(np.asarray(together[2]), np.asarray(frames[2]))


def test_the_engine_takes_frames_ahead_and_gives_them_back_in_order(lite_engine, styles, photo):
    frames, events = frames_of(photo, 6), []

    def taken():
        for index, frame in enumerate(frames):
            events.append(("take", index))
            yield frame

    vector = lite_engine.job_vector([styles["starry-night"]])
    for index, painted in enumerate(lite_engine.stylize_frames(taken(), vector)):
        events.append(("give", index))
        assert np.array_equal(np.asarray(painted),
                              np.asarray(lite_engine.stylize_with_vector(frames[index], vector)))
    gives = [events.index(("give", i)) for i in range(6)]
    assert gives == sorted(gives) and all(events.index(("take", i)) < gives[i] for i in range(6))
    # FRAMES_PER_STREAM frames are queued for each stream before the first comes back, and
    # one more is taken to start as it does; with two cores (two streams), two at once
    streams = 2 if usable_cores() >= 2 else 1
    assert events.index(("give", 0)) >= 1 + streams * FRAMES_PER_STREAM


def test_frames_of_another_size_are_refused(lite_engine, styles, photo):
    frames = frames_of(photo, 2) + [photo("coffee", (120, 150))]
    vector = lite_engine.job_vector([styles["starry-night"]])
    with pytest.raises(EngineError, match="Every frame of an animation must have one size"):
        list(lite_engine.stylize_frames(frames, vector))


def test_frames_stopped_early_leave_the_engine_ready(lite_engine, styles, photo):
    frames = frames_of(photo, 6)
    vector = lite_engine.job_vector([styles["starry-night"]])
    painting = lite_engine.stylize_frames(frames, vector)
    first = next(painting)  # the frames after it are running on the network's streams
    painting.close()
    again = list(lite_engine.stylize_frames(frames, vector))
    assert np.array_equal(np.asarray(first), np.asarray(again[0]))
    assert len(again) == 6


def test_lite_path_sends_no_telemetry_and_imports_no_tensorflow(model_paths, tmp_path):
    """Plain `import openvino` sends a usage event and writes ~/intel; ours must not."""
    code = f"""
import socket, sys
connects = []
socket.socket.connect = lambda self, address: connects.append(address)
socket.socket.connect_ex = lambda self, address: connects.append(address) or 0
from PIL import Image
from bot.engine import WeightedStyle, create_engine
engine = create_engine("lite", prediction_model={str(model_paths[0])!r},
                       transfer_model={str(model_paths[1])!r}, threads=1)
engine.stylize(Image.new("RGB", (64, 48), "white"), [WeightedStyle(Image.new("RGB", (80, 80)))])
heavy = [m for m in sys.modules if m.split(".")[0] in ("tensorflow", "tensorflow_hub", "discord")]
print(heavy, sys.modules.get("openvino_telemetry"), connects)
"""
    env = {**os.environ, "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] None []"
    assert list(tmp_path.iterdir()) == []  # no ~/intel consent, client-id or stats files
