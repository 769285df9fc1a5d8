"""The `!stylize` words: styles with optional weights, key=value options and member mentions.

Grammar (order is free, words are separated by spaces)::

    !stylize [STYLE[:WEIGHT] ...] [strength=0..1] [colors=keep|style] [size=PX] [@member]

STYLE is a preset name; WEIGHT a positive number (default 1), e.g. `starry-night:2 great-wave`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import StylebotError

MENTION = re.compile(r"<@!?(\d{15,21})>")
OPTION_HELP = "options are strength=0..1, colors=keep|style and size=PIXELS"


class ArgumentError(StylebotError):
    """The words after `!stylize` could not be understood."""


@dataclass(frozen=True)
class StylizeArgs:
    """What the words asked for; None means 'not given, use the default'."""

    styles: tuple[tuple[str, float], ...] = ()
    strength: float | None = None
    keep_colours: bool | None = None
    size: int | None = None
    member_ids: tuple[int, ...] = ()


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ArgumentError(f"{what} must be a number, not “{text[:40]}”.") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ArgumentError(f"{what} must be a number, not “{text[:40]}”.")
    return value


def _option(key: str, value: str, found: dict) -> None:
    if key == "strength":
        strength = _number(value, "Strength")
        if not 0 <= strength <= 1:
            raise ArgumentError("Strength must be between 0 and 1, e.g. strength=0.6.")
        found["strength"] = strength
    elif key in ("colors", "colours", "color", "colour"):
        if value not in ("keep", "style"):
            raise ArgumentError("Colors must be keep or style, e.g. colors=keep.")
        found["keep_colours"] = value == "keep"
    elif key == "size":
        if not (value.isascii() and value.isdigit()) or int(value) == 0:  # not "²" or "0"
            raise ArgumentError("Size must be a whole number of pixels, e.g. size=1536.")
        found["size"] = int(value)
    else:
        raise ArgumentError(f"I don't know the option “{key[:40]}”; {OPTION_HELP}.")


def parse_words(text: str) -> StylizeArgs:
    """Parse the text after the command name; raises ArgumentError with one sentence."""
    styles: list[tuple[str, float]] = []
    members: list[int] = []
    found: dict = {}
    for word in text.split():
        mention = MENTION.fullmatch(word)
        if mention:
            members.append(int(mention.group(1)))
        elif "=" in word:
            key, _, value = word.partition("=")
            _option(key.lower(), value.lower(), found)
        elif ":" in word:
            name, _, weight_text = word.rpartition(":")
            if not name:
                raise ArgumentError("Put a style name before its weight, e.g. starry-night:2.")
            weight = _number(weight_text, f"The weight of {name[:40]}")
            if weight <= 0:
                raise ArgumentError(f"The weight of {name[:40]} must be more than 0.")
            styles.append((name.lower(), weight))
        else:
            styles.append((word.lower(), 1.0))
    return StylizeArgs(styles=tuple(styles), member_ids=tuple(members), **found)
