"""Limits on request bodies, enforced while they arrive: a size cap (a Content-Length can lie,
or be absent), and a deadline that slow senders must keep."""

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLargeError(Exception):
    """The body grew past the limit while it was being read."""

    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit

    @property
    def message(self) -> str:
        """What to tell the client."""
        return f"The request body is larger than the limit of {self.limit} bytes; split the file into smaller ones."


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
                await _refuse(send, 400, "The Content-Length header is not a number.")
                return
            if int(declared) > self.limit:
                await _refuse(send, 413, BodyTooLargeError(self.limit).message)
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


class BodyTimeoutError(Exception):
    """The body did not arrive in time."""

    def __init__(self, seconds: float, min_rate: int):
        super().__init__(seconds, min_rate)
        self.seconds, self.min_rate = seconds, min_rate

    @property
    def message(self) -> str:
        """What to tell the client."""
        return (
            f"The request body arrived too slowly: send it within {self.seconds:g} s, plus one second for each "
            f"{self.min_rate} bytes sent."
        )


class BodyDeadlineMiddleware:
    """Answers 408 to a client that sends its body too slowly, as Apache's mod_reqtimeout does.

    A client trickling a body a byte at a time (a slowloris) holds a connection and a task for
    as long as it likes; uvicorn has no timeout for it. The client gets `seconds` to send the
    body, and one more second for every `min_rate` bytes that arrive, so a large upload on a
    slow but honest link is never cut.
    """

    def __init__(self, app: ASGIApp, seconds: float, min_rate: int):
        self.app = app
        self.seconds = seconds
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        body_done = False
        answering = False

        async def timed() -> Message:
            nonlocal deadline, body_done
            if body_done:
                # After the body, receive() only waits for the client to go away: no deadline.
                return await receive()
            try:
                async with asyncio.timeout(max(0.0, deadline - loop.time())):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeoutError(self.seconds, self.min_rate) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            deadline += len(message.get("body", b"")) / self.min_rate
            return message

        async def watched(message: Message) -> None:
            nonlocal answering
            answering = answering or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed, watched)
        except BodyTimeoutError as error:
            if answering:
                raise
            await _refuse(send, 408, error.message)


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
