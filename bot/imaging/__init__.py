"""Pillow image input and output: decode, limits, resize, colour, encode (no models, no Discord)."""

from bot.imaging.colour import keep_colours
from bot.imaging.convert import from_float_array, to_float_array
from bot.imaging.decode import ALLOWED_FORMATS, decode_image, read_image_file
from bot.imaging.limits import MAX_OUTPUT_SIDE, ImageLimits, describe_bytes, describe_pixels
from bot.imaging.modes import to_rgb
from bot.imaging.resize import fit_long_side, pad_to_multiple, style_square

__all__ = [
    "ALLOWED_FORMATS",
    "MAX_OUTPUT_SIDE",
    "ImageLimits",
    "decode_image",
    "describe_bytes",
    "describe_pixels",
    "fit_long_side",
    "from_float_array",
    "keep_colours",
    "pad_to_multiple",
    "read_image_file",
    "style_square",
    "to_float_array",
    "to_rgb",
]
