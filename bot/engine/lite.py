"""The default engine: Magenta's official TFLite networks run by OpenVINO at any output size."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from bot.engine.base import WeightedStyle, check_strength, normalised_weights
from bot.engine.openvino_net import (
    STYLE_SIDE,
    PredictionNetwork,
    TransferNetwork,
    cpu_capabilities,
    make_core,
)
from bot.engine.vectors import VectorCache, apply_strength, blend
from bot.imaging import from_float_array, pad_to_multiple, style_square, to_float_array, to_rgb
from bot.machine import usable_cores

# Content is padded up to a multiple of this, so a stream of photos of slightly
# different sizes reuses a few compiled shapes instead of compiling one each.
SIZE_BUCKET = 64


class LiteEngine:
    """Style vectors from the int8 prediction net; painting by the transfer net (fp16 or int8).

    Strength s: 0 gives the photo, 1 the full style. In between the style vector is blended
    with the photo's own vector (as Magenta's demos do) and the painting with the photo, both
    by s, so the distance to the photo grows smoothly from 0.

    The prediction net always runs in f32; `precision` is the transfer net's ("auto" lets
    OpenVINO choose: bf16 on CPUs with native bfloat16). `rewrite_norms` forces the instance
    norms to be (True) or not be (False) rewritten as MVN; by default they are in f32 only
    (see TransferNetwork).
    """

    name = "lite"

    def __init__(
        self,
        prediction_model: Path,
        transfer_model: Path,
        *,
        threads: int | None = None,
        vector_dir: Path | None = None,
        compile_cache: Path | None = None,
        compiled_shapes: int = 4,
        size_bucket: int = SIZE_BUCKET,
        precision: str = "auto",
        rewrite_norms: bool | None = None,
    ) -> None:
        threads = max(1, threads or usable_cores())
        self._core = make_core(compile_cache)
        self._predict = PredictionNetwork(self._core, prediction_model, threads)
        self._transfer = TransferNetwork(
            self._core,
            transfer_model,
            threads,
            cache_size=compiled_shapes,
            precision=precision,
            rewrite_norms=rewrite_norms,
        )
        self._transfer_file = Path(transfer_model).name
        self._threads = threads
        self._vectors = VectorCache(vector_dir)
        self._bucket = size_bucket

    def style_vector(self, style: WeightedStyle) -> np.ndarray:
        """Return the style's 100-d vector, from the cache when it has a key."""
        if style.key is not None:
            cached = self._vectors.get(style.key)
            if cached is not None:
                return cached
        vector = self._vector_of(style.load_image(), crop=True)
        if style.key is not None:
            self._vectors.put(style.key, vector)
        return vector

    def _vector_of(self, image: Image.Image, *, crop: bool) -> np.ndarray:
        if crop:
            square = style_square(image, STYLE_SIDE)
        else:
            square = image.resize((STYLE_SIDE, STYLE_SIDE), Image.Resampling.BILINEAR)
        return self._predict(to_float_array(square))

    def stylize(
        self, content: Image.Image, styles: Sequence[WeightedStyle], strength: float = 1.0
    ) -> Image.Image:
        """Paint `content` in the weighted blend of `styles`; output has the content's size."""
        strength = check_strength(strength)
        normalised_weights(styles)  # refuse bad weights even when no vector is needed
        if strength == 0.0:
            return to_rgb(content)  # the photo itself: no network needed
        vector = self.job_vector(styles, strength, content)
        return self.stylize_with_vector(content, vector, strength)

    def warm_up(self, styles: Sequence[WeightedStyle]) -> None:
        """Compute (or load) the vectors of `styles` and compile the commonest shape."""
        self._predict.compiled()
        for style in styles:
            self.style_vector(style)
        self._transfer.compiled_for(768, 1024)

    def describe(self) -> str:
        """One line for logs: model, precisions really compiled, threads, CPU capabilities."""
        transfer = self._transfer.precision or "not compiled yet"
        if self._transfer.precision and self._transfer.requested_precision == "auto":
            transfer += " (auto)"
        prediction = self._predict.precision or "f32, not compiled: style vectors cached"
        norms = (f"{self._transfer.norms_rewritten} instance norms as MVN"
                 if self._transfer.rewrite_norms else "instance norms as in the file")
        return (
            f"lite engine ({self._transfer_file}, {self._threads} threads): transfer net "
            f"{transfer}, prediction net {prediction}, {norms}; "
            f"CPU capabilities {' '.join(cpu_capabilities(self._core))}"
        )

    @property
    def compilations(self) -> int:
        """How many shapes the transfer network has been compiled for so far."""
        return self._transfer.compilations

    def close(self) -> None:
        """Drop compiled networks."""
        self._transfer.clear()

    # -- one vector for many frames (animations); `stylize` is these two steps --

    def job_vector(
        self,
        styles: Sequence[WeightedStyle],
        strength: float = 1.0,
        content: Image.Image | None = None,
    ) -> np.ndarray:
        """The blended style vector, with strength < 1 mixed with `content`'s own vector.

        An animation computes it once, from its first frame, for every frame.
        """
        strength = check_strength(strength)
        vector = blend([self.style_vector(style) for style in styles], normalised_weights(styles))
        if strength < 1.0 and content is not None:
            vector = apply_strength(vector, self._vector_of(content, crop=False), strength)
        return vector

    def stylize_with_vector(
        self, content: Image.Image, vector: np.ndarray, strength: float = 1.0
    ) -> Image.Image:
        """Paint `content` with a precomputed vector; below strength 1 the result is also
        blended with the photo in pixels (at 0, the photo itself). Output has content's size."""
        strength = check_strength(strength)
        if strength == 0.0:
            return to_rgb(content)
        photo = to_float_array(content)
        pixels, _ = pad_to_multiple(photo, self._bucket)
        return _finish(self._transfer(np.ascontiguousarray(pixels), vector), photo, strength)

    def stylize_frames(
        self, frames: Iterable[Image.Image], vector: np.ndarray, strength: float = 1.0
    ) -> Generator[Image.Image, None, None]:
        """Paint frames of one size with one vector, each as `stylize_with_vector` would, in
        order; several at once (the transfer net's streams, see TransferNetwork.paint_many),
        so a frame is taken from `frames` before the ones ahead of it come back."""
        strength = check_strength(strength)
        if strength == 0.0:
            yield from (to_rgb(frame) for frame in frames)
            return
        photos: deque[np.ndarray] = deque()  # of the frames being painted, for _finish

        def padded() -> Iterator[np.ndarray]:
            for frame in frames:
                photo = to_float_array(frame)
                photos.append(photo)
                yield np.ascontiguousarray(pad_to_multiple(photo, self._bucket)[0])

        painting = self._transfer.paint_many(padded(), vector)
        try:
            for painted in painting:
                yield _finish(painted, photos.popleft(), strength)
        finally:
            painting.close()


def _finish(painted: np.ndarray, photo: np.ndarray, strength: float) -> Image.Image:
    """The painting cut to the photo's size and, below strength 1, blended with the photo."""
    height, width = photo.shape[:2]
    painted = painted[:height, :width]
    if strength < 1.0:
        painted = strength * painted + (1.0 - strength) * photo
    return from_float_array(painted)
