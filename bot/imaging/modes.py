"""Convert a Pillow image of any common mode to 8-bit RGB, flattening alpha onto white."""

import numpy as np
from PIL import Image

_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
_WHITE = (255, 255, 255)


def to_rgb(img: Image.Image) -> Image.Image:
    """Return ``img`` as an 8-bit RGB image; may return ``img`` itself if it is already RGB.

    Transparency (alpha channels, palette or single-colour transparency) is composited over
    white; 16-bit, 32-bit integer and float greyscale are rescaled to 8 bits rather than clipped.
    Raises ValueError for a mode Pillow cannot convert to RGB.
    """
    if img.mode in _SIXTEEN_BIT_MODES or img.mode in ("I", "F"):
        return _rescale_to_grey(img).convert("RGB")
    if img.has_transparency_data:
        return _flatten_on_white(img.convert("RGBA"))
    if img.mode == "RGB":
        return img
    return img.convert("RGB")


def _flatten_on_white(rgba: Image.Image) -> Image.Image:
    background = Image.new("RGB", rgba.size, _WHITE)
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _rescale_to_grey(img: Image.Image) -> Image.Image:
    values = np.asarray(img).astype(np.float32)
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    black, white = _value_range(img.mode, values)
    scale = np.float32(255.0 / (white - black)) if white > black else np.float32(0.0)
    grey = np.clip(np.rint((values - np.float32(black)) * scale), 0, 255).astype(np.uint8)
    return Image.fromarray(grey)


def _value_range(mode: str, values: np.ndarray) -> tuple[float, float]:
    """Return the values that map to black and white: the mode's range, else the data's."""
    if mode in _SIXTEEN_BIT_MODES:
        return 0.0, 65535.0
    low = float(values.min()) if values.size else 0.0
    high = float(values.max()) if values.size else 0.0
    if low >= 0.0:
        for full_scale in ((1.0,) if mode == "F" else ()) + (255.0, 65535.0):
            if high <= full_scale:
                return 0.0, full_scale
    return low, high
