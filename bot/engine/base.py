"""The engine contract: weighted styles in, a stylized image of the content's size out."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

from bot.errors import EngineError

ImageLoader = Callable[[], Image.Image]


@dataclass(frozen=True)
class WeightedStyle:
    """One style of a request: its image (or a loader for it), weight and cache key.

    `image` may be a zero-argument callable so that a style whose vector is cached
    (a preset, typically) is never decoded at all.
    """

    image: Image.Image | ImageLoader
    weight: float = 1.0
    key: str | None = None

    def load_image(self) -> Image.Image:
        """Return the style image, calling the loader if one was given."""
        return self.image() if callable(self.image) else self.image


class Engine(Protocol):
    """What the stylization steps, the CLI and the bot need from a stylization engine."""

    name: str

    def stylize(
        self, content: Image.Image, styles: Sequence[WeightedStyle], strength: float = 1.0
    ) -> Image.Image:
        """Paint `content` in the blend of `styles`; the result has the content's size.

        Strength 0 returns the photo, 1 the full style; the distance to the photo grows
        steadily in between.
        """
        ...

    def describe(self) -> str:
        """One line for logs: the model and the precision and threads it really runs with."""
        ...

    def warm_up(self, styles: Sequence[WeightedStyle]) -> None:
        """Load models and precompute what later requests reuse (e.g. preset vectors)."""
        ...

    def close(self) -> None:
        """Release the model and its caches."""
        ...


def check_strength(strength: float) -> float:
    """Return `strength` as a float, or raise EngineError if it is outside [0, 1]."""
    value = float(strength)
    if not 0.0 <= value <= 1.0 or np.isnan(value):
        raise EngineError(f"Strength must be between 0 and 1, not {strength}.")
    return value


def normalised_weights(styles: Sequence[WeightedStyle]) -> np.ndarray:
    """Return the styles' weights scaled to sum to 1, refusing empty or non-positive ones."""
    if not styles:
        raise EngineError("At least one style is needed.")
    weights = np.array([float(s.weight) for s in styles], dtype=np.float64)
    if not np.all(np.isfinite(weights)) or np.any(weights <= 0):
        raise EngineError("Style weights must be positive numbers.")
    return weights / weights.sum()


@runtime_checkable
class VectorEngine(Protocol):
    """An engine that can paint many frames with one style vector (the lite engine)."""

    def job_vector(
        self,
        styles: Sequence[WeightedStyle],
        strength: float = 1.0,
        content: Image.Image | None = None,
    ) -> np.ndarray:
        """The blended style vector of a job, strength applied against `content`'s vector."""
        ...

    def stylize_frames(
        self, frames: Iterable[Image.Image], vector: np.ndarray, strength: float = 1.0
    ) -> Generator[Image.Image, None, None]:
        """Paint frames of one size with one vector, in order, each as `stylize` would with
        that vector (an engine may paint several at once, taking frames ahead of its results)."""
        ...
