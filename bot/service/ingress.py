"""The HTTP ingress: routes, form reading and checks, then one call to a painter replica."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.config import Settings
from bot.errors import StylebotError
from bot.loaders import make_catalog
from bot.service.errors import (
    BUSY,
    NOT_ANSWERING,
    PAINTER_LOST,
    UNEXPECTED,
    ServiceBusy,
    error_body,
    status_for,
)
from bot.service.form import FILE_WHAT, FormLimits, read_form
from bot.service.order import PaintOutcome, order_from_form

log = logging.getLogger(__name__)

ROUTES = {"/healthz": "GET", "/v1/presets": "GET", "/v1/stylize": "POST"}
HEADER_PREFIX = "X-Stylebot-"
EXTENSIONS = {
    "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp",
    "image/gif": "gif", "video/mp4": "mp4",
}


class Ingress:
    """Answers /healthz and /v1/presets itself and sends each /v1/stylize to a Painter."""

    def __init__(self, settings: Settings, painter: Any) -> None:
        self._settings = settings
        self._painter = painter  # a DeploymentHandle to the Painter deployment
        self._catalog = make_catalog(settings)
        limits = settings.limits
        self._form_limits = FormLimits(
            max_file_bytes=limits.max_input_bytes,
            max_parts=len(FILE_WHAT) + limits.max_styles * 2 + 8,
        )
        self._presets = [
            {"slug": p.slug, "title": p.title, "artist": p.artist, "year": p.year}
            for p in self._catalog
        ]

    async def __call__(self, request: Request) -> Response:
        """Route one HTTP request; every failure is a JSON sentence, never a traceback."""
        try:
            return await self._route(request)
        except StylebotError as error:
            return self._error(error)
        except Exception:
            log.exception("unexpected failure answering %s", request.url.path)
            return JSONResponse(error_body(UNEXPECTED), status_code=500)

    async def _route(self, request: Request) -> Response:
        path = _route_path(request.scope).rstrip("/") or "/"
        method = ROUTES.get(path)
        if method is None:
            return JSONResponse(
                error_body(
                    f"There is no {path[:60]} here; the API has POST /v1/stylize, "
                    "GET /v1/presets and GET /healthz."
                ),
                status_code=404,
            )
        if request.method != method and not (method == "GET" and request.method == "HEAD"):
            return JSONResponse(
                error_body(f"Use {method} for {path}."), status_code=405, headers={"Allow": method}
            )
        if path == "/healthz":
            return JSONResponse({"status": "ok"})
        if path == "/v1/presets":
            return JSONResponse(self._presets)
        return await self._stylize(request)

    async def _stylize(self, request: Request) -> Response:
        parts = await read_form(request.headers, request.stream(), self._form_limits)
        order = order_from_form(parts, self._settings, self._catalog)
        outcome = await self._paint(order)
        if outcome.error:
            return JSONResponse(error_body(outcome.error), status_code=outcome.status)
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
        return Response(outcome.data, media_type=outcome.media_type, headers=headers)

    async def _paint(self, order: Any) -> PaintOutcome:
        """One call to a painter; Ray's failures become the service's sentences."""
        from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError
        from ray.serve.exceptions import BackPressureError, DeploymentUnavailableError

        try:
            return await self._painter.paint.remote(order)
        except BackPressureError:
            raise ServiceBusy(self._settings.service.retry_after, BUSY) from None
        except (ActorDiedError, ActorUnavailableError, RayActorError):
            log.warning("a painter replica died while painting")
            raise ServiceBusy(0, PAINTER_LOST) from None
        except DeploymentUnavailableError:
            raise ServiceBusy(self._settings.service.retry_after, NOT_ANSWERING) from None

    def _error(self, error: StylebotError) -> Response:
        status = status_for(error)
        headers = {}
        if isinstance(error, ServiceBusy) and error.retry_after > 0:
            headers["Retry-After"] = str(math.ceil(error.retry_after))
        return JSONResponse(error_body(error.message), status_code=status, headers=headers)


def _route_path(scope: Mapping[str, Any]) -> str:
    """The request's path below the app's route prefix (Serve puts the prefix in root_path)."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path
