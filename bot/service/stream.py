"""Multipart/mixed framing (RFC 2046) of the progress stream: boundary, parts, closing line."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping


def new_boundary() -> str:
    """A random boundary (32 hex digits): no painting's bytes will contain it by chance."""
    return "stylebot-" + secrets.token_hex(16)


def stream_content_type(boundary: str) -> str:
    """The Content-Type of the whole stream."""
    return f"multipart/mixed; boundary={boundary}"


def part(boundary: str, headers: Mapping[str, str], body: bytes) -> bytes:
    """One part: the boundary line, its headers with the body's Content-Length, an empty line,
    the body, CRLF. The length lets a reader take the part the moment it arrives (a plain
    multipart reader waits for the next boundary, so progress would lag a frame behind)."""
    sized = {**headers, "Content-Length": str(len(body))}
    head = "".join(f"{name}: {value}\r\n" for name, value in sized.items())
    return f"--{boundary}\r\n{head}\r\n".encode("latin-1") + body + b"\r\n"


def json_part(boundary: str, value: object) -> bytes:
    """A part holding one JSON value (progress, or a failure found while painting)."""
    return part(
        boundary, {"Content-Type": "application/json"}, json.dumps(value).encode("utf-8")
    )


def closing(boundary: str) -> bytes:
    """The stream's last line."""
    return f"--{boundary}--\r\n".encode("latin-1")
