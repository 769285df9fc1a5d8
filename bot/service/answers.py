"""The service's HTTP answers: a painting with its X-Stylebot-* headers, a JSON error sentence."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.errors import StylebotError
from bot.service.client import HEADER_PREFIX
from bot.service.errors import UNEXPECTED, ServiceBusy, error_body, status_for
from bot.service.order import PaintOutcome

EXTENSIONS = {
    "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp",
    "image/gif": "gif", "video/mp4": "mp4",
}
STYLIZE_PATH = "/v1/stylize"  # the Painter application's route prefix
API = "POST /v1/stylize, GET /v1/presets and GET /healthz"

log = logging.getLogger(__name__)


async def answered(answer: Callable[[Request], Awaitable[Response]], request: Request) -> Response:
    """`answer(request)`, with every failure a JSON sentence (a user's error with its status,
    anything else 500 and logged), never a traceback."""
    try:
        return await answer(request)
    except StylebotError as error:
        return error_answer(error)
    except Exception:
        log.exception("unexpected failure answering %s", request.url.path)
        return JSONResponse(error_body(UNEXPECTED), status_code=500)


def painting_headers(outcome: PaintOutcome) -> dict[str, str]:
    """Content-Disposition and the X-Stylebot-* headers that describe a painting."""
    extension = EXTENSIONS.get(outcome.media_type, "bin")
    headers = {
        f"{HEADER_PREFIX}Width": str(outcome.width),
        f"{HEADER_PREFIX}Height": str(outcome.height),
        f"{HEADER_PREFIX}Seconds": f"{outcome.seconds:.3f}",
        f"{HEADER_PREFIX}Replica": outcome.replica,
        f"{HEADER_PREFIX}Node": outcome.node,
        "Content-Disposition": f'inline; filename="stylized.{extension}"',
    }
    if outcome.frames:
        headers[f"{HEADER_PREFIX}Frames"] = str(outcome.frames)
        headers[f"{HEADER_PREFIX}Duration"] = f"{outcome.duration:.3f}"
    if outcome.note:  # plain ASCII sentences; anything else is dropped, not garbled
        headers[f"{HEADER_PREFIX}Note"] = outcome.note.encode("ascii", "ignore").decode()
    return headers


def painting_answer(outcome: PaintOutcome) -> Response:
    """The plain (not streamed) answer of a painting: its bytes, its type, its headers."""
    return Response(outcome.data, media_type=outcome.media_type, headers=painting_headers(outcome))


def error_answer(error: StylebotError) -> Response:
    """A user's error (or the service's own) as its status and JSON sentence."""
    headers = {}
    if isinstance(error, ServiceBusy) and error.retry_after > 0:
        headers["Retry-After"] = str(math.ceil(error.retry_after))
    return JSONResponse(error_body(error.message), status_code=status_for(error), headers=headers)


def not_found(path: str) -> Response:
    """404 for a path the API does not have."""
    return JSONResponse(
        error_body(f"There is no {path[:60]} here; the API has {API}."), status_code=404
    )


def wrong_method(method: str, path: str) -> Response:
    """405 for a known path asked with the wrong method."""
    return JSONResponse(
        error_body(f"Use {method} for {path}."), status_code=405, headers={"Allow": method}
    )


def route_path(scope: Mapping[str, Any]) -> str:
    """The request's path below the app's route prefix (Serve puts the prefix in root_path)."""
    path, root = str(scope["path"]), str(scope.get("root_path", ""))
    return path[len(root):] if root and path.startswith(root) else path
