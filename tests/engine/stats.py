"""Image statistics for comparing styles: colour means, spreads and a coarse histogram."""

import numpy as np
from PIL import Image


def style_stats(image: Image.Image) -> np.ndarray:
    """Per-channel mean and standard deviation plus a 4-bin-per-channel histogram."""
    pixels = np.asarray(image, dtype=np.float64) / 255.0
    flat = pixels.reshape(-1, 3)
    hist = [np.histogram(flat[:, c], bins=4, range=(0, 1))[0] / len(flat) for c in range(3)]
    return np.concatenate([flat.mean(0), flat.std(0), *hist])


def distance(a: Image.Image, b: Image.Image) -> float:
    """Euclidean distance between two images' style statistics."""
    return float(np.linalg.norm(style_stats(a) - style_stats(b)))


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute pixel difference in [0, 1] between two same-size images."""
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).mean() / 255.0)
