"""The `hub` engine: Magenta's arbitrary image stylization network loaded with tensorflow_hub."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from PIL import Image

from bot.defaults import HUB_HANDLE as DEFAULT_HUB_HANDLE
from bot.engine.base import WeightedStyle, check_strength, normalised_weights
from bot.errors import EngineError
from bot.imaging import from_float_array, to_float_array, to_rgb
from bot.machine import usable_cores

# The style prediction network was trained on 256x256 styles (see the TF Hub tutorial).
STYLE_SIDE = 256

# The transfer network downsamples twice by 2 and upsamples back, so an odd-sized content
# comes back rounded up by at most 3 pixels at the bottom and right; such a margin is
# cropped off, any other mismatch is resized away.
_CROP_SLACK = 8

# Longest reason kept in a load-failure message.
_REASON_CHARS = 160


class HubEngine:
    """Magenta's arbitrary image stylization v1-256 from TF Hub (or a local SavedModel folder).

    Preprocessing follows the official TF Hub tutorial: pixels are float32 in [0, 1] with a
    batch axis; the style is centre-cropped to a square, resized to 256x256 and smoothed with
    a 3x3 average pool; the content is passed uncropped at its own size.

    The model takes the style image itself and exposes no style vector, so one style per
    request is supported. Strength s: 0 gives the photo, 1 the full style; in between the
    painting is blended with the photo, ``out = s * stylized + (1 - s) * photo``.

    This is the only module that imports TensorFlow, and it does so in the constructor.
    """

    name = "hub"

    def __init__(self, handle: str = DEFAULT_HUB_HANDLE, threads: int | None = None) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        self.handle = handle
        # TensorFlow's C++ side prints CUDA/absl notices while it starts, before its log level
        # applies; its real failures still arrive as Python exceptions.
        with _native_stderr_silenced():
            import tensorflow as tf
            import tensorflow_hub as hub

            self._tf = tf
            _set_threads(tf, max(1, threads or usable_cores()))
            tf.config.list_physical_devices("GPU")  # probes CUDA now, while stderr is quiet
            try:
                model = hub.load(handle)
            except Exception as exc:
                raise EngineError(
                    f"Could not load the TF Hub model from {handle}: {_short_reason(exc)}."
                ) from exc
        if not callable(model):
            raise EngineError(
                f"Could not load the TF Hub model from {handle}: the model is not callable."
            )
        self._model: Any = model

    def stylize(
        self, content: Image.Image, styles: Sequence[WeightedStyle], strength: float = 1.0
    ) -> Image.Image:
        """Paint `content` in the single style of `styles`; output has the content's size."""
        strength = check_strength(strength)
        if len(styles) > 1:
            raise EngineError(
                "The hub engine cannot blend several styles; use the lite engine for blends."
            )
        normalised_weights(styles)  # one style with a positive weight, like every engine
        if strength == 0.0:
            return to_rgb(content)  # the photo itself: no network needed
        content_pixels = to_float_array(content)
        painted = self._paint(content_pixels, self._style_tensor(styles[0].load_image()))
        if strength < 1.0:
            painted = strength * painted + (1.0 - strength) * content_pixels
        return from_float_array(painted)

    def describe(self) -> str:
        """One line for logs: the model handle, TensorFlow's version and threads."""
        threads = self._tf.config.threading.get_intra_op_parallelism_threads()
        return (f"hub engine ({self.handle}): TensorFlow {self._tf.__version__}, "
                f"{threads or 'default'} threads, float32")

    def warm_up(self, styles: Sequence[WeightedStyle]) -> None:
        """Run the network once on a small grey image so the first request is not slow."""
        grey = np.full((64, 64, 3), 0.5, dtype=np.float32)
        self._paint(grey, np.full((1, STYLE_SIDE, STYLE_SIDE, 3), 0.5, dtype=np.float32))

    def close(self) -> None:
        """Drop the model; the engine cannot be used afterwards."""
        self._model = None

    def _style_tensor(self, style: Image.Image) -> Any:
        """The tutorial's style preprocessing: centre square, 256x256 bilinear, 3x3 avg pool."""
        tf = self._tf
        pixels = to_float_array(style)
        height, width = pixels.shape[:2]
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        square = tf.constant(pixels[top : top + side, left : left + side][np.newaxis])
        resized = tf.image.resize(square, (STYLE_SIDE, STYLE_SIDE))
        return tf.nn.avg_pool(resized, ksize=[3, 3], strides=[1, 1], padding="SAME")

    def _paint(self, content: np.ndarray, style: Any) -> np.ndarray:
        """Run the network on HxWx3 content and return HxWx3 float pixels of the same size."""
        if self._model is None:
            raise EngineError("The hub engine has been closed.")
        tf = self._tf
        try:
            outputs = self._model(tf.constant(content[np.newaxis]), tf.constant(style))
            painted = np.asarray(outputs[0], dtype=np.float32)
        except Exception as exc:
            raise EngineError(f"The hub model failed: {_short_reason(exc)}.") from exc
        if painted.ndim == 4:
            painted = painted[0]
        height, width = content.shape[:2]
        out_height, out_width = painted.shape[:2]
        if (out_height, out_width) == (height, width):
            return painted
        if 0 <= out_height - height < _CROP_SLACK and 0 <= out_width - width < _CROP_SLACK:
            return painted[:height, :width]
        return tf.image.resize(painted, (height, width)).numpy()


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null meanwhile: TensorFlow's C++ side writes there."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _set_threads(tf: Any, threads: int) -> None:
    """Size TF's thread pools; TF refuses once its runtime has started, which is left as is."""
    config = tf.config.threading
    for getter, setter in (
        (config.get_intra_op_parallelism_threads, config.set_intra_op_parallelism_threads),
        (config.get_inter_op_parallelism_threads, config.set_inter_op_parallelism_threads),
    ):
        if getter() != threads:
            with contextlib.suppress(RuntimeError):  # TF already ran in this process
                setter(threads)


def _short_reason(exc: BaseException) -> str:
    """One line saying why `exc` happened, without a trailing full stop."""
    reason = getattr(exc, "reason", None)  # urllib's URLError wraps the real cause
    text = str(reason if reason is not None else exc).strip()
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = " ".join(line.split()).rstrip(".") or type(exc).__name__
    if len(line) > _REASON_CHARS:
        line = line[: _REASON_CHARS - 1].rstrip() + "…"
    return line


__all__ = ["DEFAULT_HUB_HANDLE", "HubEngine"]
