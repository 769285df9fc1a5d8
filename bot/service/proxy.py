"""Serve's HTTP layer for the service: its processes' environment, and its answers as JSON.

Serve answers some requests itself, before or instead of the service's code: a queue that is
full (`max_queued_requests`; 503 or 429 with Retry-After from its BackpressureConfig), an
application with no replica able to take it (503), a replica that died before answering
(Serve's Python proxy ends the request without an answer; uvicorn would send 500 "Internal
Server Error"). Its bodies are plain text; the API promises `{"error": ...}`. Serve wraps
each of its HTTP servers in the middleware below when RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH
names `proxy_middlewares` in the process's environment: Serve's Python proxies (they inherit
the controller's runtime environment, `controller_options`) and, with the HAProxy ingress,
each painter replica's own server (its deployment's runtime environment), which refuses a
request over its queue. The service's own code never answers text/plain, so only Serve's
answers are rewritten. (HAProxy's own answer for a replica that died mid-request, 500
"Internal Server Error", is written by Serve's HAProxy manager and stays plain text.)
"""

from __future__ import annotations

import json
from typing import Any

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.service.errors import BUSY, NOT_ANSWERING, PAINTER_LOST, error_body

CALLBACK_ENV = "RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH"
CALLBACK_PATH = "bot.service.proxy:proxy_middlewares"
HAPROXY_ENV = "RAY_SERVE_ENABLE_HA_PROXY"  # Serve's HAProxy ingress, read by each Serve process
# How long a replica leaving (a deleted application, scaling down, Serve shutting down) still
# takes requests while load balancers deregister it. Serve's 30 s is for an external balancer
# (a cloud ALB); its own HAProxy drops the replica on the controller's next broadcast and
# retries a refused connection elsewhere, so 5 s is plenty, and stopping takes 5 s, not 30.
DRAINING_ENV = "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S"
DRAINING_S = "5"
# Seconds the Serve controller sleeps between its rounds (Serve's default 0.1); read by the
# controller alone, when it starts.
CONTROL_LOOP_ENV = "RAY_SERVE_CONTROL_LOOP_INTERVAL_S"
REWRITTEN = (429, 503)  # Serve's backpressure and unavailable answers


def proxy_middlewares() -> list[Middleware]:
    """What Serve's proxy calls (through CALLBACK_ENV) for the middlewares to wrap itself in."""
    return [Middleware(JsonErrors)]


def serve_env(ingress: str) -> dict[str, str]:
    """The environment variables of every Serve process of the service: these middlewares
    around each HTTP server (Serve's proxies, and the painters' own servers that HAProxy
    sends requests to), and the ingress ("haproxy" or "proxy")."""
    if ingress != "haproxy":
        return {CALLBACK_ENV: CALLBACK_PATH, HAPROXY_ENV: "0"}
    return {CALLBACK_ENV: CALLBACK_PATH, HAPROXY_ENV: "1", DRAINING_ENV: DRAINING_S}


def controller_options(ingress: str, control_loop_interval: float) -> dict[str, Any]:
    """`serve.start(controller_options=...)`: the proxies and HAProxy's manager inherit the
    controller's env vars (the replicas get them from their own options); the controller also
    reads how long it sleeps between its rounds ([service] control_loop_interval)."""
    env = {**serve_env(ingress), CONTROL_LOOP_ENV: f"{control_loop_interval:g}"}
    return {"runtime_env": {"env_vars": env}}


async def _send_json(send: Send, status: int, headers: list[Any], sentence: str) -> None:
    """The answer `{"error": sentence}` with `status`, keeping `headers` but for the type and
    length of the body they described."""
    body = json.dumps(error_body(sentence)).encode()
    kept = [
        (bytes(name), bytes(value))
        for name, value in headers
        if bytes(name).lower() not in (b"content-type", b"content-length")
    ]
    kept += [(b"content-type", b"application/json"),
             (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": kept})
    await send({"type": "http.response.body", "body": body})


def _is_plain_text(headers: list[Any]) -> bool:
    return any(
        bytes(name).lower() == b"content-type" and bytes(value).startswith(b"text/plain")
        for name, value in headers
    )


def _sentence(status: int, headers: list[Any]) -> str:
    """Backpressure (it carries Retry-After) is "busy"; any other 503 is "not answering"."""
    if any(bytes(name).lower() == b"retry-after" for name, _ in headers):
        return BUSY
    return NOT_ANSWERING


class JsonErrors:
    """An ASGI middleware: the proxy's plain-text 429/503 answers become the API's JSON
    sentence (headers such as Retry-After kept), and a request the proxy ends without any
    answer (the replica died) becomes 503 "The painter stopped while painting; ..."."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False
        held: Message | None = None  # a plain-text 429/503 start, replaced once its body ends

        async def rewriting_send(message: Message) -> None:
            nonlocal started, held
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                if message["status"] in REWRITTEN and _is_plain_text(headers):
                    held = message
                    return
            elif held is not None and message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the proxy's sentence, dropped
                status, headers = held["status"], list(held.get("headers", []))
                held = None
                await _send_json(send, status, headers, _sentence(status, headers))
                return
            await send(message)

        await self._app(scope, receive, rewriting_send)
        if not started:  # the proxy gave up on the replica without answering
            await _send_json(send, 503, [], PAINTER_LOST)
