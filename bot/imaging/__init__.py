"""Pillow image input and output: decode, limits, resize, colour, encode (no models, no Discord)."""

from bot.imaging.colour import keep_colours
from bot.imaging.convert import from_float_array, to_float_array
from bot.imaging.decode import (
    ALLOWED_FORMATS,
    IMAGE_SUFFIXES,
    decode_image,
    read_image_bytes,
    read_image_file,
)
from bot.imaging.encode import FORMATS, encode_image, format_for_path, save_image_atomic
from bot.imaging.limits import (
    MAX_OUTPUT_SIDE,
    ImageLimits,
    describe_bytes,
    describe_pixels,
    style_limits,
)
from bot.imaging.modes import to_rgb
from bot.imaging.resize import fit_long_side, pad_to_multiple, style_square

__all__ = [
    "ALLOWED_FORMATS",
    "FORMATS",
    "IMAGE_SUFFIXES",
    "MAX_OUTPUT_SIDE",
    "ImageLimits",
    "decode_image",
    "describe_bytes",
    "describe_pixels",
    "encode_image",
    "fit_long_side",
    "format_for_path",
    "from_float_array",
    "keep_colours",
    "pad_to_multiple",
    "read_image_bytes",
    "read_image_file",
    "save_image_atomic",
    "style_limits",
    "style_square",
    "to_float_array",
    "to_rgb",
]
