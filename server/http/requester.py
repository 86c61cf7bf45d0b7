"""Who sent a request (for the fair shares of the workers), and what happens when they hang up.

Each request runs with `fair_share.current` set to its requester: the holder of a valid token
(Authorization: Bearer), by name, or else the client's address. And on the paths that run jobs
in workers, a request whose client hangs up is cancelled, so its query or validation stops (the
store kills a running job's worker, or takes a waiting one out of the queue) instead of running
on for nobody. Starlette notices a hang-up only while it streams an answer, so this watches for
it from the moment the request's body has been read until the answer is complete.
"""

import asyncio
import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import fair_share
from server.fair_share import Requester
from server.tokens import TokenRegistry

_BEARER = b"bearer "


class RequesterMiddleware:
    """Sets the requester of each request; cancels requests on `watched` paths when their client goes away."""

    def __init__(self, app: ASGIApp, tokens: TokenRegistry, watched: tuple[str, ...]):
        self.app = app
        self.tokens = tokens
        self.watched = watched

    def requester(self, scope: Scope) -> Requester:
        """The token holder a request names, or its client address."""
        for name, value in scope["headers"]:
            if name == b"authorization" and value[:7].lower() == _BEARER:
                principal = self.tokens.verify(value[7:].decode("latin-1").strip())
                if principal is not None:
                    return Requester(f"token:{principal.name}", token_holder=True)
        client = scope.get("client")
        return Requester(f"address:{client[0] if client else 'unknown'}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reset = fair_share.current.set(self.requester(scope))
        try:
            if scope["path"].startswith(self.watched):
                await self._cancelled_on_hang_up(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            fair_share.current.reset(reset)

    async def _cancelled_on_hang_up(self, scope: Scope, receive: Receive, send: Send) -> None:
        # One reader of the connection (the pump) hands the request's messages to the handler
        # through a one-place inbox, so a body is still read only as fast as the handler takes
        # it, and goes on reading after the body: the next message can only be the hang-up.
        inbox: asyncio.Queue[Message] = asyncio.Queue(maxsize=1)
        hung_up = asyncio.Event()
        answered = False

        async def reading() -> Message:
            if inbox.empty() and hung_up.is_set():
                return {"type": "http.disconnect"}
            taking = asyncio.ensure_future(inbox.get())
            ending = asyncio.ensure_future(hung_up.wait())
            try:
                await asyncio.wait((taking, ending), return_when=asyncio.FIRST_COMPLETED)
            finally:
                ending.cancel()
                if not taking.done():
                    taking.cancel()
            return taking.result() if taking.done() and not taking.cancelled() else {"type": "http.disconnect"}

        async def sending(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = True
            await send(message)

        handler = asyncio.ensure_future(self.app(scope, reading, sending))

        async def pump() -> None:
            while (message := await receive())["type"] != "http.disconnect":
                await inbox.put(message)
            hung_up.set()
            if not answered:  # after the answer, uvicorn reports the end of the exchange as a disconnect
                handler.cancel()

        pumping = asyncio.ensure_future(pump())
        try:
            await handler
        except asyncio.CancelledError:
            if not hung_up.is_set() or asyncio.current_task().cancelling():  # type: ignore[union-attr]
                raise
            # The client hung up: there is nobody to answer.
            scope.setdefault("state", {})["client_hung_up"] = True
        finally:
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pumping
