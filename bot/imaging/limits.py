"""Size limits for untrusted input images and for stylized output."""

from dataclasses import dataclass, fields, replace

from bot.defaults import (
    MAX_INPUT_BYTES,
    MAX_INPUT_PIXELS,
    MAX_OUTPUT_SIDE,
    MIN_OUTPUT_SIDE,
    OUTPUT_SIDE,
)

__all__ = [
    "MAX_OUTPUT_SIDE",
    "MIN_OUTPUT_SIDE",
    "STYLE_MAX_BYTES",
    "ImageLimits",
    "describe_bytes",
    "describe_pixels",
    "style_limits",
]


@dataclass(frozen=True)
class ImageLimits:
    """How large an input may be (bytes and pixels) and how large an output is made."""

    max_input_bytes: int = MAX_INPUT_BYTES
    max_input_pixels: int = MAX_INPUT_PIXELS
    max_output_side: int = OUTPUT_SIDE

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{field.name} must be a whole number, not {value!r}.")
            if value <= 0:
                raise ValueError(f"{field.name} must be positive, not {value}.")
        if not MIN_OUTPUT_SIDE <= self.max_output_side <= MAX_OUTPUT_SIDE:
            raise ValueError(
                f"max_output_side must be between {MIN_OUTPUT_SIDE} and {MAX_OUTPUT_SIDE}, "
                f"not {self.max_output_side}."
            )


def describe_bytes(count: int) -> str:
    """Return a byte count for people, e.g. ``"25 MB"``, ``"512 KB"`` or ``"300 bytes"``."""
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if count >= size:
            return f"{count / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{count} byte" if count == 1 else f"{count} bytes"


def describe_pixels(count: int) -> str:
    """Return a pixel count for people, e.g. ``"40 megapixels"`` or ``"900 pixels"``."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}".removesuffix(".0") + " megapixels"
    return f"{count} pixel" if count == 1 else f"{count} pixels"


# Style images are either presets (local files the operator chose) or uploads that already
# passed the byte cap while downloading; only their pixel count still needs guarding.
STYLE_MAX_BYTES = 64 * 1024 * 1024


def style_limits(limits: ImageLimits) -> ImageLimits:
    """The limits for decoding style images: the same pixel guard, a roomier byte cap."""
    return replace(limits, max_input_bytes=max(limits.max_input_bytes, STYLE_MAX_BYTES))
