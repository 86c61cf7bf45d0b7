"""Slow senders: headers or a body trickled a byte at a time are cut with 408; a slow but steady
upload is not.

The server here gives headers 1 s (ILOKG_HEADER_TIMEOUT_SECONDS) and a body 1 s plus 1 s per 500
bytes received (ILOKG_BODY_TIMEOUT_SECONDS, ILOKG_BODY_MIN_RATE), so that the tests take
seconds, not the defaults' tens of seconds.
"""

import json
import socket
import time
import urllib.parse
from collections.abc import Iterator

import httpx
import pytest

from tests.support.servers import RunningServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(
        tmp_path_factory.mktemp("slow") / "store",
        {
            "ILOKG_HEADER_TIMEOUT_SECONDS": "1", "ILOKG_BODY_TIMEOUT_SECONDS": "1", "ILOKG_BODY_MIN_RATE": "500",
            "ILOKG_TOKENS_FILE": "/nonexistent/tokens.json",
        },
    ).start()
    yield running
    running.stop()


def _post_in_chunks(
    server: RunningServer, path: str, chunks: list[bytes], pause: float, declared: int,
    content_type: str = "application/sparql-query",
) -> tuple[int, dict[str, str], bytes]:
    """POST a body in chunks with pauses between them; the answer's status, headers and body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Accept: application/sparql-results+json\r\nConnection: close\r\nContent-Length: {declared}\r\n\r\n".encode()
        )
        for chunk in chunks:
            try:
                connection.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed: read what it said
            time.sleep(pause)
        answer = b""
        # Connection: close, so the answer ends when the server closes the connection.
        while part := connection.recv(65536):
            answer += part
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines[1:])}
    return int(lines[0].split(" ")[1]), headers, body


def test_a_body_trickled_a_byte_at_a_time_is_cut_with_408(server: RunningServer) -> None:
    status, headers, body = _post_in_chunks(server, "/sparql", [b" "] * 40, pause=0.1, declared=100_000)
    assert status == 408
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body) == {
        "type": "about:blank", "title": "Request Timeout", "status": 408,
        "detail": "The request body arrived too slowly: send it within 1 s, plus one second for each 500 bytes sent.",
    }
    assert headers["connection"] == "close"


def test_a_slow_but_steady_upload_is_answered(server: RunningServer) -> None:
    # 2,000 bytes in four parts, 0.25 s apart (0.75 s in all), against an allowance of 5 s (1 s, plus
    # one per 500 bytes): slow, and far enough inside the allowance for a busy machine's pauses.
    query = b"ASK {}" + b" " * 1994
    status, _, body = _post_in_chunks(server, "/sparql", [query[i : i + 500] for i in range(0, 2000, 500)], 0.25, 2000)
    assert status == 200
    assert json.loads(body) == {"head": {}, "boolean": True}


def _trickle(server: RunningServer, data: bytes, pause: float) -> bytes:
    """Send data a byte at a time with pauses (stopping when the server closes); what it answered."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        for byte in data:
            try:
                connection.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(pause)
        answer = b""
        while part := connection.recv(65536):
            answer += part
    return answer


HEADERS_TOO_SLOW = {"type": "about:blank", "title": "Request Timeout", "status": 408,
                    "detail": "The request headers did not arrive within 1 s; send the whole request promptly."}


def test_headers_trickled_a_byte_at_a_time_are_cut_with_408(server: RunningServer) -> None:
    answer = _trickle(server, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100, pause=0.1)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 408 Request Timeout"
    assert b"connection: close" in head
    assert b"content-type: application/problem+json" in head
    assert json.loads(body) == HEADERS_TOO_SLOW


def test_a_connection_that_sends_nothing_is_closed_with_408(server: RunningServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        answer = b""
        while part := connection.recv(65536):
            answer += part
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == HEADERS_TOO_SLOW


def test_a_kept_alive_connection_gets_the_deadline_for_each_request(server: RunningServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        answers = connection.makefile("rb")
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert answers.readline() == b"HTTP/1.1 200 OK\r\n"
        headers = dict(line.rstrip(b"\r\n").split(b": ", 1) for line in iter(answers.readline, b"\r\n"))
        assert json.loads(answers.read(int(headers[b"content-length"])))["status"] == "ok"
        time.sleep(1.5)  # longer than the header deadline, shorter than uvicorn's keep-alive (5 s)
        connection.sendall(b"GET /health HTTP/1.1\r\n")
        rest = answers.read()
    assert rest.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert json.loads(rest.partition(b"\r\n\r\n")[2]) == HEADERS_TOO_SLOW


def test_the_server_still_answers_after_cutting_slow_clients(server: RunningServer) -> None:
    for _ in range(3):
        assert _post_in_chunks(server, "/validate", [b"@"] * 30, 0.1, 5000, "text/turtle")[0] == 408
    status, _, body = _post_in_chunks(server, "/sparql", [b"ASK {}"], pause=0, declared=6)
    assert (status, json.loads(body)) == (200, {"head": {}, "boolean": True})


@pytest.fixture(scope="module")
def impatient_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server that waits 5 s (ILOKG_SEND_TIMEOUT_SECONDS) for a client to take some of a waiting answer."""
    running = RunningServer(tmp_path_factory.mktemp("impatient") / "store", {"ILOKG_SEND_TIMEOUT_SECONDS": "5"}).start()
    yield running
    running.stop()


_TCP_ESTABLISHED, _TCP_CLOSE = 1, 7
# Some 600,000 rows (the bundled data's 10,000 triples, 60 times): far more than the connection's buffers hold.
_LARGE_ANSWER = "SELECT * WHERE { ?s ?p ?o . VALUES ?x { " + " ".join(str(n) for n in range(60)) + " } }"


def _tcp_state(connection: socket.socket) -> int:
    return connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


def test_an_answer_the_client_stops_taking_is_cut_with_a_reset(impatient_server: RunningServer) -> None:
    # Before, the server kept such an answer for as long as the connection stayed open, however long that was.
    with socket.socket() as connection:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: the window stays small
        connection.connect(("127.0.0.1", impatient_server.port))
        connection.sendall(f"GET /sparql?query={urllib.parse.quote(_LARGE_ANSWER)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Accept: application/sparql-results+json\r\n\r\n".encode())
        # Nothing read: the server's buffers fill, and 5 s later it resets the connection (seen in the kernel's own
        # state of the socket, which reading would change).
        deadline = time.monotonic() + 120
        while _tcp_state(connection) == _TCP_ESTABLISHED and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _tcp_state(connection) == _TCP_CLOSE
        with pytest.raises(ConnectionResetError):
            while connection.recv(65536):
                pass
    assert httpx.get(impatient_server.url + "/health", timeout=30).json()["status"] == "ok"


def test_an_answer_taken_as_fast_as_it_comes_is_whole(impatient_server: RunningServer) -> None:
    answer = httpx.get(impatient_server.url + "/sparql", params={"query": _LARGE_ANSWER},
                       headers={"Accept": "text/tab-separated-values"}, timeout=120)
    assert answer.status_code == 200
    assert len(answer.text.splitlines()) == 1 + 60 * httpx.get(impatient_server.url + "/health").json()["triples"]
