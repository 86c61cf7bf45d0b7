"""uvicorn's HTTP protocol with the limits a connection must keep, on every route, before the app.

uvicorn times out idle keep-alive connections, but nothing else: a client may send its headers
a byte at a time or not at all, send headers of any size, or declare a body and trickle it for
ever, even to a route that never reads a body (it answers, and the connection stays held while
the rest of the declared body arrives). Each would hold a connection for as long as the client
likes. So, as Apache's mod_reqtimeout and LimitRequestFieldSize and nginx's client timeouts do:

- **headers** must be complete within `header_seconds` of the connection's opening or of the
  request's first byte (else 408), and be at most `max_header_bytes` long with at most
  `max_header_fields` fields, the request line included (else 431);
- **a body** must arrive within `body_seconds`, plus one second for every `body_min_rate`
  bytes received, so a large upload on a slow but honest link is never cut; else 408, or, when
  the answer has already begun, the connection is closed.

An offer to switch protocols (`Connection: upgrade` with `Upgrade: h2c` or `websocket`, or a
CONNECT) is declined, as RFC 9110 (7.8) allows: this server speaks HTTP/1.1 alone. uvicorn's
httptools protocol mishandles a declined offer: the parser stops at the end of its headers, so
the app got an empty body ("The query is empty." for a Java client's POST), and the body's
bytes, arriving later, were parsed as a new request: one a proxy in front never saw (request
smuggling). So an offer with a body is refused (400), one without is answered as plain HTTP,
and either way nothing more is read from that connection: it closes after the answer.

A request with no Host header (HTTP/1.1), or more than one, is refused (RFC 9112, 3.2 requires
it): a proxy and this server could otherwise take different hosts from it. A request the parser
cannot read gets the problem shape of every other refusal, not uvicorn's plain text.

uvicorn parses every request of a read (up to 256 KiB) ahead of their answers and keeps each
waiting, at some 75 times its size in memory: measured, one connection pipelining 200,000 GETs
of 33 bytes took the server from 153 to 339 MB. So at most `MAX_WAITING` requests wait behind
the one being answered; the one after them is not read, nor anything after it, and the last
waiting request's answer closes the connection; a pipelining client sends the rest again on a
new one, as RFC 9112 (9.3.2) has it. So too when a request is refused at its headers behind
others: they are answered, it is not. And an answer the client stops taking is not kept for
ever: once the connection's write buffer is full, the client must take some of it within
`send_seconds`, else the connection is cut (as nginx's send_timeout).

The refusals are written here, before the app: each closes the connection.
"""

import asyncio
import socket
import struct
from collections.abc import Callable

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from server.problems import PROBLEM_JSON, problem_bytes

_END_OF_HEADERS = b"\r\n\r\n"


def _refusal(status: str, detail: str) -> bytes:
    body = problem_bytes(int(status.split()[0]), detail)
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: {PROBLEM_JSON}\r\ncontent-length: {len(body)}\r\n"
        "x-content-type-options: nosniff\r\nconnection: close\r\n\r\n"
    ).encode() + body


# Requests of one connection that may wait behind the one being answered (see the module's notes).
MAX_WAITING = 16


def protocol_with_limits(
    header_seconds: float, max_header_bytes: int, max_header_fields: int, body_seconds: float, body_min_rate: int,
    send_seconds: float,
) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, holding each connection to the deadlines and sizes above."""
    headers_too_slow = _refusal(
        "408 Request Timeout", f"The request headers did not arrive within {header_seconds:g} s; send the whole request promptly."
    )
    headers_too_large = _refusal(
        "431 Request Header Fields Too Large",
        f"The request line and headers may be at most {max_header_bytes} bytes in at most {max_header_fields} fields; "
        "send less (a long SPARQL query goes in a POST body).",
    )
    upgrade_with_body = _refusal(
        "400 Bad Request",
        "This server speaks HTTP/1.1 only, and does not read a body sent with an offer to switch protocols "
        "(Connection: upgrade, Upgrade: h2c or websocket): send the request without them (in Java's HttpClient, "
        "version HTTP_1_1).",
    )
    host_not_one = _refusal(
        "400 Bad Request", "A request must carry exactly one Host header (RFC 9112, 3.2); HTTP/1.0 may carry none.",
    )
    not_http = _refusal(
        "400 Bad Request",
        "The request is not valid HTTP/1.1 (RFC 9112): check its request line and headers, and the framing of its "
        "body (one Content-Length, or Transfer-Encoding: chunked, never both).",
    )
    body_too_slow = _refusal(
        "408 Request Timeout",
        f"The request body arrived too slowly: send it within {body_seconds:g} s, plus one second for each "
        f"{body_min_rate} bytes sent.",
    )

    class LimitedProtocol(HttpToolsProtocol):
        _timer: asyncio.TimerHandle | None = None
        # While a request's headers arrive: their bytes and lines so far, and the last three bytes
        # (an end of headers may be split across reads). None once they are complete.
        _header_bytes: int | None = 0
        _header_lines = 0
        _tail = b""
        _body_deadline = 0.0
        # The request tasks this connection started (see _starting).
        _own_tasks: "set[asyncio.Task[None]]" = frozenset()  # type: ignore[assignment]
        # Set once a request offered to switch protocols, was refused at its headers, or was one too many waiting:
        # nothing more is parsed from the connection (the parser's place in the stream is no longer known).
        _stopped_reading = False
        # Set when the parser's further steps in what was read are about no request that will be answered.
        _ignoring = False
        _send_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._expect_headers()

        def data_received(self, data: bytes) -> None:
            if self._stopped_reading:
                return  # bytes here could be read as a request no proxy in front saw
            if self._header_bytes is not None:
                seen = self._tail + data
                end = seen.find(_END_OF_HEADERS)
                counted = data if end < 0 else seen[len(self._tail) : end + 2]
                self._header_bytes += len(counted)
                self._header_lines += counted.count(b"\n")
                self._tail = seen[-3:]
                if self._header_bytes > max_header_bytes or self._header_lines > max_header_fields + 1:
                    self._stop(refusal=headers_too_large)
                    return
            super().data_received(data)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if not self._ignoring:
                self._expect_headers()

        def on_headers_complete(self) -> None:
            self._header_bytes = None
            declared = {name: value for name, value in self.headers if name in (b"content-length", b"transfer-encoding")}
            has_body = declared.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in declared
            if self._ignoring:
                return
            hosts = sum(1 for name, _ in self.headers if name == b"host")
            if hosts > 1 or (hosts == 0 and self.parser.get_http_version() == "1.1"):
                self._stop(refusal=host_not_one)
                return
            if self.cycle is not None and not self.cycle.response_complete and len(self.pipeline) >= MAX_WAITING:
                self._stop()  # one too many waiting: not read
                return
            if self.parser.should_upgrade():
                if has_body:
                    self._stop(refusal=upgrade_with_body)
                    return
                self._stopped_reading = True  # answered as plain HTTP, then the connection closes
            self._starting(super().on_headers_complete)
            if self._stopped_reading and self.cycle is not None:
                self.cycle.keep_alive = False
            if has_body:
                self._body_deadline = self.loop.time() + body_seconds
                self._arm(self._body_deadline, self._body_too_slow)
            else:
                self._disarm()

        def _should_upgrade(self) -> bool:
            return False  # HTTP/1.1 alone (see the module's notes), whatever uvicorn's `ws` setting

        def _unsupported_upgrade_warning(self) -> None:
            pass  # declined as RFC 9110 allows, not a fault: uvicorn's warning would let any client fill the log

        def on_body(self, body: bytes) -> None:
            if self._ignoring:
                return
            super().on_body(body)
            if self._timer is not None:
                self._body_deadline += len(body) / body_min_rate
                self._arm(self._body_deadline, self._body_too_slow)

        def on_message_complete(self) -> None:
            if self._ignoring:
                return
            self._disarm()
            super().on_message_complete()

        def _stop(self, refusal: bytes | None = None) -> None:
            """Read nothing more from this connection, and ignore what the parser still finds in this read. Requests
            read whole before are answered, the last of them closing the connection (a refusal written among their
            answers would garble them); else the refusal, if any, is sent (about the request being read) and the
            connection closed."""
            self._stopped_reading = self._ignoring = True
            cycle = self.cycle
            if cycle is not None and not cycle.response_complete and not cycle.more_body:
                cycle.keep_alive = False  # the newest request, read whole: its answer is the last
            elif refusal is not None:
                self._refuse(refusal)
            else:
                self.transport.close()

        def pause_writing(self) -> None:
            super().pause_writing()
            self._cancel_send_timer()
            self._send_timer = self.loop.call_later(send_seconds, self._send_too_slow)

        def resume_writing(self) -> None:
            self._cancel_send_timer()
            super().resume_writing()

        def _cancel_send_timer(self) -> None:
            if self._send_timer is not None:
                self._send_timer.cancel()
                self._send_timer = None

        def _send_too_slow(self) -> None:
            # Nothing of the answer taken for send_seconds: cut with a reset, dropping what is buffered here and in
            # the kernel (a close would wait for the client to take it; as nginx's reset_timedout_connection).
            self._send_timer = None
            connection = self.transport.get_extra_info("socket")
            if connection is not None:
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.transport.abort()

        def send_400_response(self, msg: str) -> None:
            # uvicorn's own 400 (a request the parser cannot read) is plain text: ours has the one error shape.
            self._stop(refusal=not_http)

        def on_response_complete(self) -> None:
            # A pipelined request waiting behind the one just answered starts here.
            self._starting(super().on_response_complete)

        def _starting(self, step: Callable[[], None]) -> None:
            """Run a step of uvicorn's that may start a request's task, and note the task as this connection's.

            uvicorn keeps one set of running request tasks for the whole server (`self.tasks`): a
            connection must know which of them are its own, to stop only those when its client leaves.
            """
            before = set(self.tasks)
            step()
            self._own_tasks = {*(t for t in self._own_tasks if not t.done()), *(set(self.tasks) - before)}

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            self._cancel_send_timer()
            cycle = self.cycle
            if cycle is not None and not cycle.response_complete:
                # The client hung up before its answer: stop the request's work (a query's worker is
                # killed, a waiting job leaves its queue); the app is told why (see requester). Only
                # this connection's tasks: the others belong to other clients.
                cycle.scope.setdefault("state", {})["client_hung_up"] = True
                for task in self._own_tasks:
                    task.cancel()
            super().connection_lost(exc)

        def _expect_headers(self) -> None:
            self._header_bytes, self._header_lines, self._tail = 0, 0, b""
            self._arm(self.loop.time() + header_seconds, lambda: self._stop(refusal=headers_too_slow))

        def _arm(self, when: float, action: "asyncio.Handle | object") -> None:
            self._disarm()
            self._timer = self.loop.call_at(when, action)  # type: ignore[arg-type]

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _body_too_slow(self) -> None:
            self._timer = None
            cycle = self.cycle
            if cycle is not None and cycle.response_started:
                self.transport.close()  # the answer is under way: only the connection can be cut
            else:
                self._refuse(body_too_slow)

        def _refuse(self, refusal: bytes) -> None:
            self._disarm()
            if not self.transport.is_closing():
                self.transport.write(refusal)
                self.transport.close()

    return LimitedProtocol
