"""Contact sheets: a grid of square thumbnails, each with its name underneath."""

import math
from collections.abc import Sequence
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from bot.imaging.modes import to_rgb

PADDING = 8  # pixels around and between cells
ELLIPSIS = "…"
EMPTY_TEXT = "No presets"
_FONT_SHARE = 0.5  # font size as a share of the label height
_REDUCING_GAP = 3.0

Colour = tuple[int, int, int]


def contact_sheet(
    items: Sequence[tuple[str, Image.Image]],
    *,
    thumb: int = 160,
    columns: int = 4,
    label_height: int = 28,
    background: Colour = (32, 34, 37),
    text: Colour = (235, 235, 235),
) -> Image.Image:
    """Return an RGB gallery of ``(name, image)`` items: centre-cropped squares, names below.

    The grid is ``min(columns, len(items))`` cells wide with ``PADDING`` around every cell;
    a name too wide for its cell is cut short with an ellipsis. No items gives a small image
    saying "No presets".
    """
    if thumb < 1 or columns < 1 or label_height < 0:
        raise ValueError("thumb and columns must be positive and label_height not negative.")
    font = _font(max(1, round(label_height * _FONT_SHARE)) if label_height else 12)
    if not items:
        return _empty(font, thumb, label_height, background, text)

    cols = min(columns, len(items))
    rows = math.ceil(len(items) / cols)
    cell_height = thumb + label_height
    size = (cols * thumb + (cols + 1) * PADDING, rows * cell_height + (rows + 1) * PADDING)
    sheet = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(sheet)
    for index, (name, image) in enumerate(items):
        row, col = divmod(index, cols)
        left = PADDING + col * (thumb + PADDING)
        top = PADDING + row * (cell_height + PADDING)
        sheet.paste(_square(image, thumb), (left, top))
        if label_height:
            label = _fit(draw, name, font, thumb)
            ink_left, _, ink_right, _ = draw.textbbox((0, 0), label, font=font, anchor="lm")
            x = left + (thumb - (ink_right - ink_left)) / 2 - ink_left  # centre the ink itself
            draw.text((x, top + thumb + label_height / 2), label, fill=text, font=font,
                      anchor="lm")
    return sheet


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=8)
def _font(size: int) -> Font:
    return ImageFont.load_default(size=size)


def _square(image: Image.Image, side: int) -> Image.Image:
    """The centred square of image resized to side x side (one resampling pass)."""
    image = to_rgb(image)
    width, height = image.size
    short = min(width, height)
    left, top = (width - short) / 2, (height - short) / 2
    box = (left, top, left + short, top + short)
    return image.resize((side, side), Image.Resampling.LANCZOS, box, _REDUCING_GAP)


def _ink_width(draw: ImageDraw.ImageDraw, label: str, font: Font) -> int:
    left, _, right, _ = draw.textbbox((0, 0), label, font=font, anchor="lm")
    return int(right - left)


def _fit(draw: ImageDraw.ImageDraw, name: str, font: Font, width: int) -> str:
    """name, or its longest prefix plus an ellipsis, whose ink is at most width pixels wide."""
    name = " ".join(name.split())  # no newlines or runs of spaces in a one-line label
    if _ink_width(draw, name, font) <= width:
        return name
    low, high = 0, len(name) - 1  # binary search for the longest prefix that fits
    while low < high:
        mid = (low + high + 1) // 2
        if _ink_width(draw, name[:mid].rstrip() + ELLIPSIS, font) <= width:
            low = mid
        else:
            high = mid - 1
    label = name[:low].rstrip() + ELLIPSIS
    return label if _ink_width(draw, label, font) <= width else ""


def _empty(font: Font, thumb: int, label_height: int, background: Colour, text: Colour
           ) -> Image.Image:
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), EMPTY_TEXT, font=font)
    width = int(max(thumb, right - left)) + 2 * PADDING
    height = int(max(label_height, bottom - top)) + 2 * PADDING
    image = Image.new("RGB", (width, height), background)
    ImageDraw.Draw(image).text((width / 2, height / 2), EMPTY_TEXT, fill=text, font=font,
                               anchor="mm")
    return image
