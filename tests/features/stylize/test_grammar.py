"""grammar.parse_words: presets, weights, options, mentions, and one-sentence errors."""

from __future__ import annotations

import re

import pytest

from bot.errors import StylebotError
from bot.features.stylize.grammar import ArgumentError, StylizeArgs, parse_words

MEMBER = 123456789012345678


def test_nothing_means_every_default():
    assert parse_words("") == StylizeArgs()
    assert parse_words("   \n\t ") == StylizeArgs()
    args = parse_words("")
    assert (args.strength, args.keep_colours, args.size) == (None, None, None)


def test_presets_are_lower_cased_in_order_with_weight_one():
    args = parse_words("Starry-Night great-wave  THE-SCREAM")
    assert args.styles == (("starry-night", 1.0), ("great-wave", 1.0), ("the-scream", 1.0))


def test_weights_after_a_colon():
    args = parse_words("starry-night:2 great-wave:0.5 udnie:1e1 nantes")
    assert args.styles == (("starry-night", 2.0), ("great-wave", 0.5), ("udnie", 10.0),
                           ("nantes", 1.0))


def test_only_the_last_colon_separates_the_weight():
    assert parse_words("my:style:3").styles == (("my:style", 3.0),)


def test_options_in_any_order_and_case():
    args = parse_words("size=1536 STRENGTH=0.7 starry-night Colors=KEEP")
    assert args == StylizeArgs(styles=(("starry-night", 1.0),), strength=0.7,
                               keep_colours=True, size=1536)


@pytest.mark.parametrize(("word", "keep"), [
    ("colors=keep", True), ("colours=keep", True), ("color=style", False),
    ("colour=style", False),
])
def test_colour_spellings(word, keep):
    assert parse_words(word).keep_colours is keep


@pytest.mark.parametrize("value", ["0", "1", "0.25", "1.0", ".5"])
def test_strength_bounds_are_inclusive(value):
    assert parse_words(f"strength={value}").strength == float(value)


def test_later_option_wins():
    assert parse_words("strength=0.2 strength=0.9").strength == 0.9


@pytest.mark.parametrize("mention", [f"<@{MEMBER}>", f"<@!{MEMBER}>"])
def test_member_mentions(mention):
    args = parse_words(f"udnie {mention}")
    assert args.member_ids == (MEMBER,)
    assert args.styles == (("udnie", 1.0),)


def test_several_mentions_keep_their_order():
    other = 987654321098765432
    assert parse_words(f"<@{other}> <@!{MEMBER}>").member_ids == (other, MEMBER)


@pytest.mark.parametrize("word", ["<@&123456789012345678>", "<@12345>", "@everyone"])
def test_role_mentions_and_short_ids_are_not_members(word):
    args = parse_words(word)
    assert args.member_ids == ()
    assert args.styles == ((word.lower(), 1.0),)  # later an unknown preset, one sentence


def test_a_mention_glued_to_other_text_is_no_member():
    assert parse_words(f"x<@{MEMBER}>").member_ids == ()


@pytest.mark.parametrize(("words", "message"), [
    ("starry-night:0", "The weight of starry-night must be more than 0."),
    ("starry-night:-1", "The weight of starry-night must be more than 0."),
    ("starry-night:1e-400", "The weight of starry-night must be more than 0."),
    ("starry-night:two", "The weight of starry-night must be a number, not “two”."),
    ("starry-night:", "The weight of starry-night must be a number, not “”."),
    ("starry-night:nan", "The weight of starry-night must be a number, not “nan”."),
    ("starry-night:inf", "The weight of starry-night must be a number, not “inf”."),
    ("starry-night:1e400", "The weight of starry-night must be a number, not “1e400”."),
    (":2", "Put a style name before its weight, e.g. starry-night:2."),
    ("strength=1.5", "Strength must be between 0 and 1, e.g. strength=0.6."),
    ("strength=-0.1", "Strength must be between 0 and 1, e.g. strength=0.6."),
    ("strength=lots", "Strength must be a number, not “lots”."),
    ("strength=nan", "Strength must be a number, not “nan”."),
    ("strength=", "Strength must be a number, not “”."),
    ("colors=blue", "Colors must be keep or style, e.g. colors=keep."),
    ("size=big", "Size must be a whole number of pixels, e.g. size=1536."),
    ("size=-5", "Size must be a whole number of pixels, e.g. size=1536."),
    ("size=1.5", "Size must be a whole number of pixels, e.g. size=1536."),
    ("size=0", "Size must be a whole number of pixels, e.g. size=1536."),
    ("size=²", "Size must be a whole number of pixels, e.g. size=1536."),
    ("size=١٢٣", "Size must be a whole number of pixels, e.g. size=1536."),
    ("speed=11", "I don't know the option “speed”; options are strength=0..1, "
                 "colors=keep|style and size=PIXELS."),
])
def test_bad_words_raise_one_sentence(words, message):
    with pytest.raises(ArgumentError) as caught:
        parse_words(f"udnie {words}")
    assert caught.value.message == message
    assert isinstance(caught.value, StylebotError)
    assert_one_sentence(caught.value.message)


@pytest.mark.parametrize("words", [
    "a:" + "9" * 500, "x" * 500 + ":y", "strength=" + "z" * 500, "k" * 500 + "=1",
])
def test_long_inputs_are_cut_short_in_the_message(words):
    with pytest.raises(ArgumentError) as caught:
        parse_words(words)
    assert len(caught.value.message) < 200
    assert_one_sentence(caught.value.message)


def test_the_first_bad_word_is_reported():
    with pytest.raises(ArgumentError, match="^Strength"):
        parse_words("strength=9 size=big")


def assert_one_sentence(text: str) -> None:
    assert "\n" not in text and text[-1] in ".?!", text
    assert text[0].isupper() or text[0] in "“", text
    assert not re.search(r"[.?!]\s+[A-Z]", text[:-1]), text
