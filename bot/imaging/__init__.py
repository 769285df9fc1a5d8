"""Pillow image input and output: decode, limits, resize, colour, encode (no models, no Discord)."""

from bot.imaging.decode import ALLOWED_FORMATS, decode_image, read_image_file
from bot.imaging.limits import MAX_OUTPUT_SIDE, ImageLimits, describe_bytes, describe_pixels
from bot.imaging.modes import to_rgb

__all__ = [
    "ALLOWED_FORMATS",
    "MAX_OUTPUT_SIDE",
    "ImageLimits",
    "decode_image",
    "describe_bytes",
    "describe_pixels",
    "read_image_file",
    "to_rgb",
]
