"""Offers to switch protocols (`Connection: upgrade` with `Upgrade: …`, and CONNECT) are declined on every route:
a body sent with one is refused, one without is answered as plain HTTP, and nothing more is read from the
connection, so bytes that follow can never be taken for a request a proxy in front did not see.

uvicorn's httptools protocol stopped parsing at the end of such a request's headers: the app got an empty body,
and the body's bytes, when they arrived in a later segment, were parsed as a new request (request smuggling).
"""

import socket
import uuid

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


def _read_answer(connection: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One answer: its status, headers and body (every answer here has a Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        part = connection.recv(65536)
        assert part, f"the connection closed before an answer: {data!r}"
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        part = connection.recv(65536)
        assert part, "the connection closed inside the answer"
        body += part
    assert len(body) == int(headers["content-length"]), "more bytes than one answer"
    return int(lines[0].split(" ")[1]), headers, body


def _nothing_more(connection: socket.socket, then: bytes) -> bytes:
    """Send bytes after an answer, and what the server says to them before it closes (b"" when it reads none)."""
    try:
        connection.sendall(then)
        said = b""
        while part := connection.recv(65536):
            said += part
        return said
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
    with socket.create_connection(("127.0.0.1", submission_server.port), timeout=30) as connection:
        connection.sendall(head + body if together else head)
        status, headers, answer = _read_answer(connection)
        assert (status, headers["content-type"], headers["connection"]) == (400, "application/problem+json", "close")
        assert answer.decode().endswith(f'"detail": "{_REFUSED}"}}')
        assert _nothing_more(connection, b"" if together else body) == b""


@pytest.mark.parametrize(("offer", "upgrade"), _OFFERS)
@pytest.mark.parametrize("path", ["/health", "/sparql?query=ASK%7B%7D"])
def test_an_upgrade_offer_without_a_body_is_answered_as_plain_http_and_the_connection_closed(
    submission_server: SubmissionServer, offer: str, upgrade: str, path: str,
) -> None:
    head = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: {offer}\r\nUpgrade: {upgrade}\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Accept: application/json, application/sparql-results+json\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", submission_server.port), timeout=30) as connection:
        connection.sendall(head)
        status, headers, answer = _read_answer(connection)
        assert (status, headers["connection"]) == (200, "close")  # never 101: no other protocol is spoken
        assert b'"status"' in answer if path == "/health" else answer == b'{"head":{},"boolean":true}'
        assert _nothing_more(connection, _smuggled()) == b""


def test_a_connect_request_is_refused_and_nothing_after_it_read(submission_server: SubmissionServer) -> None:
    with socket.create_connection(("127.0.0.1", submission_server.port), timeout=30) as connection:
        connection.sendall(b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n")
        status, headers, _ = _read_answer(connection)
        assert (status, headers["connection"]) == (400, "close")
        assert _nothing_more(connection, _smuggled()) == b""
