"""Animations: GIF, APNG, WebP and MP4/WebM/MOV frames streamed in; painted clips encoded."""

from bot.imaging.animation.clip import (
    DEFAULT_FRAME_MS,
    AnimationLimits,
    Frame,
    PaintedClip,
)
from bot.imaging.animation.encode import (
    ANIMATION_FORMATS,
    ANIMATION_SUFFIXES,
    DEFAULT_FORMAT_OF_KIND,
    SUFFIX_OF,
    encode_animation,
    format_for_suffix,
    save_animation_atomic,
)
from bot.imaging.animation.fit import FittedAnimation, encode_to_fit
from bot.imaging.animation.open import Animation, open_animation
from bot.imaging.animation.sniff import looks_like_video
from bot.imaging.animation.stability import Steadier, flicker

__all__ = [
    "ANIMATION_FORMATS",
    "ANIMATION_SUFFIXES",
    "DEFAULT_FORMAT_OF_KIND",
    "DEFAULT_FRAME_MS",
    "SUFFIX_OF",
    "Animation",
    "AnimationLimits",
    "FittedAnimation",
    "Frame",
    "PaintedClip",
    "Steadier",
    "encode_animation",
    "encode_to_fit",
    "flicker",
    "format_for_suffix",
    "looks_like_video",
    "open_animation",
    "save_animation_atomic",
]
