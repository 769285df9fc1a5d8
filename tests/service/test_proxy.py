"""bot.service.proxy: the environment Serve's processes get, and Serve's own answers as JSON."""

from __future__ import annotations

import asyncio
import json

from bot.service.errors import BUSY, NOT_ANSWERING, PAINTER_LOST
from bot.service.proxy import (
    CALLBACK_ENV,
    CALLBACK_PATH,
    CONTROL_LOOP_ENV,
    HAPROXY_ENV,
    JsonErrors,
    controller_options,
    serve_env,
)


def answer_of(app) -> tuple[int, dict[bytes, bytes], bytes]:
    """Run the ASGI app wrapped in JsonErrors for one GET: (status, headers, body)."""
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/v1/stylize", "headers": []}
    asyncio.run(JsonErrors(app)(scope, receive, send))
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], dict(start["headers"]), body


def plain(status: int, text: bytes, *extra: tuple[bytes, bytes]):
    async def app(scope, receive, send):
        headers = [(b"content-type", b"text/plain; charset=utf-8"), *extra]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": text[:5], "more_body": True})
        await send({"type": "http.response.body", "body": text[5:]})
    return app


def test_a_full_queue_is_the_busy_sentence_with_its_retry_after():
    status, headers, body = answer_of(
        plain(503, b"Request dropped due to backpressure", (b"retry-after", b"2")))
    assert (status, headers[b"retry-after"]) == (503, b"2")
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"content-length"] == str(len(body)).encode()
    assert json.loads(body) == {"error": BUSY}


def test_no_replica_is_the_not_answering_sentence():
    status, _, body = answer_of(plain(503, b"No replicas are available yet."))
    assert (status, json.loads(body)) == (503, {"error": NOT_ANSWERING})


def test_a_request_ended_without_an_answer_is_the_painter_lost_sentence():
    async def gone(scope, receive, send):
        return None  # Serve's Python proxy, its replica dead before answering

    status, _, body = answer_of(gone)
    assert (status, json.loads(body)) == (503, {"error": PAINTER_LOST})


def test_the_services_own_answers_pass_unchanged():
    async def painting(scope, receive, send):
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"error": "x"}'})

    assert answer_of(painting) == (503, {b"content-type": b"application/json"},
                                   b'{"error": "x"}')
    status, _, body = answer_of(plain(500, b"Internal Server Error"))
    assert (status, body) == (500, b"Internal Server Error")  # not Serve's 429/503


def test_each_ingress_gives_serve_the_middleware_and_its_own_setting():
    haproxy, proxy = serve_env("haproxy"), serve_env("proxy")
    assert haproxy[CALLBACK_ENV] == proxy[CALLBACK_ENV] == CALLBACK_PATH
    assert (haproxy[HAPROXY_ENV], proxy[HAPROXY_ENV]) == ("1", "0")
    assert controller_options("proxy", 0.5) == {
        "runtime_env": {"env_vars": {**proxy, CONTROL_LOOP_ENV: "0.5"}}}
