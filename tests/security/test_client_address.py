"""Who the client is, for the fair shares and rates counted per client address, and which address the links in
answers name: what connected, unless the peer is a proxy the operator listed (ILOKG_TRUSTED_PROXIES), and the public
address the operator gave (ILOKG_PUBLIC_URL) whatever a request claims.

Every header a client could use to claim another address or scheme is sent from a peer that is not trusted, to a
server trusting nobody (the default) and to one trusting another address; the validation rate (two an hour, so no
window ends during the test) shows whose allowance a request spent. Behind the shipped HAProxy configuration, see
tests/test_replicas.py.
"""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.servers import EXAMPLES, RunningServer

FILE = (EXAMPLES / "first-submission.ttl").read_bytes()
TURTLE = {"Content-Type": "text/turtle"}
PROXY = "127.0.0.2"  # where the trusted proxy connects from (all of 127.0.0.0/8 is this machine's loopback)
OTHER_CLIENT = "127.0.0.3"

# Headers that proxies, CDNs and frameworks use for the original client's address.
CLAIMED_ADDRESSES: list[list[tuple[str, str]]] = [
    [("X-Forwarded-For", "198.51.100.1")],
    [("X-Forwarded-For", "198.51.100.2, 198.51.100.3")],
    [("X-Forwarded-For", "198.51.100.4"), ("X-Forwarded-For", "198.51.100.5")],
    [("X-Forwarded-For", PROXY)],
    [("X-Forwarded-For", f"198.51.100.6, {PROXY}")],
    [("X-Forwarded-For", "[2001:db8::1]:443")],
    [("X-Forwarded-For", "unknown")],
    [("X-Forwarded-For", "")],
    [("Forwarded", "for=198.51.100.7;proto=https")],
    [("X-Real-IP", "198.51.100.8")],
    [("True-Client-IP", "198.51.100.9")],
    [("CF-Connecting-IP", "198.51.100.10")],
    [("Fastly-Client-IP", "198.51.100.11")],
    [("X-Client-IP", "198.51.100.12")],
    [("X-Cluster-Client-IP", "198.51.100.13")],
    [("X-Originating-IP", "198.51.100.14")],
    [("Client-IP", "198.51.100.15")],
]
# Headers that proxies and frameworks use for the scheme (and host) the client used.
CLAIMED_SCHEMES: list[list[tuple[str, str]]] = [
    [("X-Forwarded-Proto", "https")],
    [("X-Forwarded-Proto", "http"), ("X-Forwarded-Proto", "https")],
    [("Forwarded", "proto=https;host=evil.example")],
    [("X-Forwarded-Scheme", "https")],
    [("X-Forwarded-Ssl", "on")],
    [("Front-End-Https", "on")],
    [("X-Url-Scheme", "https")],
    [("X-Forwarded-Host", "evil.example")],
]


def _client(source: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=60)


def _validate(server: RunningServer, source: str, headers: list[tuple[str, str]] | None = None) -> httpx.Response:
    with _client(source) as client:
        return client.post(server.url + "/validate", content=FILE, headers=[*TURTLE.items(), *(headers or [])])


def _links(server: RunningServer, source: str, headers: list[tuple[str, str]]) -> set[str]:
    """The endpoint's own URL as the dataset description and the service description give it."""
    with _client(source) as client:
        void = client.get(server.url + "/.well-known/void", headers=[("Accept", "text/turtle"), *headers])
        description = client.get(server.url + "/sparql", headers=[("Accept", "text/turtle"), *headers])
    assert void.status_code == description.status_code == 200
    return {line.split()[-2] for line in void.text.splitlines() if "void:sparqlEndpoint" in line} | {
        line.split()[-2] for line in description.text.splitlines() if "sd:endpoint" in line}


def _server(folder: Path, trusted: str | None, public: str | None = None) -> RunningServer:
    env = {"ILOKG_VALIDATION_RATE": "2/hour"} | ({"ILOKG_TRUSTED_PROXIES": f'["{trusted}"]'} if trusted else {})
    return RunningServer(folder / "store", env | ({"ILOKG_PUBLIC_URL": public} if public else {})).start()


@pytest.fixture(scope="module")
def trusting_nobody(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = _server(tmp_path_factory.mktemp("trusting-nobody"), None)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def trusting_the_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = _server(tmp_path_factory.mktemp("trusting-the-proxy"), PROXY)
    yield running
    running.stop()


@pytest.mark.parametrize("which", ["trusting_nobody", "trusting_the_proxy"])
def test_a_peer_not_trusted_cannot_claim_another_address_or_scheme(request: pytest.FixtureRequest, which: str) -> None:
    server: RunningServer = request.getfixturevalue(which)
    # This peer spends its own allowance; then no claim of another address earns a new one.
    assert [_validate(server, "127.0.0.1").status_code for _ in range(2)] == [200, 200]
    for headers in CLAIMED_ADDRESSES:
        refused = _validate(server, "127.0.0.1", headers)
        assert refused.status_code == 429, headers
        assert refused.json()["detail"].startswith("Too many validations: 2 per 1 hour are allowed; try again in ")
    # The allowance is this address's, not everyone's: another client still has its own.
    assert _validate(server, OTHER_CLIENT).status_code == 200
    own = f"<{server.url}/sparql>"
    assert _links(server, "127.0.0.1", []) == {own}
    for headers in CLAIMED_SCHEMES:
        assert _links(server, "127.0.0.1", headers) == {own}, headers


def test_trusting_nobody_the_proxys_address_is_just_another_client(trusting_nobody: RunningServer) -> None:
    answers = [_validate(trusting_nobody, PROXY, [("X-Forwarded-For", f"198.51.100.{n}")]) for n in (20, 21, 22)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert _links(trusting_nobody, PROXY, [("X-Forwarded-Proto", "https")]) == {f"<{trusting_nobody.url}/sparql>"}


def test_behind_a_trusted_proxy_each_client_is_the_address_the_proxy_names(trusting_the_proxy: RunningServer) -> None:
    server = trusting_the_proxy
    named = [("X-Forwarded-For", "198.51.100.20")]
    assert [_validate(server, PROXY, named).status_code for _ in range(3)] == [200, 200, 429]
    # Another client behind the same proxy has an allowance of its own; a chain is read from its right end.
    assert _validate(server, PROXY, [("X-Forwarded-For", "198.51.100.21")]).status_code == 200
    assert _validate(server, PROXY, [("X-Forwarded-For", "198.51.100.20, 198.51.100.22")]).status_code == 200
    assert _validate(server, PROXY, [("X-Forwarded-For", "198.51.100.22")]).status_code == 200
    # The scheme the proxy says the client used is the links' scheme.
    secure = f"<{server.url.replace('http://', 'https://')}/sparql>"
    assert _links(server, PROXY, [("X-Forwarded-Proto", "https")]) == {secure}
    assert _links(server, PROXY, []) == {f"<{server.url}/sparql>"}


@pytest.fixture(scope="module")
def with_a_public_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = _server(tmp_path_factory.mktemp("public-address"), PROXY, "https://kg.example.org")
    yield running
    running.stop()


def test_with_a_public_address_every_link_names_it_whatever_a_request_claims(
    with_a_public_address: RunningServer,
) -> None:
    server, public = with_a_public_address, "https://kg.example.org"
    claims: list[list[tuple[str, str]]] = [[], [("Host", "evil.example")], [("Host", "127.0.0.1:1")], *CLAIMED_SCHEMES,
                                           [("X-Forwarded-Proto", "http")]]
    for source in ("127.0.0.1", PROXY):  # a client, and the trusted proxy (whose X-Forwarded-Proto it overrides too)
        for headers in claims:
            assert _links(server, source, headers) == {f"<{public}/sparql>"}, (source, headers)
    with _client("127.0.0.1") as client:
        headers = [("Host", "evil.example")]
        page = client.get(server.url + "/queries/projects", params={"limit": "4"}, headers=headers).json()
        assert page["next"] == f"{public}/queries/projects?limit=4&offset=4"
        entity = client.get(server.url + "/id/country/KR", headers=[*headers, ("Accept", "application/ld+json")])
        assert entity.status_code == 200 and entity.json()["@context"] == f"{public}/context.jsonld"
        page_html = client.get(server.url + "/sparql", headers=[*headers, ("Accept", "text/html")]).text
        assert "evil.example" not in page_html and f"{public}/sparql" in page_html
