"""Every request header the server reads, with values a hostile or broken client sends; header and
body limits held by the connection on every route; conditional requests answered as RFC 9110 says.

Requests go over raw sockets, so that bytes no HTTP client library would send (Latin-1, control
characters, absurd numbers) reach the server as they are.
"""

import itertools
import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.servers import RunningServer

MAX_HEADER_BYTES, MAX_HEADER_FIELDS = 8192, 30


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(
        tmp_path_factory.mktemp("headers") / "store",
        {
            "ILOKG_HEADER_TIMEOUT_SECONDS": "2", "ILOKG_BODY_TIMEOUT_SECONDS": "1", "ILOKG_BODY_MIN_RATE": "500",
            "ILOKG_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES), "ILOKG_MAX_HEADER_FIELDS": str(MAX_HEADER_FIELDS),
            "ILOKG_VALIDATION_RATE": "100000/minute", "ILOKG_TOKENS_FILE": "/nonexistent/tokens.json",
        },
    ).start()
    yield running
    running.stop()


def _send(server: RunningServer, request: bytes) -> tuple[int, bytes]:
    """Send one request (Connection: close is added) and read the whole answer: its status and body."""
    head, _, body = request.partition(b"\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as connection:
        connection.sendall(head + b"\r\nConnection: close\r\n\r\n" + body)
        answer = b""
        while part := connection.recv(65536):
            answer += part
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split(b" ")[1]), rest.partition(b"\r\n\r\n")[2]


# Where the server reads headers: each entry point with a request line and, for POSTs, a body.
TRIPLE = b"<https://example.org/a> a <https://example.org/B> ."
ENTRIES = {
    "sparql-get": (b"GET /sparql?query=ASK%20%7B%7D HTTP/1.1", b""),
    "sparql-post": (b"POST /sparql HTTP/1.1\r\nContent-Type: application/sparql-query", b"ASK {}"),
    "entity": (b"GET /id/country/KR HTTP/1.1", b""),
    "canned": (b"GET /queries/projects?limit=2 HTTP/1.1", b""),
    "dataset": (b"GET /dataset HTTP/1.1", b""),
    "dump": (b"GET /dumps/ilo-partnerships.nq.gz HTTP/1.1", b""),
    "static": (b"GET /assets/site.css HTTP/1.1", b""),
    "validate": (b"POST /validate HTTP/1.1\r\nContent-Type: text/turtle", TRIPLE),
    "submissions": (b"POST /submissions HTTP/1.1\r\nContent-Type: text/turtle", TRIPLE),
    "health": (b"GET /health HTTP/1.1", b""),
}
DIGITS = b"9" * 5000
# Values for any header: bytes outside ASCII, control characters, absurd numbers and dates, empty, long.
VALUES = [
    b"", b"\xff\xfe", b"\x01\x7f", b"*", b"," * 500, b";" * 500, b"a" * 4000, DIGITS[:4000],
    b"text/html;q=" + DIGITS[:4000], b"*/*;q=nan", b"*/*;q=-1", b"*/*;q=1e999", b"W/\"x\", *, \"\xff\"",
    b"Mon, 01 Jan 99999 00:00:00 GMT", b"Mon, 01 Jan 2020 00:00:00 +9999", b"Mon, 31 Feb 2020 99:99:99 GMT",
    # Dates an offset moves past the calendar's first or last day (a 500 once).
    b"Fri, 31 Dec 9999 23:59:59 -2359", b"Mon, 01 Jan 0001 00:00:00 +2359", b"Sat, 01 Jan 0001 00:00:00 +0001",
    b"1 Jan " + DIGITS[:3000] + b" 00:00:00 GMT", b"Bearer \xff", b"Bearer " + b"x" * 4000, b"Basic ::::",
    b"attachment; filename*=UTF-8''%ff%fe", b"attachment; filename=\"../../etc/passwd\"", b"text/turtle; charset=\xff",
    b"bytes=" + DIGITS[:3000] + b"-", b"bytes=5-1", b"http://\xff", b"null",
]
HEADERS = [
    b"Accept", b"Accept-Encoding", b"Accept-Language", b"Authorization", b"Content-Disposition", b"Content-Type",
    b"If-None-Match", b"If-Modified-Since", b"If-Match", b"If-Unmodified-Since", b"If-Range", b"Range", b"Origin",
    b"Access-Control-Request-Method", b"Access-Control-Request-Headers", b"X-Request-ID", b"X-Forwarded-For",
    b"Cookie", b"Referer", b"User-Agent", b"Host",
]


def _fuzz_cases() -> list[tuple[str, bytes, bytes]]:
    return [(entry, header, value) for entry, header, value in itertools.product(ENTRIES, HEADERS, VALUES)]


def test_the_header_fuzz_covers_every_entry_header_and_value() -> None:
    assert len(_fuzz_cases()) == len(ENTRIES) * len(HEADERS) * len(VALUES) > 5000


@pytest.mark.parametrize("header", HEADERS)
def test_no_header_value_makes_a_5xx_at_any_entry_point(server: RunningServer, header: bytes) -> None:
    failures = []
    for entry, value in itertools.product(ENTRIES, VALUES):
        line, body = ENTRIES[entry]
        # The Host header is replaced, not doubled; a body declares its length.
        host = b"" if header == b"Host" else b"\r\nHost: 127.0.0.1"
        length = b"\r\nContent-Length: %d" % len(body) if body else b""
        status, answer = _send(server, line + host + length + b"\r\n" + header + b": " + value + b"\r\n\r\n" + body)
        if status >= 500 or b"Traceback" in answer or b"/server/" in answer:
            failures.append((entry, value[:40], status, answer[:200]))
    assert failures == []


def test_the_server_is_well_after_the_fuzz(server: RunningServer) -> None:
    assert httpx.get(server.url + "/health", timeout=30).json()["status"] == "ok"


@pytest.mark.parametrize(("path", "headers", "status"), [
    # A wildcard or a date matches any representation: only for something that exists.
    ("/id/country/ZZ", {"If-None-Match": "*"}, 404),
    ("/id/country/ZZ", {"If-None-Match": "*", "Accept": "text/turtle"}, 404),
    ("/id/country/ZZ", {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}, 404),
    ("/id/country/KR", {"If-None-Match": "*"}, 304),
    ("/id/country/KR", {"If-None-Match": "*", "Accept": "text/turtle"}, 304),
    ("/id/country/KR", {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}, 304),
    ("/sparql?query=ASK%20%7B", {"If-None-Match": "*"}, 400),
    ("/sparql?query=ASK%20%7B", {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}, 400),
    ("/sparql?query=ASK%20%7B%7D", {"If-None-Match": "*"}, 304),
    ("/sparql?query=ASK%20%7B%7D", {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}, 304),
    ("/dumps/nothing.nq.gz", {"If-None-Match": "*"}, 404),
    # A date that cannot be read is ignored, as RFC 9110 says (13.1.3): the answer is sent.
    ("/id/country/KR", {"If-Modified-Since": "Mon, 01 Jan 2020 00:00:00 +9999"}, 200),
    ("/id/country/KR", {"If-Modified-Since": "Mon, 01 Jan 99999 00:00:00 GMT"}, 200),
    ("/sparql?query=ASK%20%7B%7D", {"If-Modified-Since": "yesterday"}, 200),
])
def test_conditional_requests_get_the_status_the_protocol_gives(
    server: RunningServer, path: str, headers: dict[str, str], status: int
) -> None:
    assert httpx.get(server.url + path, headers=headers, timeout=30).status_code == status


@pytest.mark.parametrize("parameter", ["limit", "offset"])
@pytest.mark.parametrize("digits", [19, 5000])
def test_a_paging_number_with_too_many_digits_is_refused_by_name(server: RunningServer, parameter: str, digits: int) -> None:
    answer = httpx.get(server.url + "/queries/projects", params={parameter: "9" * digits}, timeout=30)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["msg"].startswith(f"{parameter} must be a whole number from ")


def test_a_timeout_of_thousands_of_digits_is_the_deadline(server: RunningServer) -> None:
    answer = httpx.get(server.url + "/sparql", params={"query": "ASK {}", "timeout": "9" * 5000}, timeout=30)
    assert (answer.status_code, answer.json()) == (200, {"head": {}, "boolean": True})


TOO_LARGE = "The request line and headers may be at most 8192 bytes in at most 30 fields"


@pytest.mark.parametrize(("name", "request_head", "status"), [
    ("one-large-field", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000, 431),
    ("many-fields", b"GET /health HTTP/1.1\r\nHost: x" + b"".join(b"\r\nX-%d: a" % i for i in range(30)), 431),
    ("long-url", b"GET /health?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x", 431),
    ("long-query-in-url", b"GET /sparql?query=" + b"%20" * 3000 + b"ASK%7B%7D HTTP/1.1\r\nHost: x", 431),
    ("at-the-field-limit", b"GET /health HTTP/1.1\r\nHost: x" + b"".join(b"\r\nX-%d: a" % i for i in range(28)), 200),
    ("just-below-the-size", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000, 200),
])
def test_headers_over_the_limits_get_431(server: RunningServer, name: str, request_head: bytes, status: int) -> None:
    answered, body = _send(server, request_head + b"\r\n\r\n")
    assert answered == status
    if status == 431:
        assert TOO_LARGE in json.loads(body)["detail"]


def _trickled_until_closed(server: RunningServer, requests_before: bytes, head: bytes, most: int) -> tuple[bytes, int]:
    """After some complete requests, send `head` declaring a large body and trickle it, a byte at a
    time, until the server closes the connection (or `most` bytes): what came back, and bytes sent."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as connection:
        connection.sendall(requests_before + head + b"\r\nContent-Length: 100000\r\n\r\n")
        connection.setblocking(False)
        answer, sent = b"", 0
        while sent < most:
            try:
                connection.sendall(b"a")
                sent += 1
            except (BrokenPipeError, ConnectionResetError, BlockingIOError):
                break
            time.sleep(0.05)
            try:
                part = connection.recv(65536)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                break
            if part == b"":
                return answer, sent
            answer += part
    return answer, sent


# Routes that answer without reading a body, and one that reads it.
TRICKLE_ROUTES = [b"GET /health", b"GET /id/country/KR", b"GET /queries/projects?limit=1", b"GET /", b"OPTIONS /sparql",
                  b"GET /assets/site.css", b"POST /sparql"]


@pytest.mark.parametrize("route", TRICKLE_ROUTES)
def test_a_body_trickled_to_any_route_is_cut(server: RunningServer, route: bytes) -> None:
    # 2,000 bytes at most: at 500 bytes a second of credit, never enough to keep up with the deadline.
    content_type = b"application/sparql-query" if route == b"POST /sparql" else b"text/plain"
    answer, sent = _trickled_until_closed(server, b"", route + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " + content_type, 2000)
    assert sent < 2000, "the server kept the connection open"
    if route == b"POST /sparql":
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")


def test_a_body_trickled_on_a_kept_alive_connection_is_cut(server: RunningServer) -> None:
    first = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    answer, sent = _trickled_until_closed(server, first, b"GET /health HTTP/1.1\r\nHost: x", 2000)
    assert sent < 2000, "the server kept the connection open"
    assert answer.count(b"HTTP/1.1 200 OK") == 2
