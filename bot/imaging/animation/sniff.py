"""Tell a video container from its first bytes (never from a file name)."""

from __future__ import annotations

from dataclasses import dataclass

#: ISO base media brands of still pictures (HEIF, AVIF): those are not videos.
_STILL_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif"})
#: Top-level QuickTime atoms an old .mov may begin with instead of `ftyp`.
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_EBML = b"\x1a\x45\xdf\xa3"


@dataclass(frozen=True)
class VideoKind:
    """A recognised container: its name for people and the FFmpeg demuxer that reads it."""

    name: str  # "MP4", "MOV", "WebM" or "Matroska"
    demuxer: str


def looks_like_video(data: bytes) -> VideoKind | None:
    """The container `data` starts like (MP4, MOV, WebM, Matroska), or None."""
    head = bytes(data[:64])
    box = head[4:8]
    if box == b"ftyp":
        brand = head[8:12]
        if brand in _STILL_BRANDS:
            return None
        return VideoKind("MOV" if brand == b"qt  " else "MP4", "mov")
    if box in _QUICKTIME_ATOMS and len(head) >= 8:
        return VideoKind("MOV", "mov")
    if head.startswith(_EBML):
        return VideoKind("WebM" if b"webm" in head else "Matroska", "matroska")
    return None
