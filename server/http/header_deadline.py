"""uvicorn's HTTP protocol with a deadline on request headers.

uvicorn times out idle keep-alive connections, but not a client that opens a connection and
then sends its headers a byte at a time, or not at all (a slowloris): each such connection is
held for as long as the client likes. Here the headers of every request must be complete
within a deadline from the connection's opening or the request's first byte, else the client
gets 408 and the connection is closed (as Apache's mod_reqtimeout and nginx's
client_header_timeout do). Bodies have their own deadline (body_limit.BodyDeadlineMiddleware).
"""

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def protocol_with_header_deadline(seconds: float) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, answering 408 to headers not complete within `seconds`."""
    body = json.dumps(
        {"detail": f"The request headers did not arrive within {seconds:g} s; send the whole request promptly."}
    ).encode()
    refusal = (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\n".encode()
        + b"connection: close\r\n\r\n"
        + body
    )

    class HeaderDeadlineProtocol(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._start_header_timer()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._start_header_timer()

        def on_headers_complete(self) -> None:
            self._stop_header_timer()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_header_timer()
            super().connection_lost(exc)

        def _start_header_timer(self) -> None:
            self._stop_header_timer()
            self._header_timer = self.loop.call_later(seconds, self._headers_too_slow)

        def _stop_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.write(refusal)
                self.transport.close()

    return HeaderDeadlineProtocol
