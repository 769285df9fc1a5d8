"""looks_like_video: containers told by their first bytes."""

from bot.imaging.animation import looks_like_video
from tests.imaging.animation.clips import moving_frames, pillow_animation, video


def test_videos_are_told_by_content():
    frames = moving_frames(3, (32, 24))
    assert looks_like_video(video(frames, "mp4")).name == "MP4"
    assert looks_like_video(video(frames, "mov")).name == "MOV"
    assert looks_like_video(video(frames, "webm")).name == "WebM"


def test_images_and_still_heif_are_not_videos():
    assert looks_like_video(pillow_animation(moving_frames(2, (8, 8)), "GIF")) is None
    assert looks_like_video(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00") is None
    assert looks_like_video(b"\x00\x00\x00\x1cftypavif") is None
    assert looks_like_video(b"") is None
    assert looks_like_video(b"<html></html>") is None
