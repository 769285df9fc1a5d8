"""Send stylize forms to the service over real HTTP and read the answers."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from PIL import Image

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
Field = tuple[str, bytes | str, str | None]  # (name, value, file name or None for text)


@dataclass
class Answer:
    """One HTTP answer: status, headers and body."""

    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes

    @property
    def error(self) -> str:
        import json

        return json.loads(self.body)["error"]

    def image(self) -> Image.Image:
        image = Image.open(io.BytesIO(self.body))
        image.load()
        return image


def photo_bytes(name: str = "chelsea") -> bytes:
    return (EXAMPLES / f"{name}.jpg").read_bytes()


def form(*fields: Field) -> aiohttp.FormData:
    data = aiohttp.FormData()
    for name, value, filename in fields:
        if filename is None:
            data.add_field(name, value)
        else:
            data.add_field(name, value, filename=filename, content_type="application/octet-stream")
    return data


async def post(http: aiohttp.ClientSession, url: str, *fields: Field) -> Answer:
    async with http.post(f"{url}/v1/stylize", data=form(*fields)) as response:
        return Answer(response.status, response.headers.copy(), await response.read())


async def stylize(http: aiohttp.ClientSession, url: str, *fields: Field) -> Answer:
    """A form with the example photo first, then the given fields."""
    return await post(http, url, ("content", photo_bytes(), "chelsea.jpg"), *fields)


def multipart(fields: list[tuple[str, bytes, str | None]]) -> tuple[bytes, str]:
    """A multipart/form-data body made by hand, and its Content-Type."""
    boundary = "stylebot-test-boundary"
    body = b""
    for name, value, filename in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += value + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"
