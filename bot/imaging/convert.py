"""Convert between Pillow RGB images and float32 HxWx3 arrays in [0, 1]."""

import numpy as np
from PIL import Image

from bot.imaging.modes import to_rgb


def to_float_array(img: Image.Image) -> np.ndarray:
    """Return ``img`` as a float32 HxWx3 RGB array with values in [0, 1]."""
    pixels = np.asarray(to_rgb(img), dtype=np.uint8)
    return pixels.astype(np.float32) / np.float32(255.0)


def from_float_array(arr: np.ndarray) -> Image.Image:
    """Return an RGB image from an HxWx3 float array, clipping to [0, 1] (NaN becomes 0)."""
    values = np.asarray(arr)
    if values.ndim != 3 or values.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 array, got shape {values.shape}.")
    values = np.nan_to_num(values.astype(np.float32, copy=False), nan=0.0)
    pixels = np.rint(np.clip(values, 0.0, 1.0) * np.float32(255.0)).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels))
