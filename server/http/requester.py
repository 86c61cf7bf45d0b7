"""Who sent a request, for the fair shares of the workers (see fair_share).

Each request runs with `fair_share.current` set to its requester: the holder of a valid token
(Authorization: Bearer), by name, or else the client's address. A request whose client hung up
is cancelled by the connection (connection_limits); here that cancellation ends the request
quietly (logged as 499), since there is nobody to answer.
"""

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

from server.http.guard import Guard
from server.workers import fair_share
from server.workers.fair_share import Requester


class RequesterMiddleware:
    """Sets the requester of each request; ends quietly a request cancelled because its client hung up."""

    def __init__(self, app: ASGIApp, guard: Guard):
        self.app = app
        self.guard = guard

    def requester(self, scope: Scope) -> Requester:
        """The token holder a request names, or its client address."""
        authorization = dict(scope["headers"]).get(b"authorization")
        principal = self.guard.holder(authorization.decode("latin-1")) if authorization else None
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
            await self.app(scope, receive, send)
        except asyncio.CancelledError:
            if not scope.get("state", {}).get("client_hung_up"):
                raise
        finally:
            fair_share.current.reset(reset)
