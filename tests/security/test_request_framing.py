"""Where one request ends and the next begins, as the server reads it: no way of framing a request makes bytes a
proxy in front took for a body be read here as a request of their own (request smuggling).

- Offers to switch protocols (`Connection: upgrade` with `Upgrade: …`, and CONNECT) are declined on every route:
  a body sent with one is refused, one without is answered as plain HTTP, and nothing more is read from the
  connection. uvicorn's httptools protocol stopped parsing at the end of such a request's headers: the app got an
  empty body, and the body's bytes, when they arrived in a later segment, were parsed as a new request.
- Ambiguous framing (two lengths, a length and chunks, bare line feeds, odd chunk sizes…) is refused with the
  one error shape, and the connection closed.
- A request must carry exactly one Host header (HTTP/1.0 may carry none).
"""

import contextlib
import json
import socket
import uuid
from collections.abc import Iterator
from typing import BinaryIO

import pytest

from tests.support.servers import SubmissionServer

# (Connection, Upgrade): what clients send (Java's HttpClient and curl --http2 offer h2c; browsers, websocket) and
# what a hostile client may.
_OFFERS = [
    ("Upgrade, HTTP2-Settings", "h2c"),
    ("Upgrade", "websocket"),
    ("keep-alive, Upgrade", "WebSocket"),
    ("upgrade", "TLS/1.0"),
    ("Upgrade", "HTTP/2.0, h2c"),
    ("close, Upgrade", "anything/1"),
]
# A body's framings, and whether it follows the headers in the same segment or after the server has answered them.
_FRAMINGS = ["content-length", "chunked"]
_ROUTES_WITH_BODIES = [
    ("POST", "/sparql", "application/sparql-query"),
    ("POST", "/validate", "text/turtle"),
    ("POST", "/submissions", "text/turtle"),
    ("PUT", "/submissions/2026-01-01-00000000", "text/turtle"),
]
_REFUSED = (
    "This server speaks HTTP/1.1 only, and does not read a body sent with an offer to switch protocols "
    "(Connection: upgrade, Upgrade: h2c or websocket): send the request without them (in Java's HttpClient, "
    "version HTTP_1_1)."
)


def _smuggled() -> bytes:
    """A whole request, sent where the server must not look for one."""
    return f"GET /smuggled-{uuid.uuid4().hex} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


@contextlib.contextmanager
def _connected(server: SubmissionServer) -> Iterator[tuple[socket.socket, BinaryIO]]:
    """A connection to the server, and its answers to read."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection, \
            connection.makefile("rb") as answers:
        yield connection, answers


def _read_answer(answers: BinaryIO) -> tuple[int, dict[str, str], bytes]:
    """The next answer on a connection: its status, headers and body (every answer here has a Content-Length)."""
    status_line = answers.readline()
    assert status_line, "the connection closed before an answer"
    headers = {}
    for line in iter(answers.readline, b"\r\n"):
        assert line, "the connection closed inside the headers"
        name, _, value = line.decode("latin-1").rstrip("\r\n").partition(": ")
        headers[name.lower()] = value
    body = answers.read(int(headers["content-length"]))
    assert len(body) == int(headers["content-length"]), "the connection closed inside the answer"
    return int(status_line.split()[1]), headers, body


def _nothing_more(connection: socket.socket, answers: BinaryIO, then: bytes) -> bytes:
    """Send bytes after an answer, and what the server says to them before it closes (b"" when it reads none)."""
    try:
        connection.sendall(then)
        return answers.read()
    except (BrokenPipeError, ConnectionResetError):
        return b""  # closed already: nothing was read


def _cases_with_bodies() -> list[tuple[str, str, str, str, str, bool]]:
    return [(method, path, media_type, connection, upgrade, framing == "chunked")
            for method, path, media_type in _ROUTES_WITH_BODIES for connection, upgrade in _OFFERS for framing in _FRAMINGS]


CASES_WITH_BODIES = _cases_with_bodies()


def test_the_cases_were_found() -> None:
    assert len(CASES_WITH_BODIES) == 48 and len(_OFFERS) == 6


@pytest.mark.parametrize(("method", "path", "media_type", "offer", "upgrade", "chunked"), CASES_WITH_BODIES)
@pytest.mark.parametrize("together", [True, False], ids=["one-segment", "body-after-the-answer"])
def test_a_body_sent_with_an_upgrade_offer_is_refused_and_its_bytes_never_read_as_a_request(
    submission_server: SubmissionServer, method: str, path: str, media_type: str, offer: str, upgrade: str,
    chunked: bool, together: bool,
) -> None:
    smuggled = _smuggled()
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(smuggled)}"
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(smuggled), smuggled) if chunked else smuggled
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: {offer}\r\nUpgrade: {upgrade}\r\n"
            f"Content-Type: {media_type}\r\n{framing}\r\n"
            f"Authorization: Bearer {submission_server.tokens['alice']}\r\n\r\n").encode()
    with _connected(submission_server) as (connection, answers):
        connection.sendall(head + body if together else head)
        status, headers, answer = _read_answer(answers)
        assert (status, headers["content-type"], headers["connection"]) == (400, "application/problem+json", "close")
        assert answer.decode().endswith(f'"detail": "{_REFUSED}"}}')
        assert _nothing_more(connection, answers, b"" if together else body) == b""


@pytest.mark.parametrize(("offer", "upgrade"), _OFFERS)
@pytest.mark.parametrize("path", ["/health", "/sparql?query=ASK%7B%7D"])
def test_an_upgrade_offer_without_a_body_is_answered_as_plain_http_and_the_connection_closed(
    submission_server: SubmissionServer, offer: str, upgrade: str, path: str,
) -> None:
    head = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: {offer}\r\nUpgrade: {upgrade}\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Accept: application/json, application/sparql-results+json\r\n\r\n").encode()
    with _connected(submission_server) as (connection, answers):
        connection.sendall(head)
        status, headers, answer = _read_answer(answers)
        assert (status, headers["connection"]) == (200, "close")  # never 101: no other protocol is spoken
        assert b'"status"' in answer if path == "/health" else answer == b'{"head":{},"boolean":true}'
        assert _nothing_more(connection, answers, _smuggled()) == b""


def test_a_connect_request_is_refused_and_nothing_after_it_read(submission_server: SubmissionServer) -> None:
    with _connected(submission_server) as (connection, answers):
        connection.sendall(b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n")
        status, headers, _ = _read_answer(answers)
        assert (status, headers["connection"]) == (400, "close")
        assert _nothing_more(connection, answers, _smuggled()) == b""


_NOT_HTTP = ("The request is not valid HTTP/1.1 (RFC 9112): check its request line and headers, and the framing of "
             "its body (one Content-Length, or Transfer-Encoding: chunked, never both).")
_HOST = "A request must carry exactly one Host header (RFC 9112, 3.2); HTTP/1.0 may carry none."
_POST = b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
_ASK = b"ASK {}"
_CHUNKED_ASK = b"6\r\nASK {}\r\n0\r\n\r\n"
# (name, the request's bytes up to where a smuggled request would follow, the answer's words)
_AMBIGUOUS = [
    ("two-lengths", _POST + b"Content-Length: 6\r\nContent-Length: 60\r\n\r\n" + _ASK, _NOT_HTTP),
    ("the-same-length-twice", _POST + b"Content-Length: 6\r\nContent-Length: 6\r\n\r\n" + _ASK, _NOT_HTTP),
    ("a-length-list", _POST + b"Content-Length: 6, 6\r\n\r\n" + _ASK, _NOT_HTTP),
    ("length-then-chunks", _POST + b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n" + _CHUNKED_ASK, _NOT_HTTP),
    ("chunks-then-length", _POST + b"Transfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n" + _CHUNKED_ASK, _NOT_HTTP),
    ("unknown-coding", _POST + b"Transfer-Encoding: xchunked\r\nContent-Length: 6\r\n\r\n" + _ASK, _NOT_HTTP),
    ("chunked-not-last", _POST + b"Transfer-Encoding: chunked, identity\r\n\r\n" + _CHUNKED_ASK, _NOT_HTTP),
    ("two-codings-headers", _POST + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n" + _CHUNKED_ASK,
     _NOT_HTTP),
    ("space-before-colon", _POST + b"Transfer-Encoding : chunked\r\nContent-Length: 6\r\n\r\n" + _ASK, _NOT_HTTP),
    ("folded-header", _POST + b"Transfer-Encoding:\r\n chunked\r\nContent-Length: 6\r\n\r\n" + _ASK, _NOT_HTTP),
    ("bare-line-feeds", _POST.replace(b"\r\n", b"\n") + b"Content-Length: 6\n\n" + _ASK, _NOT_HTTP),
    ("a-bare-line-feed", _POST + b"Content-Length: 6\nX-A: b\r\n\r\n" + _ASK, _NOT_HTTP),
    ("chunks-with-bare-line-feeds", _POST + b"Transfer-Encoding: chunked\r\n\r\n6\nASK {}\n0\n\n", _NOT_HTTP),
    ("chunk-size-overflow", _POST + b"Transfer-Encoding: chunked\r\n\r\n" + b"f" * 20 + b"\r\nASK {}\r\n0\r\n\r\n",
     _NOT_HTTP),
    ("negative-chunk-size", _POST + b"Transfer-Encoding: chunked\r\n\r\n-6\r\nASK {}\r\n0\r\n\r\n", _NOT_HTTP),
    ("0x-chunk-size", _POST + b"Transfer-Encoding: chunked\r\n\r\n0x6\r\nASK {}\r\n0\r\n\r\n", _NOT_HTTP),
    ("signed-length", _POST + b"Content-Length: +6\r\n\r\n" + _ASK, _NOT_HTTP),
    ("length-with-a-space", _POST + b"Content-Length: 6 6\r\n\r\n" + _ASK, _NOT_HTTP),
    ("hex-length", _POST + b"Content-Length: 0x6\r\n\r\n" + _ASK, _NOT_HTTP),
    ("nul-in-a-header", _POST + b"X-A: a\x00b\r\nContent-Length: 6\r\n\r\n" + _ASK, _NOT_HTTP),
    ("cr-in-a-header", _POST + b"X-A: a\rb\r\nContent-Length: 6\r\n\r\n" + _ASK, _NOT_HTTP),
    ("http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", _NOT_HTTP),
    ("lower-case-method", b"get /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", _NOT_HTTP),
    ("no-host", b"GET /health HTTP/1.1\r\n\r\n", _HOST),
    ("two-hosts", b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n", _HOST),
    ("the-same-host-twice", b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\n\r\n", _HOST),
    ("two-hosts-http10", b"GET /health HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", _HOST),
    ("a-post-without-host", b"POST /sparql HTTP/1.1\r\nContent-Type: application/sparql-query\r\nContent-Length: 6\r\n\r\n"
     + _ASK, _HOST),
]


def test_the_framing_cases_were_found() -> None:
    assert len(_AMBIGUOUS) == 28


@pytest.mark.parametrize(("name", "request_bytes", "message"), _AMBIGUOUS, ids=[c[0] for c in _AMBIGUOUS])
def test_a_request_framed_ambiguously_is_refused_and_nothing_after_it_read(
    submission_server: SubmissionServer, name: str, request_bytes: bytes, message: str,
) -> None:
    with _connected(submission_server) as (connection, answers):
        connection.sendall(request_bytes + _smuggled())
        status, headers, answer = _read_answer(answers)
        assert (status, headers["content-type"], headers["connection"]) == (400, "application/problem+json", "close")
        assert answer.decode().endswith(f'"detail": "{message}"}}')
        assert _nothing_more(connection, answers, b"") == b""


@pytest.mark.parametrize("request_bytes", [
    b"GET /health HTTP/1.0\r\n\r\n",  # as HAProxy's health checks send it
    b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n",  # empty, as RFC 9112 allows
], ids=["http10-without-host", "one-host", "one-empty-host"])
def test_a_request_with_its_one_host_or_none_in_http10_is_answered(
    submission_server: SubmissionServer, request_bytes: bytes,
) -> None:
    with _connected(submission_server) as (connection, answers):
        connection.sendall(request_bytes)
        status, _, answer = _read_answer(answers)
        assert (status, json.loads(answer)["status"]) == (200, "ok")


_HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def test_at_most_16_pipelined_requests_wait_and_the_rest_is_not_read(submission_server: SubmissionServer) -> None:
    # uvicorn read every request of a read ahead of their answers and kept each waiting, at some 75 times its size:
    # one connection pipelining 200,000 of these took the server from 153 to 339 MB.
    with _connected(submission_server) as (connection, answers):
        connection.sendall(_HEALTH * 1000)  # one write: the server reads it at once
        got = [_read_answer(answers) for _ in range(17)]
        assert [status for status, _, _ in got] == [200] * 17
        assert [headers.get("connection") for _, headers, _ in got] == [None] * 16 + ["close"]
        assert _nothing_more(connection, answers, b"") == b""


def test_a_few_pipelined_requests_are_all_answered_on_a_connection_that_stays(
    submission_server: SubmissionServer,
) -> None:
    with _connected(submission_server) as (connection, answers):
        connection.sendall(_HEALTH * 17)
        assert [_read_answer(answers)[0] for _ in range(17)] == [200] * 17
        connection.sendall(_HEALTH)
        status, headers, _ = _read_answer(answers)
        assert (status, headers.get("connection")) == (200, None)
