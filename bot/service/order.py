"""A stylize form checked into a paint order: the styles, their weights and the options."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.assets import PresetCatalog
from bot.config import Settings
from bot.engine.base import check_strength
from bot.pipeline import StylizeOptions
from bot.service.errors import BadForm
from bot.service.form import FormPart

TEXT_FIELDS = ("weights", "strength", "keep_colors", "max_size", "format")
FIELDS = ("content", "style", "style_image", *TEXT_FIELDS)
ALIASES = {"keep_colours": "keep_colors"}
# format field -> (Pillow format, Content-Type)
OUTPUT_FORMATS = {
    "png": ("PNG", "image/png"),
    "jpeg": ("JPEG", "image/jpeg"),
    "jpg": ("JPEG", "image/jpeg"),
    "webp": ("WEBP", "image/webp"),
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


@dataclass(frozen=True)
class OrderStyle:
    """One style to blend: a preset's slug or an uploaded image's bytes, and its weight."""

    name: str
    weight: float
    preset: str | None = None
    data: bytes | None = None


@dataclass(frozen=True)
class PaintOrder:
    """What a painter replica needs to paint one request (sent to it by the ingress)."""

    content: bytes
    styles: tuple[OrderStyle, ...]
    options: StylizeOptions
    image_format: str  # Pillow's name: PNG, JPEG or WEBP
    media_type: str


def _known(name: str) -> str:
    name = ALIASES.get(name, name)
    if name not in FIELDS:
        import difflib

        close = difflib.get_close_matches(name, FIELDS, n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise BadForm(
            f"Unknown form field “{name[:40]}”; the fields are {', '.join(FIELDS)}.{hint}"
        )
    return name


def parse_weights(text: str | None, count: int) -> list[float]:
    """`2,1` into one positive weight per style (all 1 when absent)."""
    if text is None or not text.strip():
        return [1.0] * count
    try:
        weights = [float(part) for part in text.split(",")]
    except ValueError:
        raise BadForm(f"weights must be numbers separated by commas, not “{text[:40]}”.") from None
    if len(weights) != count:
        raise BadForm(f"weights gives {len(weights)} weights for {count} styles.")
    if any(not (w > 0 and math.isfinite(w)) for w in weights):
        raise BadForm("weights must all be positive.")
    return weights


def parse_strength(text: str | None) -> float:
    """The style strength, 1 when absent; the engine's own sentence when out of range."""
    if text is None or not text.strip():
        return 1.0
    try:
        value = float(text)
    except ValueError:
        raise BadForm(f"Strength must be a number between 0 and 1, not “{text[:40]}”.") from None
    return check_strength(value)


def parse_flag(name: str, text: str | None) -> bool:
    """A yes/no field: 1/true/yes/on or 0/false/no/off (absent = no)."""
    value = (text or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadForm(f"{name} must be true or false, not “{value[:40]}”.")


def parse_max_size(text: str | None, default: int, largest: int) -> int:
    """The output's long side, from 1 to the configured largest; the default when absent."""
    if text is None or not text.strip():
        return default
    if not text.strip().isdigit() or not 1 <= int(text) <= largest:
        raise BadForm(f"max_size must be a whole number from 1 to {largest}, not “{text[:40]}”.")
    return int(text)


def parse_format(text: str | None) -> tuple[str, str]:
    """(Pillow format, Content-Type) for png, jpeg or webp; PNG when absent."""
    value = (text or "png").strip().lower()
    if value not in OUTPUT_FORMATS:
        raise BadForm(f"format must be png, jpeg or webp, not “{value[:40]}”.")
    return OUTPUT_FORMATS[value]


def order_from_form(
    parts: Sequence[FormPart], settings: Settings, catalog: PresetCatalog
) -> PaintOrder:
    """Check every part of the form (cheap checks only: images are decoded by the painter)."""
    content: bytes | None = None
    texts: dict[str, str] = {}
    styles: list[tuple[str, str | None, bytes | None]] = []  # (name, preset, data) in order
    for part in parts:
        name = _known(part.name)
        if name == "content":
            if content is not None:
                raise BadForm("Send one photo, as the form's content file.")
            content = bytes(part.data)
        elif name == "style":
            preset = catalog.get(part.text)
            styles.append((preset.slug, preset.slug, None))
        elif name == "style_image":
            label = part.filename or f"style image {len(styles) + 1}"
            styles.append((label, None, bytes(part.data)))
        elif name in texts:
            raise BadForm(f"The form field {name} is given twice.")
        else:
            texts[name] = part.text
    if content is None:
        raise BadForm("The form has no photo: send it as the content file.")
    if not content:
        raise BadForm("The photo is empty.")
    if not styles:
        raise BadForm("The form has no style: add a style (preset name) or a style_image file.")
    largest_count = settings.limits.max_styles
    if len(styles) > largest_count:
        raise BadForm(f"I can blend at most {largest_count} styles at once.")
    weights = parse_weights(texts.get("weights"), len(styles))
    limits = settings.limits
    options = StylizeOptions(
        strength=parse_strength(texts.get("strength")),
        keep_colours=parse_flag("keep_colors", texts.get("keep_colors")),
        max_side=parse_max_size(
            texts.get("max_size"), limits.default_output_side, limits.max_output_side
        ),
    )
    image_format, media_type = parse_format(texts.get("format"))
    return PaintOrder(
        content=content,
        styles=tuple(
            OrderStyle(name, weight, preset, data)
            for (name, preset, data), weight in zip(styles, weights, strict=True)
        ),
        options=options,
        image_format=image_format,
        media_type=media_type,
    )


@dataclass(frozen=True)
class PaintOutcome:
    """A painter's answer: the encoded painting, or the status and sentence of the user's error."""

    data: bytes = b""
    media_type: str = ""
    width: int = 0
    height: int = 0
    seconds: float = 0.0
    replica: str = ""
    node: str = ""
    status: int = 200
    error: str = ""
