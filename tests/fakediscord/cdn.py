"""CDN side of the fake: stored attachment/avatar bytes, served with optional faults."""

from __future__ import annotations

import asyncio
import mimetypes
import struct
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .faults import Faults


@dataclass
class Blob:
    """Stored bytes and the Content-Type the CDN answers with."""

    data: bytes
    content_type: str


class CdnStore:
    """Bytes keyed by name, evicting the oldest once `max_bytes` is exceeded."""

    def __init__(self, max_bytes: int = 512 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._blobs: OrderedDict[str, Blob] = OrderedDict()
        self._total = 0

    def put(self, key: str, data: bytes, content_type: str | None) -> None:
        """Store `data` under `key` (e.g. "att:<attachment id>")."""
        if key in self._blobs:
            self._total -= len(self._blobs.pop(key).data)
        self._blobs[key] = Blob(bytes(data), content_type or "application/octet-stream")
        self._total += len(data)
        while self._total > self.max_bytes and len(self._blobs) > 1:
            _, old = self._blobs.popitem(last=False)
            self._total -= len(old.data)

    def get(self, key: str) -> Blob | None:
        """The blob stored under `key`, if any."""
        return self._blobs.get(key)

    def remove(self, key: str) -> None:
        """Forget `key` (later downloads get 404)."""
        blob = self._blobs.pop(key, None)
        if blob is not None:
            self._total -= len(blob.data)


def guess_content_type(filename: str, data: bytes = b"") -> str | None:
    """Content type from magic bytes, else from the file extension."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return mimetypes.guess_type(filename)[0]


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF, JPEG or WebP from its header, else None."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", data[6:10])
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            kind = data[12:16]
            if kind == b"VP8X":
                w = int.from_bytes(data[24:27], "little") + 1
                h = int.from_bytes(data[27:30], "little") + 1
                return w, h
            if kind == b"VP8L":
                bits = int.from_bytes(data[21:25], "little")
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            if kind == b"VP8 ":
                w, h = struct.unpack("<HH", data[26:30])
                return w & 0x3FFF, h & 0x3FFF
        if data.startswith(b"\xff\xd8"):
            i = 2
            while i + 9 < len(data):
                if data[i] != 0xFF:
                    i += 1
                    continue
                marker = data[i + 1]
                if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                    i += 1 if marker == 0xFF else 2
                    continue
                length = struct.unpack(">H", data[i + 2:i + 4])[0]
                if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                    h, w = struct.unpack(">HH", data[i + 5:i + 9])
                    return w, h
                i += 2 + length
    except struct.error:
        return None
    return None


async def serve(request: web.Request, store: CdnStore, faults: Faults,
                key: str) -> web.StreamResponse:
    """Answer a CDN GET/HEAD for the blob stored under `key`, applying the CDN faults."""
    if faults.cdn_delay:
        await asyncio.sleep(faults.cdn_delay)
    status = faults.take_cdn_status()
    if status is not None:
        return web.Response(status=status, text=f"fake CDN fault {status}")
    blob = store.get(key)
    if blob is None:
        return web.Response(status=404, text="Not Found")
    if request.method == "HEAD":
        return web.Response(headers={"Content-Type": blob.content_type,
                                     "Content-Length": str(len(blob.data))})
    if faults.cdn_trickle is None and faults.cdn_truncate_at is None:
        return web.Response(body=blob.data, headers={"Content-Type": blob.content_type})
    response = web.StreamResponse(headers={"Content-Type": blob.content_type})
    response.content_length = len(blob.data)
    await response.prepare(request)
    data = blob.data
    if faults.cdn_truncate_at is not None:
        data = data[: faults.cdn_truncate_at]
    rate = faults.cdn_trickle
    step = max(1, rate // 20) if rate else 65536
    try:
        for i in range(0, len(data), step):
            await response.write(data[i:i + step])
            if rate:
                await asyncio.sleep(step / rate)
    except ConnectionResetError:  # the client gave up mid-body (e.g. its download timeout)
        return response
    if faults.cdn_truncate_at is not None and faults.cdn_truncate_at < len(blob.data):
        if request.transport is not None:
            request.transport.close()
        return response
    await response.write_eof()
    return response
