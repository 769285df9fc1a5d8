"""The front application at "/": /healthz (from Serve's own status), /v1/presets, JSON 404/405."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.config import Settings
from bot.loaders import make_catalog
from bot.service.answers import (
    STYLIZE_PATH,
    answered,
    not_found,
    route_path,
    wrong_method,
)
from bot.service.errors import NOT_ANSWERING, ServiceBusy

ROUTES = {"/healthz": "GET", "/v1/presets": "GET", STYLIZE_PATH: "POST"}
PAINTER_DEPLOYMENT = "Painter"
RUNNING = "RUNNING"
HEALTH_FRESH_S = 1.0  # Serve's status is asked at most once a second, however often polled
NO_PAINTER = (
    "No painter is running yet; the painters are starting, or none could be placed on the "
    "cluster's nodes."
)


class Ingress:
    """Answers everything but POST /v1/stylize, which Serve's proxy sends to the Painter
    application (route prefix /v1/stylize, the longest prefix wins) without this hop. It never
    waits behind a painting: it reserves no CPU and calls no painter."""

    def __init__(self, settings: Settings, painter_app: str) -> None:
        self._settings = settings
        self._painter_app = painter_app
        self._presets = [
            {"slug": p.slug, "title": p.title, "artist": p.artist, "year": p.year}
            for p in make_catalog(settings)
        ]
        self._painters: tuple[float, dict[str, int]] | None = None  # (when asked, counts)

    async def __call__(self, request: Request) -> Response:
        """Route one HTTP request; every failure is a JSON sentence, never a traceback."""
        return await answered(self._route, request)

    async def _route(self, request: Request) -> Response:
        path = route_path(request.scope).rstrip("/") or "/"
        method = ROUTES.get(path)
        if method is None:
            return not_found(path)
        if request.method != method and not (method == "GET" and request.method == "HEAD"):
            return wrong_method(method, path)
        if path == "/healthz":
            return await self._health()
        if path == "/v1/presets":
            return JSONResponse(self._presets)
        # POST /v1/stylize reaches this app only while the Painter application is missing
        # (being deployed or deleted): the client retries.
        raise ServiceBusy(self._settings.service.retry_after, NOT_ANSWERING)

    async def _health(self) -> Response:
        painters = await self._painter_counts()
        if painters["running"] > 0:
            return JSONResponse({"status": "ok", "painters": painters})
        return JSONResponse({"error": NO_PAINTER, "painters": painters}, status_code=503)

    async def _painter_counts(self) -> dict[str, int]:
        """Running and target Painter replicas, from Serve's controller (cached a second)."""
        now = time.monotonic()
        if self._painters is None or now - self._painters[0] > HEALTH_FRESH_S:
            counts = await asyncio.to_thread(painter_counts, self._painter_app)
            self._painters = (now, counts)
        return self._painters[1]


def painter_counts(painter_app: str) -> dict[str, int]:
    """{"running": N, "target": M} of the Painter deployment in `painter_app` (0 and 0 when
    that application does not exist). One call to Serve's controller, on the caller's thread."""
    from ray.serve.context import _get_global_client

    client = _get_global_client()
    details: dict[str, Any] = client.get_serve_details() if client is not None else {}
    app = (details.get("applications") or {}).get(painter_app) or {}
    deployment = (app.get("deployments") or {}).get(PAINTER_DEPLOYMENT) or {}
    replicas = deployment.get("replicas") or []
    return {
        "running": sum(1 for replica in replicas if replica.get("state") == RUNNING),
        "target": int(deployment.get("target_num_replicas") or 0),
    }
