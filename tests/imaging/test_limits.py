"""ImageLimits validation and the human-readable descriptions of limits."""

import dataclasses

import pytest

from bot.imaging import MAX_OUTPUT_SIDE, ImageLimits, describe_bytes, describe_pixels


def test_defaults():
    limits = ImageLimits()
    assert limits.max_input_bytes == 25 * 1024 * 1024
    assert limits.max_input_pixels == 40_000_000
    assert limits.max_output_side == 1024
    assert MAX_OUTPUT_SIDE == 2048


def test_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ImageLimits().max_output_side = 512


@pytest.mark.parametrize("side", [64, 1024, 2048])
def test_output_side_bounds_are_inclusive(side):
    assert ImageLimits(max_output_side=side).max_output_side == side


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_input_bytes", 0),
        ("max_input_bytes", -1),
        ("max_input_pixels", 0),
        ("max_output_side", 0),
        ("max_output_side", 63),
        ("max_output_side", 2049),
        ("max_input_bytes", 1.5),
        ("max_input_pixels", "40"),
        ("max_output_side", True),
    ],
)
def test_invalid_values_raise_value_error_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        ImageLimits(**{field: value})


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (1, "1 byte"),
        (300, "300 bytes"),
        (1024, "1 KB"),
        (1536, "1.5 KB"),
        (25 * 1024 * 1024, "25 MB"),
        (int(2.25 * 1024 * 1024), "2.2 MB"),
    ],
)
def test_describe_bytes(count, text):
    assert describe_bytes(count) == text


@pytest.mark.parametrize(
    ("count", "text"),
    [(1, "1 pixel"), (900, "900 pixels"), (40_000_000, "40 megapixels"),
     (1_500_000, "1.5 megapixels")],
)
def test_describe_pixels(count, text):
    assert describe_pixels(count) == text


def test_defaults_and_bounds_come_from_bot_defaults():
    """Issue 9: the numbers are written once, in bot/defaults.py, shared with bot/config.py."""
    import bot.defaults
    import bot.imaging.limits

    assert ImageLimits() == ImageLimits(
        bot.defaults.MAX_INPUT_BYTES, bot.defaults.MAX_INPUT_PIXELS, bot.defaults.OUTPUT_SIDE
    )
    assert bot.imaging.limits.MIN_OUTPUT_SIDE is bot.defaults.MIN_OUTPUT_SIDE
    assert MAX_OUTPUT_SIDE is bot.defaults.MAX_OUTPUT_SIDE
