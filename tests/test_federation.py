"""Opt-in federation: SERVICE to an allowlisted endpoint works, within its own deadline and size
cap; anything else is refused and receives nothing. A second server on 127.0.0.1 stands in
for a remote endpoint (Wikidata's, say)."""

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.problems import problem
from tests.support.servers import RunningServer

ILOP = "https://w3id.org/ilo-partnerships/ontology#"


class _Stub(http.server.BaseHTTPRequestHandler):
    """An endpoint that answers only when released (/slow) or too much (/huge), and counts its calls."""

    calls: list[str] = []
    # /slow answers once the test has its own answer: an answer that arrives at all was cut at the
    # federation deadline, whatever the machine's speed (no clock is read).
    release = threading.Event()

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        self.calls.append(self.path)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))  # (unread, it would reset the connection)
        if self.path.startswith("/slow"):
            self.release.wait(120)
        body = b'{"head": {"vars": ["x"]}, "results": {"bindings": [' + b",".join(
            [b'{"x": {"type": "literal", "value": "' + b"y" * 1000 + b'"}}'] * (3000 if self.path.startswith("/huge") else 1)
        ) + b"]}}"
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def stub() -> Iterator[tuple[str, list[str]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Stub.calls
    _Stub.release.set()
    server.shutdown()


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, stub: tuple[str, list[str]]
) -> Iterator[tuple[RunningServer, RunningServer]]:
    folder: Path = tmp_path_factory.mktemp("federation")
    remote = RunningServer(folder / "remote").start()
    allowed = [remote.url + "/sparql", stub[0] + "/slow", stub[0] + "/huge"]
    local = RunningServer(folder / "local", {
        "ILOKG_SERVICE_ALLOWLIST": str(allowed).replace("'", '"'),
        "ILOKG_FEDERATION_TIMEOUT_SECONDS": "2", "ILOKG_FEDERATION_MAX_BYTES": "1000000",
    }).start()
    yield local, remote
    local.stop()
    remote.stop()


def query(server: RunningServer, text: str) -> httpx.Response:
    return httpx.post(server.url + "/sparql", data={"query": text}, headers={"Accept": "text/csv"}, timeout=30)


def test_an_allowlisted_endpoint_answers_inside_a_query(servers: tuple[RunningServer, RunningServer]) -> None:
    local, remote = servers
    response = query(local, f"""
        PREFIX ilop: <{ILOP}>
        SELECT ?a2 ?m49 WHERE {{
            ?country ilop:iso3166Alpha2 ?a2 .
            SERVICE <{remote.url}/sparql> {{ ?same ilop:iso3166Alpha2 ?a2 ; ilop:m49Code ?m49 }}
        }} ORDER BY ?a2 LIMIT 3""")
    assert (response.status_code, response.text) == (200, "a2,m49\r\nBN,096\r\nCH,756\r\nCM,120\r\n")
    # The service description says so.
    description = httpx.get(local.url + "/sparql", headers={"Accept": "text/turtle"}).text
    assert "sd:BasicFederatedQuery" in description


def test_anything_not_allowlisted_is_refused_and_receives_nothing(
    servers: tuple[RunningServer, RunningServer], listener: tuple[int, list[bytes]]
) -> None:
    local, _ = servers
    port, received = listener
    response = query(local, f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}")
    assert response.status_code == 400
    assert problem(response)[1].startswith(f"SERVICE <http://127.0.0.1:{port}/sparql> is not allowed: this endpoint calls no "
                                    "other endpoint unless its operator allows it (allowed: <")
    time.sleep(0.5)
    assert received == []


def test_a_slow_endpoint_is_cut_at_the_federation_deadline(
    servers: tuple[RunningServer, RunningServer], stub: tuple[str, list[str]]
) -> None:
    local, _ = servers
    # The stub has not answered (it waits to be released): this answer is the deadline's.
    response = query(local, f"SELECT * WHERE {{ SERVICE <{stub[0]}/slow> {{ ?s ?p ?o }} }}")
    assert not _Stub.release.is_set()
    assert response.status_code == 400
    assert problem(response)[1] == (
        f"The query could not be evaluated: Error 504 Gateway Timeout returned by {stub[0]}/slow with payload:\n"
        f"{stub[0]}/slow did not answer within the federation deadline of 2 s.\n")
    assert "_federation" not in response.text  # the relay's secret address is not shown


def test_a_huge_answer_is_cut_at_the_size_cap(servers: tuple[RunningServer, RunningServer], stub: tuple[str, list[str]]) -> None:
    local, _ = servers
    response = query(local, f"SELECT * WHERE {{ SERVICE <{stub[0]}/huge> {{ ?s ?p ?o }} }}")
    assert response.status_code == 400
    # The relay's own message (the payload oxigraph quotes) ends its line.
    assert problem(response)[1].endswith(f"The answer of {stub[0]}/huge exceeds the federation limit of 1000000 bytes.\n")


def test_the_relay_is_no_open_proxy(servers: tuple[RunningServer, RunningServer]) -> None:
    local, _ = servers
    for path in ("/_federation/guess/0", "/_federation//0", "/_federation/guess/-1", "/_federation/guess/99"):
        assert httpx.get(local.url + path).status_code == 404


def test_without_an_allowlist_there_is_no_relay(sparql_server: RunningServer) -> None:
    assert httpx.get(sparql_server.url + "/_federation/anything/0").status_code == 404
    description = httpx.get(sparql_server.url + "/sparql", headers={"Accept": "text/turtle"}).text
    assert "BasicFederatedQuery" not in description
