"""encode_to_fit: GIF when it fits, else MP4, else a smaller MP4."""

import pytest

from bot.errors import ImageError
from bot.imaging.animation import PaintedClip, encode_animation, encode_to_fit
from tests.imaging.animation.clips import moving_frames


def clip() -> PaintedClip:
    return PaintedClip(moving_frames(12, (160, 120)), [50.0] * 12, 0)


def test_gif_when_it_fits_else_mp4_else_smaller():
    gif = encode_animation(clip(), "GIF")
    mp4 = encode_animation(clip(), "MP4")
    assert len(mp4) < len(gif)
    fitted = encode_to_fit(clip(), len(gif))
    assert (fitted.fmt, fitted.size, fitted.suffix) == ("GIF", (160, 120), ".gif")
    fitted = encode_to_fit(clip(), len(gif) - 1)
    assert fitted.fmt == "MP4" and len(fitted.data) < len(gif) and fitted.size == (160, 120)
    fitted = encode_to_fit(clip(), len(mp4) // 3)
    assert fitted.fmt == "MP4" and fitted.size[0] < 160 and len(fitted.data) <= len(mp4) // 3


def test_an_impossible_limit_is_one_sentence():
    with pytest.raises(ImageError, match=r"^The painted animation does not fit in 100 bytes"):
        encode_to_fit(clip(), 100)
