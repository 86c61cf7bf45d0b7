"""The server's public address, where the operator gives one (ILOKG_PUBLIC_URL).

Behind a proxy that rewrites the Host header (nginx's default sends its upstream's name), or on a host reached by
several names, the address a request was sent to is not the one clients should be given. Every absolute link the
server writes (the dataset's and the service's descriptions, paging links, JSON-LD contexts) is built from the
request's scope, so setting the scope's scheme, server and Host here gives them all the public address, and no
request can put another host name into an answer.
"""

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send


class PublicAddressMiddleware:
    """Gives every HTTP request the scheme, host and port of the server's public URL."""

    def __init__(self, app: ASGIApp, url: str):
        self.app = app
        parts = urlsplit(url)
        self._scheme = parts.scheme
        self._server = (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        self._host = parts.netloc.encode("ascii")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["scheme"] = self._scheme
            scope["server"] = self._server
            scope["headers"] = [(n, v) for n, v in scope["headers"] if n != b"host"] + [(b"host", self._host)]
        await self.app(scope, receive, send)
