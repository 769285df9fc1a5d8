"""paint_animation on the real lite engine: every frame painted with one vector and one shape."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from bot.animation import paint_animation
from bot.engine import WeightedStyle
from bot.errors import ImageError
from bot.imaging import ImageLimits, keep_colours
from bot.imaging.animation import AnimationLimits, flicker, open_animation
from bot.imaging.animation.encode import clip_writer
from bot.stylization import StylizeOptions, stylize
from tests.engine.stats import distance, mean_abs_diff
from tests.imaging.animation.clips import moving_frames, pillow_animation, still_mask, video

SIZE = (96, 64)
OPTIONS = StylizeOptions(max_side=512)


@pytest.fixture(scope="module")
def styles(preset_image):
    return {slug: WeightedStyle(preset_image(slug), key=f"test:{slug}")
            for slug in ("starry-night", "great-wave")}


def opened(data: bytes, **limits):
    animation = open_animation(data, ImageLimits(), AnimationLimits(**limits), max_side=512)
    assert animation is not None
    return animation


def gif(count: int = 8, size=SIZE, durations=60) -> bytes:
    return pillow_animation(moving_frames(count, size), "GIF", durations=durations, loop=0)


def input_frames(data: bytes) -> list[Image.Image]:
    return [Image.fromarray(f.pixels) for f in opened(data).frames()]


def test_every_frame_is_painted_as_a_still_would_be(lite_engine, styles):
    data = gif()
    style = [styles["starry-night"]]
    result = paint_animation(lite_engine, opened(data), style, OPTIONS, steady=False)
    frames = input_frames(data)
    assert (result.frames, result.size, result.kind, result.note) == (8, SIZE, "GIF", "")
    assert result.clip.durations == [60.0] * 8 and result.clip.loop == 0
    for source, painted in zip(frames, result.clip.frames, strict=True):
        still = np.asarray(stylize(lite_engine, source, style, OPTIONS))
        assert np.array_equal(painted, still)  # the same pipeline, the same vector
        assert mean_abs_diff(Image.fromarray(painted), source) > 0.08  # really painted


def test_one_compiled_shape_serves_the_clip(lite_engine, styles):
    animation = opened(gif(12, (100, 70)))  # 100x70 pads to one 128x128 shape
    before = lite_engine.compilations
    paint_animation(lite_engine, animation, [styles["great-wave"]], OPTIONS)
    assert lite_engine.compilations - before <= 1


def test_strength_uses_the_first_frame_for_the_whole_clip(lite_engine, styles):
    data = gif(4)
    options = StylizeOptions(strength=0.4, max_side=512)
    style = [styles["starry-night"]]
    result = paint_animation(lite_engine, opened(data), style, options, steady=False)
    first = input_frames(data)[0]
    assert np.array_equal(result.clip.frames[0],
                          np.asarray(stylize(lite_engine, first, style, options)))
    full = paint_animation(lite_engine, opened(data), style, OPTIONS, steady=False)
    assert mean_abs_diff(Image.fromarray(result.clip.frames[3]),
                         Image.fromarray(full.clip.frames[3])) > 0.02


def test_blends_and_keep_colours_work_per_frame(lite_engine, styles):
    data = gif(4)
    blend = [WeightedStyle(styles["starry-night"].image, 2.0, "test:starry-night"),
             WeightedStyle(styles["great-wave"].image, 1.0, "test:great-wave")]
    options = StylizeOptions(keep_colours=True, max_side=512)
    result = paint_animation(lite_engine, opened(data), blend, options, steady=False)
    for source, painted in zip(input_frames(data), result.clip.frames, strict=True):
        expected = stylize(lite_engine, source, blend, options)
        assert np.array_equal(painted, np.asarray(expected))
        _, cb, cr = Image.fromarray(painted).convert("YCbCr").split()
        _, cb0, cr0 = source.convert("YCbCr").split()
        assert mean_abs_diff(cb, cb0) < 0.02 and mean_abs_diff(cr, cr0) < 0.02
    assert keep_colours  # the same function the still path uses


def test_frames_share_one_style(lite_engine, styles, preset_image):
    result = paint_animation(lite_engine, opened(gif(6)), [styles["great-wave"]], OPTIONS)
    frames = [Image.fromarray(f) for f in result.clip.frames]
    wave = stylize(lite_engine, Image.fromarray(moving_frames(1, SIZE)[0]),
                   [styles["great-wave"]], OPTIONS)
    starry = stylize(lite_engine, Image.fromarray(moving_frames(1, SIZE)[0]),
                     [styles["starry-night"]], OPTIONS)
    for frame in frames:
        assert distance(frame, wave) < distance(frame, starry)


def test_progress_counts_every_frame(lite_engine, styles):
    calls = []
    paint_animation(lite_engine, opened(gif(5)), [styles["starry-night"]], OPTIONS,
                    progress=lambda done, total: calls.append((done, total)))
    assert [done for done, _ in calls] == [1, 2, 3, 4, 5]
    assert calls[-1] == (5, 5)


def test_trimming_is_reported(lite_engine, styles):
    result = paint_animation(lite_engine, opened(gif(10), max_frames=4),
                             [styles["starry-night"]], OPTIONS)
    assert result.frames == 4 and result.total == 10
    assert result.note == "painted the first 4 frames of 10"


def test_steadying_removes_the_flicker_of_a_still_background(lite_engine, styles):
    count, size = 10, (128, 96)
    data = video(moving_frames(count, size, step=6), "mp4", fps=10)
    style = [styles["starry-night"]]
    naive = paint_animation(lite_engine, opened(data), style, OPTIONS, steady=False)
    steady = paint_animation(lite_engine, opened(data), style, OPTIONS, steady=True)
    inputs = [np.asarray(f) for f in input_frames(data)]
    mask = still_mask(count, size, margin=20)
    before, after, floor = (flicker(naive.clip.frames, mask), flicker(steady.clip.frames, mask),
                            flicker(inputs, mask))
    print(f"flicker in the still area: input {floor:.2f}, painted {before:.2f}, "
          f"steadied {after:.2f}")
    assert before > 2 * floor + 0.5  # painting frames independently does flicker
    assert after < before / 2


@pytest.mark.parametrize("source", ["gif", "apng", "webp", "mp4", "webm", "mov"])
def test_every_input_kind_to_every_output_format(lite_engine, styles, source):
    frames = moving_frames(8, (80, 48))
    if source in ("gif", "apng", "webp"):
        fmt = {"gif": "GIF", "apng": "PNG", "webp": "WEBP"}[source]
        data = pillow_animation(frames, fmt, durations=50, loop=0)
        duration = 50.0
    else:
        data = video(frames, source, fps=20)
        duration = 50.0
    result = paint_animation(lite_engine, opened(data), [styles["starry-night"]], OPTIONS)
    assert result.frames == 8
    for out in ("GIF", "MP4", "WEBP"):
        again = opened(result.encode(out))
        decoded = list(again.frames())
        assert len(decoded) == 8, (source, out)
        assert again.size == (80, 48)
        assert [f.duration for f in decoded] == pytest.approx([duration] * 8, abs=1)
        assert again.loop == 0
        painted = Image.fromarray(decoded[4].pixels)
        assert mean_abs_diff(painted, Image.fromarray(frames[4])) > 0.05


@pytest.fixture(scope="module")
def hub_engine(tmp_path_factory):
    """The hub engine on a small SavedModel with the real model's call: half content, half the
    style's mean colour (as tests/engine/test_hub.py builds it)."""
    import tensorflow as tf

    from bot.engine.hub import HubEngine

    def mix(content, style):
        mean = tf.reduce_mean(style, axis=[1, 2], keepdims=True)
        return [tf.clip_by_value(content * 0.5 + mean * 0.5, 0.0, 1.0)]

    spec = tf.TensorSpec([1, None, None, 3], "float32")
    module = tf.Module()
    module.__call__ = tf.function(mix, input_signature=[spec, spec])
    folder = tmp_path_factory.mktemp("hub_mix")
    tf.saved_model.save(module, str(folder))
    engine = HubEngine(str(folder), threads=2)
    yield engine
    engine.close()


def test_an_engine_without_style_vectors_paints_each_frame(hub_engine, styles):
    data = gif(4)
    options = StylizeOptions(strength=0.5, max_side=512)
    result = paint_animation(hub_engine, opened(data), [styles["great-wave"]], options,
                             steady=False)
    for source, painted in zip(input_frames(data), result.clip.frames, strict=True):
        expected = stylize(hub_engine, source, [styles["great-wave"]], options)
        assert np.array_equal(painted, np.asarray(expected))


def test_painting_with_the_helper_thread_gives_the_frames_of_painting_in_turn(lite_engine, styles):
    data = video(moving_frames(8, (128, 96), step=6), "mp4", fps=10)
    style = [styles["starry-night"]]
    overlapped = paint_animation(lite_engine, opened(data), style, OPTIONS)
    in_turn = paint_animation(lite_engine, opened(data), style, OPTIONS, overlap=False)
    assert overlapped.frames == in_turn.frames == 8
    assert overlapped.clip.durations == in_turn.clip.durations
    for mine, reference in zip(overlapped.clip.frames, in_turn.clip.frames, strict=True):
        assert np.array_equal(mine, reference)


class FailingEngine:
    """The lite engine, failing as it takes the third frame to paint."""

    def __init__(self, engine) -> None:
        self.engine, self.painted = engine, 0
        self.name, self.supports_style_vectors = engine.name, True

    def job_vector(self, styles, strength=1.0, content=None):
        return self.engine.job_vector(styles, strength, content)

    def stylize_frames(self, frames, vector, strength=1.0):
        def failing():  # the third frame, taken while the first two are being painted
            for frame in frames:
                self.painted += 1
                if self.painted == 3:
                    raise RuntimeError("the engine failed")
                yield frame

        return self.engine.stylize_frames(failing(), vector, strength)

    def stylize(self, content, styles, strength=1.0):
        return self.engine.stylize(content, styles, strength)


@pytest.mark.parametrize("overlap", [True, False])
def test_a_failure_part_way_stops_decoding_and_closes_the_input(lite_engine, styles, overlap):
    animation = opened(gif(10))
    closed = []
    animation._closer = lambda: closed.append(threading.current_thread().name)
    with pytest.raises(RuntimeError, match="the engine failed"):
        paint_animation(FailingEngine(lite_engine), animation, [styles["starry-night"]],
                        OPTIONS, overlap=overlap)
    assert len(closed) == 1
    assert not [t for t in threading.enumerate() if t.name.startswith("stylebot-frames")]


def test_a_damaged_frame_part_way_is_one_sentence_with_the_helper_thread(lite_engine, styles):
    data = gif(10)
    cut = data[: len(data) * 2 // 3]  # the GIF ends in the middle of a frame
    animation = opened(cut)
    with pytest.raises(ImageError, match=r"^The photo is damaged or incomplete\.$"):
        paint_animation(lite_engine, animation, [styles["starry-night"]], OPTIONS)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "MP4"])
def test_encoding_while_painting_gives_the_file_of_encoding_after(lite_engine, styles, fmt):
    data = video(moving_frames(8, (128, 96), step=6), "mp4", fps=10)
    style = [styles["starry-night"]]
    streamed = paint_animation(lite_engine, opened(data), style, OPTIONS, encode_as=fmt)
    assert set(streamed.encoded) == {fmt}
    # a GIF's palette comes from the first half of the clip while painting, from all of it after
    writer = clip_writer(fmt, streamed.clip.loop, palette_frames=4)
    for pixels, duration in zip(streamed.clip.frames, streamed.clip.durations, strict=True):
        writer.add(pixels, duration)
    afterwards = writer.finish()
    if fmt == "MP4":  # the same pictures and timing (libx264 threads may place bits apart)
        got, want = (list(opened(d).frames()) for d in (streamed.encode(fmt), afterwards))
        assert [f.duration for f in got] == [f.duration for f in want] == [100.0] * 8
        for mine, reference in zip(got, want, strict=True):
            assert np.abs(mine.pixels.astype(int) - reference.pixels.astype(int)).mean() < 1
    else:
        assert streamed.encode(fmt) == afterwards


def test_a_gif_fading_in_from_black_keeps_its_colours(lite_engine, styles):
    frames = [(f.astype(float) * min(1.0, index / 4)).astype(np.uint8)
              for index, f in enumerate(moving_frames(12, (128, 96), step=6))]
    data = video(frames, "mp4", fps=10)
    result = paint_animation(lite_engine, opened(data), [styles["starry-night"]], OPTIONS,
                             encode_as="GIF")
    decoded = list(opened(result.encode("GIF")).frames())
    assert len(decoded) == 12
    for got, painted in zip(decoded[4:], result.clip.frames[4:], strict=True):
        error = np.mean((got.pixels.astype(float) - painted) ** 2)
        assert 10 * np.log10(255**2 / error) > 27  # dB: the palette knows the lit colours


def test_fitting_uses_the_gif_written_while_painting(lite_engine, styles):
    result = paint_animation(lite_engine, opened(gif(6)), [styles["starry-night"]], OPTIONS,
                             encode_as="GIF")
    fitted = result.encode_to_fit(len(result.encoded["GIF"]))
    assert fitted.fmt == "GIF" and fitted.data is result.encoded["GIF"]
    smaller = result.encode_to_fit(len(result.encoded["GIF"]) - 1)
    assert smaller.fmt == "MP4"


def test_a_failure_part_way_leaves_no_half_written_mp4(lite_engine, styles, tmp_path,
                                                       monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(RuntimeError, match="the engine failed"):
        paint_animation(FailingEngine(lite_engine), opened(gif(10)), [styles["starry-night"]],
                        OPTIONS, encode_as="MP4")
    assert not list(tmp_path.iterdir())


def test_frames_are_the_same_with_the_helper_thread_and_in_turn(lite_engine, styles):
    data, chosen = gif(6), [styles["great-wave"]]
    beside = paint_animation(lite_engine, opened(data), chosen, OPTIONS)
    in_turn = paint_animation(lite_engine, opened(data), chosen, OPTIONS, overlap=False)
    assert len(beside.clip) == len(in_turn.clip) == 6
    for a, b in zip(beside.clip.frames, in_turn.clip.frames, strict=True):
        assert np.array_equal(a, b)
