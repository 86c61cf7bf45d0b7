"""A thin HTTP/1.1 keep-alive client for the SPARQL protocol's hot path: queries sent, answers streamed.

Chosen by measurement (bench/http_clients.py, bench/RESULTS.md): httptools' C parser (uvicorn's,
already installed) on an asyncio protocol costs 27–35 µs of client CPU per proxied lookup, where
h11 costs 87–103, aiohttp 99–137 and httpx 571–790. It does only what queries need: POST with a
body, a response read as it arrives (Content-Length or chunked), connections kept alive and
reused. Anything that goes wrong on a connection, and a request given up (a deadline), closes it:
closing the connection is how a query is abandoned, and a connection is never reused in an
unknown state. Writes and loads, which are rare and need more of HTTP (digest authentication,
streamed uploads), go through httpx (see remote.py).
"""

import asyncio
import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httptools


class ProtocolError(Exception):
    """The store could not be reached, or broke the connection, or answered with something that is not HTTP."""


@dataclass
class Response:
    """A response's status and headers (lower-case names); its body went to the request's sink."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class _StaleConnectionError(Exception):
    """A kept-alive connection closed by the store before it took the request."""


def _ignore(response: Response, data: bytes) -> None:
    pass


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.response = Response()
        self.sink: Callable[[Response, bytes], object] = _ignore
        self.done: asyncio.Future[Response] | None = None
        self.reusable = True
        self.reused = False
        self.sink_error: Exception | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            # httptools wraps what a callback raised: the sink's own error (an answer past its size limit) is passed on.
            sink_error = self.sink_error
            self._fail(sink_error if sink_error is not None else ProtocolError(f"the store's answer is not valid HTTP: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        self._fail(ProtocolError("the store closed the connection before its answer was complete"))

    # httptools callbacks

    def on_status(self, status: bytes) -> None:
        self.response.status = self.parser.get_status_code()

    def on_header(self, name: bytes, value: bytes) -> None:
        self.response.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.response.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        try:
            self.sink(self.response, body)
        except Exception as error:
            self.sink_error = error
            raise

    def on_message_complete(self) -> None:
        if not self.parser.should_keep_alive():
            self.reusable = False
        if self.done is not None and not self.done.done():
            self.done.set_result(self.response)

    def _fail(self, error: Exception) -> None:
        self.reusable = False
        if self.done is not None and not self.done.done():
            self.done.set_exception(error)
        if self.transport is not None:
            self.transport.close()


class ProtocolClient:
    """POST requests to one HTTP endpoint over kept-alive connections, one request per connection at a time."""

    def __init__(self, url: str, user: str | None = None, password: str | None = None, max_idle: int = 32):
        parts = urlsplit(url)
        if parts.scheme != "http":
            # The client speaks plain HTTP: a store over TLS sits behind a local proxy, or on the same private network.
            raise ValueError(f"the store's URL must start with http:// (got {url!r})")
        self.url = url
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._authority = parts.netloc.rsplit("@", 1)[-1]
        self._auth = ""
        if user is not None:
            token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            self._auth = f"authorization: Basic {token}\r\n"
        self._idle: list[_Connection] = []
        self._max_idle = max_idle

    async def post(self, body: bytes, headers: dict[str, str], sink: Callable[[Response, bytes], object]) -> Response:
        """Send body; the response body is given to sink as it arrives (with the status and headers, known by then);
        the status and headers are returned.

        Cancelled (a deadline), or failing in any way, the connection is closed, never reused. A kept-alive connection
        the store closed meanwhile is replaced once, before anything of the answer arrived (queries are idempotent).
        """
        try:
            return await self._post(body, headers, sink, await self._take())
        except _StaleConnectionError:
            return await self._post(body, headers, sink, await self._connect())

    async def _post(
        self, body: bytes, headers: dict[str, str], sink: Callable[[Response, bytes], object], connection: "_Connection"
    ) -> Response:
        connection.response = Response()
        connection.sink = sink
        connection.sink_error = None
        connection.done = asyncio.get_running_loop().create_future()
        head = (f"POST {self._path} HTTP/1.1\r\nhost: {self._authority}\r\n{self._auth}content-length: {len(body)}\r\n"
                + "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n").encode("latin-1")
        assert connection.transport is not None
        try:
            connection.transport.write(head + body)
            response = await connection.done
        except ProtocolError:
            connection.transport.close()
            if connection.reused and connection.response.status == 0:
                raise _StaleConnectionError() from None
            raise
        except BaseException:
            connection.reusable = False
            connection.transport.close()
            raise
        finally:
            connection.sink = _ignore
        if connection.reusable and len(self._idle) < self._max_idle:
            self._idle.append(connection)
        else:
            connection.transport.close()
        return response

    async def _take(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection.reusable and connection.transport is not None and not connection.transport.is_closing():
                connection.reused = True
                return connection
        return await self._connect()

    async def _connect(self) -> _Connection:
        try:
            _, connection = await asyncio.get_running_loop().create_connection(_Connection, self._host, self._port)
        except OSError as error:
            raise ProtocolError(f"cannot connect to the store at {self.url}: {error.strerror or error}") from None
        return connection

    def close(self) -> None:
        """Close the idle connections."""
        for connection in self._idle:
            if connection.transport is not None:
                connection.transport.close()
        self._idle.clear()
