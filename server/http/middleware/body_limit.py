"""The size cap on request bodies, enforced while they arrive (a Content-Length can lie, or be absent).

The deadline that slow senders must keep is the connection's: see connection_limits.
"""


from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.problems import PROBLEM_JSON, ProblemError, problem_bytes


class BodyTooLargeError(ProblemError):
    """The body grew past the limit while it was being read."""

    def __init__(self, limit: int):
        super().__init__(413, f"The request body is larger than the limit of {limit} bytes; split the file into smaller ones.")
        self.limit = limit


class BodyLimitMiddleware:
    """Answers 413 to a body over `limit` bytes on the given path prefixes, before or while it is read."""

    def __init__(self, app: ASGIApp, limit: int, prefixes: tuple[str, ...]):
        self.app = app
        self.limit = limit
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await refuse(send, 400, "The Content-Length header is not a number.", scope["path"])
                return
            if int(declared) > self.limit:
                await refuse(send, 413, BodyTooLargeError(self.limit).message, scope["path"])
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLargeError(self.limit)
            return message

        await self.app(scope, limited, send)


async def refuse(send: Send, status: int, message: str, instance: str,
                 extra: list[tuple[bytes, bytes]] | None = None) -> None:
    """Answer a request before the app sees it: the problem-details body the app's handlers would write (see
    server.problems), and the connection closed (its body is left unread)."""
    body = problem_bytes(status, message, instance)
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close"), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
