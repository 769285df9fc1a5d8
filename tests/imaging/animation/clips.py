"""Small test clips made on the spot: a still photo with a red square sliding across it."""

from __future__ import annotations

import io
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
#: Container and codec per video kind (odd sizes: VP9 4:2:0, H.264 4:4:4).
VIDEO_FORMATS = {
    "mp4": ("mp4", "libx264"), "mov": ("mov", "libx264"), "webm": ("webm", "libvpx-vp9"),
}


def background(size: tuple[int, int], photo: str = "chelsea") -> np.ndarray:
    """An example photo resized to `size`, as HxWx3 uint8."""
    with Image.open(EXAMPLES / f"{photo}.jpg") as image:
        return np.asarray(image.convert("RGB").resize(size, Image.Resampling.LANCZOS))


def moving_frames(count: int, size: tuple[int, int] = (96, 64), step: int = 3) -> list[np.ndarray]:
    """`count` frames: the photo, still, with a red square moving `step` px right each frame."""
    width, height = size
    base = background(size)
    side = max(4, min(width, height) // 4)
    frames = []
    for index in range(count):
        frame = base.copy()
        left = (index * step) % max(1, width - side)
        top = height // 3
        frame[top:top + side, left:left + side] = (230, 30, 40)
        frames.append(frame)
    return frames


def still_mask(count: int, size: tuple[int, int] = (96, 64), margin: int = 12) -> np.ndarray:
    """Pixels the square of moving_frames never comes within `margin` px of (the still area)."""
    width, height = size
    side = max(4, min(width, height) // 4)
    top = height // 3
    mask = np.ones((height, width), dtype=bool)
    mask[max(0, top - margin):top + side + margin, :] = False
    return mask


def pillow_animation(
    frames: list[np.ndarray], fmt: str, durations: int | list[int] = 40, loop: int | None = 0,
    **options: Any,
) -> bytes:
    """`frames` saved as an animated "GIF", "PNG" (APNG) or "WEBP"."""
    images = [Image.fromarray(f) for f in frames]
    if loop is not None:
        options["loop"] = loop
    if fmt == "WEBP":
        options.setdefault("quality", 90)
    buffer = io.BytesIO()
    images[0].save(buffer, fmt, save_all=True, append_images=images[1:], duration=durations,
                   **options)
    return buffer.getvalue()


def video(
    frames: list[np.ndarray], kind: str = "mp4", fps: int | Fraction = 24, *,
    audio: bool = False, faststart: bool = False, rotation: int = 0,
) -> bytes:
    """`frames` encoded as a "mp4", "mov" or "webm" video at `fps` (optionally with a tone)."""
    import av

    fmt, codec = VIDEO_FORMATS[kind]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"clip.{kind}"
        options = {"movflags": "faststart"} if faststart else {}
        with av.open(str(path), "w", format=fmt, options=options) as container:
            stream = None
            if frames:
                stream = container.add_stream(codec, rate=fps)
                height, width = frames[0].shape[:2]
                stream.width, stream.height = width, height
                stream.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
                if codec == "libvpx-vp9":
                    stream.pix_fmt = "yuv420p"
                    stream.options = {"deadline": "realtime", "cpu-used": "8"}
                else:
                    stream.options = {"preset": "ultrafast"}
                if rotation:
                    stream.set_display_rotation(rotation)  # as phones flag portrait clips
            if audio:
                _tone(container, seconds=max(1.0, len(frames) / float(fps)))
            for index, pixels in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                frame.pts = index
                container.mux(stream.encode(frame))
            if stream is not None:
                container.mux(stream.encode(None))
        return path.read_bytes()


def _tone(container: Any, seconds: float) -> None:
    import av

    stream = container.add_stream("aac", rate=16000)
    stream.layout = "mono"
    samples = int(16000 * seconds)
    wave = (0.2 * np.sin(np.arange(samples) * 2 * np.pi * 440 / 16000)).astype(np.float32)
    for start in range(0, samples, 1024):
        chunk = wave[start:start + 1024][np.newaxis]
        frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
        frame.sample_rate = 16000
        frame.pts = start
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def audio_only(seconds: float = 1.0, kind: str = "mp4") -> bytes:
    """A video file with sound and no picture."""
    return video([], kind, audio=True, fps=24) if seconds else b""


def long_gif(count: int, size: tuple[int, int] = (16, 12), duration: int = 40) -> bytes:
    """A GIF of `count` frames in milliseconds: the frame blocks of a small Pillow GIF repeated
    (Pillow itself takes ~25 s to write 10 000 frames)."""
    data = pillow_animation(moving_frames(3, size), "GIF", durations=duration, loop=0,
                            optimize=False)
    starts = [i for i in range(len(data) - 2) if data[i:i + 3] == b"\x21\xf9\x04"]
    assert len(starts) == 3, "unexpected GIF layout"
    head, first = data[:starts[0]], data[starts[0]:starts[1]]
    others = data[starts[1]:starts[2]], data[starts[2]:-1]
    return head + first + (others[0] + others[1]) * ((count - 1) // 2) + (
        others[0] if (count - 1) % 2 else b"") + b";"
