"""A stylize form checked into a paint order: the styles, their weights and the options."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.assets import PresetCatalog
from bot.config import Settings
from bot.engine.base import check_strength
from bot.service.errors import BadForm
from bot.service.form import FormPart
from bot.stylization import StylizeOptions, parse_weights

TEXT_FIELDS = (
    "weights", "strength", "keep_colors", "max_size", "format", "max_bytes", "progress"
)
FIELDS = ("content", "style", "style_image", *TEXT_FIELDS)
ALIASES = {"keep_colours": "keep_colors"}
# format field -> (Pillow format, Content-Type)
OUTPUT_FORMATS = {
    "png": ("PNG", "image/png"),
    "jpeg": ("JPEG", "image/jpeg"),
    "jpg": ("JPEG", "image/jpeg"),
    "webp": ("WEBP", "image/webp"),
}
# format field -> the animation's format ("GIF", "MP4", "WEBP"; see bot.imaging.animation)
ANIMATION_FORMATS = {"gif": "GIF", "mp4": "MP4", "webp": "WEBP"}
MEDIA_TYPE_OF_ANIMATION = {"GIF": "image/gif", "MP4": "video/mp4", "WEBP": "image/webp"}
STILL_FORMATS_SENTENCE = "format must be png, jpeg or webp"
MAX_BYTES_LARGEST = 1 << 31
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
    """What a painter replica needs to paint one request, checked from its form."""

    content: bytes
    styles: tuple[OrderStyle, ...]
    options: StylizeOptions
    image_format: str  # a still's format, Pillow's name: PNG, JPEG or WEBP
    media_type: str
    format_name: str = ""  # the format field as given ("" when absent), for an animation
    max_bytes: int | None = None  # an animation encoded to fit: GIF, else MP4, else smaller
    progress: bool = False  # answer with a multipart/mixed stream of progress parts

    @property
    def wants_still(self) -> bool:
        """Whether a still is asked for (png or jpeg): an animated GIF's first frame, as before."""
        return self.format_name in ("png", "jpeg", "jpg")

    def animation_format(self, default: str) -> str:
        """An animation's format: the format field's (GIF, MP4 or WEBP), else `default`."""
        return ANIMATION_FORMATS.get(self.format_name, default)

    def still_format(self) -> tuple[str, str]:
        """(Pillow format, Content-Type) for a still photo; gif and mp4 are for animations."""
        if self.format_name in ("gif", "mp4"):
            raise BadForm(f"{STILL_FORMATS_SENTENCE}, not “{self.format_name}”.")
        return self.image_format, self.media_type


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


def weights_field(text: str | None, count: int) -> list[float]:
    """The weights field (`2,1`) as one positive weight per style (all 1 when absent)."""
    if text is None or not text.strip():
        return [1.0] * count
    try:
        return parse_weights(text, count, field="weights", shown=f"“{text[:40]}”")
    except ValueError as error:
        raise BadForm(str(error)) from None


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


def parse_format(text: str | None) -> tuple[str, str, str]:
    """(Pillow format, Content-Type, the name given or "") for png, jpeg or webp (PNG when
    absent), or gif or mp4, which only an animation may ask for (the painter checks)."""
    value = (text or "").strip().lower()
    if value in ANIMATION_FORMATS and value not in OUTPUT_FORMATS:
        return "PNG", "image/png", value
    if value not in OUTPUT_FORMATS and value:
        raise BadForm(
            f"{STILL_FORMATS_SENTENCE} (gif, mp4 or webp for an animation), not “{value[:40]}”."
        )
    image_format, media_type = OUTPUT_FORMATS[value or "png"]
    return image_format, media_type, value


def parse_max_bytes(text: str | None) -> int | None:
    """The most bytes an animation may take (encoded to fit); None when absent."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    if not value.isdigit() or not 1024 <= int(value) <= MAX_BYTES_LARGEST:
        raise BadForm(
            f"max_bytes must be a whole number from 1024 to {MAX_BYTES_LARGEST}, "
            f"not “{value[:40]}”."
        )
    return int(value)


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
    weights = weights_field(texts.get("weights"), len(styles))
    limits = settings.limits
    options = StylizeOptions(
        strength=parse_strength(texts.get("strength")),
        keep_colours=parse_flag("keep_colors", texts.get("keep_colors")),
        max_side=parse_max_size(
            texts.get("max_size"), limits.default_output_side, limits.max_output_side
        ),
    )
    image_format, media_type, format_name = parse_format(texts.get("format"))
    max_bytes = parse_max_bytes(texts.get("max_bytes"))
    if max_bytes is not None and format_name:
        raise BadForm("Send either format or max_bytes: max_bytes picks the format that fits.")
    return PaintOrder(
        content=content,
        styles=tuple(
            OrderStyle(name, weight, preset, data)
            for (name, preset, data), weight in zip(styles, weights, strict=True)
        ),
        options=options,
        image_format=image_format,
        media_type=media_type,
        format_name=format_name,
        max_bytes=max_bytes,
        progress=parse_flag("progress", texts.get("progress")),
    )


@dataclass(frozen=True)
class PaintOutcome:
    """A painting: the encoded bytes and what the answer's headers say about them."""

    data: bytes = b""
    media_type: str = ""
    width: int = 0
    height: int = 0
    seconds: float = 0.0  # painting seconds on the replica (decode, paint, encode)
    frames: int = 0  # an animation's painted frames (0 for a still)
    duration: float = 0.0  # an animation's length in seconds
    note: str = ""  # what was trimmed or changed, e.g. "painted the first 120 frames of 300"
    replica: str = ""
    node: str = ""
