"""Request ids, access logs and request metrics, as plain ASGI middleware (streaming-safe)."""

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.http.metrics import Metrics

log = logging.getLogger("ilokg.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_RELAY_SECRET = re.compile(r"^(/_federation/)[^/]*/")


class RequestContextMiddleware:
    """Gives every request an id (X-Request-ID, kept if the client sent a sane one), logs it, counts it."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["state"].get("client_hung_up"):
                status = 499  # as nginx logs a request whose client closed the connection before the answer
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            route_path = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route_path, str(status)).inc()
            self.metrics.latency.labels(route_path).observe(elapsed)
            client = scope.get("client")
            log.info(
                "%s %s %s %.1fms request_id=%s", scope["method"], _redacted(scope["path"]), status, elapsed * 1000,
                request_id,
                extra={
                    "request_id": request_id, "method": scope["method"], "path": _redacted(scope["path"]),
                    "status": status, "duration_ms": round(elapsed * 1000, 1), "client": client[0] if client else None,
                },
            )


def _redacted(path: str) -> str:
    """The path as logged: the federation relay's secret is not written to logs."""
    return _RELAY_SECRET.sub(r"\1***/", path)


class HeadAsGetMiddleware:
    """Answers HEAD on every GET route as GET answers, headers only (RFC 9110 §9.3.2).

    FastAPI routes declared with GET refuse HEAD (405), and link checkers and linked-data clients
    probe with HEAD. The request goes on as a GET; what it answers keeps its status and headers
    (Content-Length, ETag, Link…) and loses its body.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
