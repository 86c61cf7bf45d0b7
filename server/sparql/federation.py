"""Opt-in federation: SERVICE calls to allowlisted endpoints, through a relay with its own limits.

pyoxigraph makes SERVICE calls itself, with no deadline or size limit of its own. So the
query service rewrites each allowlisted SERVICE IRI to this server's relay on 127.0.0.1
(/_federation/{secret}/{n}); the relay forwards the call to the n-th allowlisted endpoint
with the federation deadline and size cap, and answers the worker. The secret, new each time
the app is created, keeps the relay from being an open proxy; it also refuses every client
not on the loopback interface. Nothing is allowlisted by default, and SERVICE to anything
else is refused before a query runs.
"""

import asyncio
import hmac
import secrets
from dataclasses import dataclass, field

import httpx

from server.sparql.text import SparqlText, replace_services

RELAY_PATH = "/_federation"
# The request headers a relayed call passes on.
_FORWARDED = ("accept", "content-type")


@dataclass(frozen=True)
class Relayed:
    """The answer of a relayed call, or the relay's own refusal (504 past the deadline, 502 otherwise)."""

    status: int
    body: bytes
    media_type: str | None
_LOOPBACK = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class FederationRelay:
    """Where the relay listens, which endpoints it forwards to, and its limits."""

    port: int
    endpoints: tuple[str, ...]
    timeout: float
    max_bytes: int
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)

    def rewrite(self, text: str, analysed: SparqlText) -> str:
        """The query with each allowlisted SERVICE IRI replaced by the relay's address for it."""
        relayed = {
            endpoint: f"http://127.0.0.1:{self.port}{RELAY_PATH}/{self.secret}/{index}"
            for index, endpoint in enumerate(self.endpoints)
        }
        return replace_services(text, analysed, relayed)

    def restore(self, message: str) -> str:
        """A message about a relayed call, naming the endpoint instead of the relay (whose address is secret)."""
        for index, endpoint in enumerate(self.endpoints):
            message = message.replace(f"http://127.0.0.1:{self.port}{RELAY_PATH}/{self.secret}/{index}", endpoint)
        return message

    def endpoint(self, secret: str, index: str, client: str | None) -> str | None:
        """The endpoint a relay request is for, or None if the request is not one the server made."""
        if client not in _LOOPBACK or not hmac.compare_digest(secret.encode(), self.secret.encode()):
            return None
        if not (index.isascii() and index.isdigit()) or int(index) >= len(self.endpoints):
            return None
        return self.endpoints[int(index)]

    async def forward(self, endpoint: str, method: str, query: str, headers: dict[str, str], body: bytes) -> Relayed:
        """Make one SERVICE call to an allowlisted endpoint, within the federation deadline and size cap."""
        url = endpoint + (f"?{query}" if query else "")
        sent = {k: v for k, v in headers.items() if k.lower() in _FORWARDED}
        try:
            async with asyncio.timeout(self.timeout), httpx.AsyncClient(
                timeout=self.timeout, follow_redirects=False, trust_env=False
            ) as client, client.stream(method, url, headers=sent, content=body) as upstream:
                chunks, size = [], 0
                async for chunk in upstream.aiter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        return _refusal(502, f"The answer of {endpoint} exceeds the federation limit of {self.max_bytes} bytes.")
                    chunks.append(chunk)
                return Relayed(upstream.status_code, b"".join(chunks), upstream.headers.get("content-type"))
        except TimeoutError:
            return _refusal(504, f"{endpoint} did not answer within the federation deadline of {self.timeout:g} s.")
        except httpx.HTTPError as error:
            return _refusal(502, f"{endpoint} could not be reached: {type(error).__name__}.")


def _refusal(status: int, message: str) -> Relayed:
    return Relayed(status, f"{message}\n".encode(), "text/plain; charset=utf-8")
