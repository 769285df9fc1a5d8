"""The service's HTTP client (aiohttp, no Ray): stylize with retries, presets, health.

A painting request is idempotent, so connection errors, 5xx answers (a replica that dies
mid-request shows up as one) and timeouts are retried with backoff, bounded by a retry count
and a total timeout; a 4xx is the user's error and comes back as its one sentence.
"""

from __future__ import annotations

import asyncio
import email.message
import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from multidict import CIMultiDict

from bot.errors import StylebotError
from bot.service.errors import NOT_ANSWERING, ServiceUnavailable

HEADER_PREFIX = "X-Stylebot-"
#: progress(frames painted so far, frames expected in all), called on the event loop
Progress = Callable[[int, int], None]
STREAM_CUT = "The painting service stopped answering part-way through."


class ServiceRefused(StylebotError):
    """The service refused the request (4xx); the message is its sentence for the user."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ServiceStyle:
    """One style of a request: a preset name or an image's bytes, and its weight."""

    preset: str | None = None
    image: bytes | None = None
    weight: float = 1.0
    filename: str = "style.png"

    def __post_init__(self) -> None:
        if (self.preset is None) == (self.image is None):
            raise ValueError("A ServiceStyle is either a preset or an image.")


@dataclass(frozen=True)
class ServicePainting:
    """The service's answer: the encoded image and what it says about it."""

    data: bytes
    media_type: str
    width: int
    height: int
    seconds: float  # painting seconds on the replica (decode, paint, encode)
    replica: str
    node: str
    attempts: int  # 1 when the first try succeeded
    frames: int = 0  # an animation's painted frames (0 for a still)
    duration: float = 0.0  # an animation's length in seconds
    note: str = ""  # what was trimmed, e.g. "painted the first 120 frames of 300"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts after the first, the first pause (doubled each time, with
    jitter, at most max_backoff), and the whole budget in seconds."""

    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    total_timeout: float = 120.0


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class ServiceClient:
    """Talks to one painting service (e.g. http://host:8000) through an aiohttp session."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, policy: RetryPolicy | None = None
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()

    async def stylize(
        self,
        content: bytes,
        styles: Sequence[ServiceStyle],
        *,
        strength: float | None = None,
        keep_colours: bool = False,
        max_size: int | None = None,
        image_format: str | None = "png",
        max_bytes: int | None = None,
        total_timeout: float | None = None,
        progress: Progress | None = None,
    ) -> ServicePainting:
        """Paint `content` in the blend of `styles`; retried until the policy's budget ends.

        An animation comes back animated: in `image_format` (gif, mp4, webp; None = its own
        kind) or, with `max_bytes` (and no format), GIF if it fits, else MP4, else smaller.
        With `progress`, the service streams its frame count as it paints (the answer is
        multipart/mixed: progress parts, then the painting) and `progress` gets each count; a
        retry starts counting again.

        Raises ServiceRefused (a 4xx: the user's error, its sentence) or ServiceUnavailable
        (no answer after every retry: "The painting service is not answering; ...").
        """
        fields: list[tuple[str, Any, str | None]] = [("content", content, "photo")]
        for number, style in enumerate(styles, 1):
            if style.preset is not None:
                fields.append(("style", style.preset, None))
            else:
                fields.append(("style_image", style.image, style.filename or f"style{number}"))
        if any(style.weight != 1.0 for style in styles):
            fields.append(("weights", ",".join(f"{s.weight:g}" for s in styles), None))
        if strength is not None:
            fields.append(("strength", f"{strength:g}", None))
        if keep_colours:
            fields.append(("keep_colors", "true", None))
        if max_size is not None:
            fields.append(("max_size", str(max_size), None))
        if image_format:
            fields.append(("format", image_format, None))
        if max_bytes is not None:
            fields.append(("max_bytes", str(max_bytes), None))
        if progress is not None:
            fields.append(("progress", "true", None))

        async def attempt(timeout: float) -> ServicePainting:
            form = aiohttp.FormData()
            for name, value, filename in fields:
                if filename is None:
                    form.add_field(name, value)
                else:
                    form.add_field(
                        name, value, filename=filename, content_type="application/octet-stream"
                    )
            async with self._session.post(
                f"{self._base}/v1/stylize",
                data=form,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                if response.status == 200 and response.content_type == "multipart/mixed":
                    return await _read_stream(response, progress)
                body = await response.read()
                _raise_for(response, body)
                return _painting(body, response.content_type, response.headers)

        painting, attempts = await self._with_retries(attempt, total_timeout)
        return replace(painting, attempts=attempts)

    async def presets(self) -> list[dict[str, Any]]:
        """The service's presets: slug, title, artist, year."""

        async def attempt(timeout: float) -> list[dict[str, Any]]:
            async with self._session.get(
                f"{self._base}/v1/presets", timeout=aiohttp.ClientTimeout(total=timeout)
            ) as response:
                body = await response.read()
                _raise_for(response, body)
                return json.loads(body)

        return (await self._with_retries(attempt, None))[0]

    async def healthy(self, timeout: float = 5.0) -> bool:
        """Whether the service answers /healthz now (one try, no retries)."""
        try:
            async with self._session.get(
                f"{self._base}/healthz", timeout=aiohttp.ClientTimeout(total=timeout)
            ) as response:
                return response.status == 200
        except (TimeoutError, aiohttp.ClientError, OSError):
            return False

    async def _with_retries(self, attempt: Any, total_timeout: float | None) -> tuple[Any, int]:
        policy = self.policy
        budget = policy.total_timeout if total_timeout is None else total_timeout
        deadline = time.monotonic() + budget
        pause = policy.backoff
        for number in range(1, policy.retries + 2):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                return await attempt(remaining), number
            except _Retryable as error:
                wait = min(pause * random.uniform(1.0, 1.5), policy.max_backoff)
                if error.retry_after is not None:
                    wait = max(wait, min(error.retry_after, policy.max_backoff))
            except (TimeoutError, aiohttp.ClientError, OSError):
                wait = min(pause * random.uniform(1.0, 1.5), policy.max_backoff)
            if number > policy.retries or deadline - time.monotonic() <= wait:
                break
            await asyncio.sleep(wait)
            pause *= 2
        raise ServiceUnavailable(NOT_ANSWERING)


def _painting(data: bytes, media_type: str, headers: Mapping[str, str]) -> ServicePainting:
    """A painting from its bytes and the X-Stylebot-* headers (of the answer or of its part)."""
    return ServicePainting(
        data=data,
        media_type=media_type,
        width=int(headers.get(f"{HEADER_PREFIX}Width", 0)),
        height=int(headers.get(f"{HEADER_PREFIX}Height", 0)),
        seconds=float(headers.get(f"{HEADER_PREFIX}Seconds", 0)),
        replica=headers.get(f"{HEADER_PREFIX}Replica", ""),
        node=headers.get(f"{HEADER_PREFIX}Node", ""),
        attempts=0,
        frames=int(headers.get(f"{HEADER_PREFIX}Frames", 0)),
        duration=float(headers.get(f"{HEADER_PREFIX}Duration", 0)),
        note=headers.get(f"{HEADER_PREFIX}Note", ""),
    )


async def _read_stream(
    response: aiohttp.ClientResponse, progress: Progress | None
) -> ServicePainting:
    """A streamed answer (multipart/mixed, each part with its Content-Length, so it is read the
    moment it arrives): progress parts `{"frame": n, "frames": m}`, then one final part, the
    painting or `{"error": ..., "status": ...}`. A stream cut before its final part (a replica
    that died mid-painting) is retried like a 5xx."""
    message = email.message.Message()
    message["Content-Type"] = response.headers.get("Content-Type", "")
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise _Retryable(STREAM_CUT)
    delimiter = f"--{boundary}".encode()
    stream = response.content
    try:
        while (await stream.readline()).rstrip(b"\r\n") == delimiter:
            headers = CIMultiDict[str]()
            while (line := await stream.readline()).strip():
                name, _, text = line.decode("latin-1").partition(":")
                headers.add(name.strip(), text.strip())
            body = await stream.readexactly(int(headers["Content-Length"]))
            await stream.readline()  # the line break that ends the part
            media_type = headers.get("Content-Type", "application/octet-stream")
            if media_type.split(";")[0].strip() != "application/json":
                return _painting(body, media_type, headers)
            value = _json_object(body)
            if "frame" in value:
                if progress is not None:
                    progress(int(value["frame"]), int(value.get("frames", value["frame"])))
                continue
            status = int(value.get("status", 500))
            sentence = str(value.get("error", ""))
            if 400 <= status < 500 and sentence:
                raise ServiceRefused(sentence, status)
            raise _Retryable(sentence or f"The painting service answered {status}.")
    except (asyncio.IncompleteReadError, KeyError, ValueError):
        pass  # cut part-way through a part, or a part that is not what the service sends
    raise _Retryable(STREAM_CUT)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _raise_for(response: aiohttp.ClientResponse, body: bytes) -> None:
    """Nothing for a 2xx; ServiceRefused for a 4xx with the service's sentence; _Retryable for
    a 5xx, and for a 4xx without one (Serve's proxy answers 404 while the app is redeployed)."""
    if response.status < 400:
        return
    sentence = _sentence(body)
    message = sentence or f"The painting service answered {response.status}."
    if response.status < 500 and sentence:
        raise ServiceRefused(message, response.status)
    retry_after = response.headers.get("Retry-After", "")
    raise _Retryable(message, float(retry_after) if retry_after.isdigit() else None)


def _sentence(body: bytes) -> str:
    return str(_json_object(body).get("error", ""))
