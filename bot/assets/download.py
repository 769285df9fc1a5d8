"""Download one file atomically: stream to a temp file, check size and SHA-256, then rename."""

from __future__ import annotations

import asyncio
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import urlsplit

from tqdm import tqdm

from bot import __version__
from bot.atomic import atomic_write
from bot.errors import AssetError

if TYPE_CHECKING:  # aiohttp costs ~0.2 s to import; only downloads need it
    import aiohttp

USER_AGENT = (
    f"stylebot/{__version__} (https://github.com/stylebot/stylebot; Discord style-transfer bot)"
)
CHUNK_SIZE = 64 * 1024
STALL_TIMEOUT = 30.0  # longest wait for the next bytes; capped by the whole-transfer timeout


class _Failed(Exception):
    """Internal: the reason a download failed, worded as the end of a user-facing sentence."""


@dataclass
class _Transfer:
    received: int = 0
    expected: int | None = None


async def download_file(
    session: aiohttp.ClientSession,
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    timeout: float = 60.0,
    max_bytes: int | None = None,
    progress: bool = False,
    headers: dict | None = None,
) -> Path:
    """Fetch url into dest; on any failure leave nothing behind and raise AssetError."""
    import aiohttp

    dest = Path(dest)
    stall = min(timeout, STALL_TIMEOUT)
    state = _Transfer()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AssetError(f"Downloading {dest.name} failed: cannot write to {dest.parent}.") from exc
    try:
        with atomic_write(dest) as out:
            async with asyncio.timeout(timeout):
                await _stream(
                    session, url, out, state, sha256, stall, max_bytes, progress, headers, dest.name
                )
    except (_Failed, TimeoutError, aiohttp.ClientError, OSError) as exc:
        why = _reason(exc, state, url, dest.parent, timeout, stall)
        raise AssetError(f"Downloading {dest.name} failed: {why}") from exc
    return dest


def _reason(
    exc: Exception, state: _Transfer, url: str, folder: Path, timeout: float, stall: float
) -> str:
    """Word why a download failed, as the end of one sentence."""
    import aiohttp

    if isinstance(exc, _Failed):
        return str(exc)
    if isinstance(exc, aiohttp.ServerTimeoutError):  # connect or read stall, before TimeoutError
        return f"the server sent nothing for {stall:g} s."
    if isinstance(exc, TimeoutError):
        return f"it did not finish within {timeout:g} s."
    if isinstance(exc, aiohttp.ClientPayloadError):
        if state.expected is not None:
            return f"the server sent {state.received} of {state.expected} bytes."
        return f"the connection broke after {state.received} bytes."
    if isinstance(exc, aiohttp.ClientError):
        return f"could not talk to {urlsplit(url).hostname or url} ({type(exc).__name__})."
    return f"cannot write to {folder} ({getattr(exc, 'strerror', None) or type(exc).__name__})."


async def _stream(
    session: aiohttp.ClientSession,
    url: str,
    out: BinaryIO,
    state: _Transfer,
    sha256: str | None,
    stall: float,
    max_bytes: int | None,
    progress: bool,
    headers: dict | None,
    label: str,
) -> None:
    """Write the body of url to out, enforcing status, size, length and checksum."""
    import aiohttp

    request_headers = {"Accept-Encoding": "identity", **(headers or {}), "User-Agent": USER_AGENT}
    client_timeout = aiohttp.ClientTimeout(total=None, sock_connect=stall, sock_read=stall)
    digest = hashlib.sha256()
    async with session.get(url, headers=request_headers, timeout=client_timeout) as resp:
        if resp.status != 200:
            raise _Failed(f"the server answered {resp.status}.")
        state.expected = resp.content_length
        if max_bytes is not None and state.expected is not None and state.expected > max_bytes:
            raise _Failed(f"the file is {state.expected} bytes, more than the {max_bytes} allowed.")
        bar = tqdm(
            total=state.expected,
            desc=label,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=sys.stderr,
            disable=not progress,
            leave=False,
        )
        with bar:
            async for chunk in resp.content.iter_chunked(CHUNK_SIZE):
                state.received += len(chunk)
                if max_bytes is not None and state.received > max_bytes:
                    raise _Failed(f"the file is larger than the {max_bytes} bytes allowed.")
                digest.update(chunk)
                out.write(chunk)
                bar.update(len(chunk))
        encoded = resp.headers.get("Content-Encoding", "identity").lower() != "identity"
    if state.expected is not None and not encoded and state.received != state.expected:
        raise _Failed(f"the server sent {state.received} of {state.expected} bytes.")
    if sha256 is not None and digest.hexdigest() != sha256.lower():
        raise _Failed("its SHA-256 checksum does not match the expected one.")
