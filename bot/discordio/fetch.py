"""Fetch user images from Discord's CDN: host allow-list, no redirects, byte cap and time limit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import aiohttp
from yarl import URL

from bot.errors import ImageError, ImageTooLarge
from bot.imaging.limits import describe_bytes, describe_pixels

if TYPE_CHECKING:
    import discord

ALLOWED_HOSTS = frozenset({"cdn.discordapp.com", "media.discordapp.net"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
CHUNK_SIZE = 64 * 1024
_NOT_DISCORD = "I can only fetch images from Discord."
_HEADERS = {"Accept-Encoding": "identity", "Accept": "image/*"}
_NO_CLIENT_TIMEOUT = aiohttp.ClientTimeout()  # asyncio.timeout(policy.timeout) is the one limit


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one download; ``allow_http_loopback`` also admits http(s)://127.0.0.1|localhost
    (tests' fake CDN). Otherwise only https URLs on ``allowed_hosts`` (default port) pass."""

    max_bytes: int
    max_pixels: int
    timeout: float
    allowed_hosts: frozenset[str] = ALLOWED_HOSTS
    allow_http_loopback: bool = False

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_pixels", "timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"{name} must be a positive number, not {value!r}.")
        if not isinstance(self.allowed_hosts, frozenset):
            raise ValueError("allowed_hosts must be a frozenset of lower-case host names.")


class AttachmentLike(Protocol):
    """The attributes of ``discord.Attachment`` that ``check_attachment`` reads."""

    size: int
    content_type: str | None
    width: int | None
    height: int | None
    filename: str
    url: str


def is_allowed_url(url: str | URL, policy: FetchPolicy) -> bool:
    """Whether ``url`` may be fetched under ``policy`` (no user info, allowed scheme/host/port)."""
    return _parse(url, policy) is not None


def check_attachment(att: AttachmentLike, policy: FetchPolicy, *, what: str) -> None:
    """Refuse an attachment by its metadata, before downloading it; raise ImageError if unfit.

    Checked in this order: not an image by type (or no type and no dimensions), too many bytes,
    too many pixels, a URL that ``fetch_image_bytes`` would refuse.
    """
    kind = (att.content_type or "").split(";")[0].strip().lower()
    if kind and not kind.startswith("image/"):
        raise ImageError(f"The {what} is not an image (it is {_describe_type(kind)}).")
    if not kind and (att.width is None or att.height is None):
        raise ImageError(f"The {what} is not an image.")
    if att.size > policy.max_bytes:
        raise _too_many_bytes(what, att.size, policy.max_bytes)
    if att.width is not None and att.height is not None and (
        att.width * att.height > policy.max_pixels
    ):
        raise ImageTooLarge(
            f"The {what} is {att.width}×{att.height} pixels, more than the limit of "
            f"{describe_pixels(policy.max_pixels)}."
        )
    if not is_allowed_url(att.url, policy):
        raise ImageError(_NOT_DISCORD)


async def fetch_image_bytes(
    session: aiohttp.ClientSession, url: str, policy: FetchPolicy, *, what: str = "image"
) -> bytes:
    """Download ``url`` within ``policy``; every failure is an ImageError with one sentence."""
    target = _parse(url, policy)
    if target is None:
        raise ImageError(_NOT_DISCORD)
    try:
        async with asyncio.timeout(policy.timeout):
            return await _download(session, target, policy, what)
    except TimeoutError as exc:
        raise ImageError(f"Downloading the {what} took longer than {policy.timeout:g} s.") from exc
    except aiohttp.ClientPayloadError as exc:
        raise ImageError(f"Downloading the {what} broke off before the end.") from exc
    except aiohttp.ClientError as exc:
        raise ImageError(f"I could not download the {what}.") from exc


def avatar_url(member_or_user: discord.abc.User, size: int = 1024) -> str:
    """The PNG URL of a member's or user's shown avatar (server, own or default) at ``size``."""
    asset = member_or_user.display_avatar
    return asset.replace(size=size, format="png", static_format="png").url


async def _download(
    session: aiohttp.ClientSession, target: URL, policy: FetchPolicy, what: str
) -> bytes:
    async with session.get(
        target, allow_redirects=False, headers=_HEADERS, timeout=_NO_CLIENT_TIMEOUT
    ) as resp:
        if 300 <= resp.status < 400:
            raise ImageError(
                f"I did not download the {what} because its link redirects elsewhere, "
                "and I never follow redirects."
            )
        if resp.status != 200:
            raise ImageError(f"I could not download the {what} (Discord answered {resp.status}).")
        expected = resp.content_length
        if expected is not None and expected > policy.max_bytes:
            raise _too_many_bytes(what, expected, policy.max_bytes)
        body = bytearray()
        async for chunk in resp.content.iter_chunked(CHUNK_SIZE):
            body += chunk
            if len(body) > policy.max_bytes:
                raise ImageTooLarge(
                    f"The {what} is larger than the limit of {describe_bytes(policy.max_bytes)}."
                )
        encoded = resp.headers.get("Content-Encoding", "identity").lower() != "identity"
    if expected is not None and not encoded and len(body) != expected:
        raise ImageError(f"Downloading the {what} broke off before the end.")
    return bytes(body)


def _parse(url: str | URL, policy: FetchPolicy) -> URL | None:
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        return None
    if parsed.user is not None or parsed.password is not None or not parsed.host:
        return None
    if (parsed.scheme == "https" and parsed.host in policy.allowed_hosts
            and parsed.explicit_port in (None, 443)):
        return parsed
    loopback = parsed.scheme in ("http", "https") and parsed.host in LOOPBACK_HOSTS
    return parsed if policy.allow_http_loopback and loopback else None


def _too_many_bytes(what: str, size: int, limit: int) -> ImageTooLarge:
    shown, most = describe_bytes(size), describe_bytes(limit)
    if shown == most:  # e.g. 25 MB and a few bytes: "25 MB; the limit is 25 MB" would puzzle
        return ImageTooLarge(f"The {what} is larger than the limit of {most}.")
    return ImageTooLarge(f"The {what} is {shown}; the limit is {most}.")


def _describe_type(kind: str) -> str:
    """Name a MIME type for people: "a video", "a PDF document", "a “application/zip” file"."""
    major, _, minor = kind.partition("/")
    named = {"video": "a video", "audio": "an audio file", "text": "a text file", "font": "a font"}
    if major in named:
        return named[major]
    if minor == "pdf":
        return "a PDF document"
    shown = "".join(c for c in kind if c.isascii() and (c.isalnum() or c in "/.+-"))[:40]
    return f"a “{shown}” file" if "/" in shown else "some other kind of file"
