"""The W3C SPARQL 1.1 Protocol tests (w3c/rdf-tests, sparql/sparql11/protocol/manifest.ttl, 34
tests), run against the server as a read-only query service.

Each test below carries the name of the manifest entry it follows and makes the request the
entry describes. Three kinds:
- query tests, run as written;
- dataset tests, adapted: the manifest's graphs live at kasei.us and the service is expected
  to fetch them; this service never fetches a graph (it answers 400 instead, see
  test_a_remote_dataset_is_refused), so the same requests name two of its stored graphs;
- update tests: this endpoint is read-only, so each must be refused with a 4xx and leave the
  store unchanged.
"""

import httpx
import pytest

from tests.support.servers import RunningServer, stored

NORMLEX = "https://w3id.org/ilo-partnerships/graph/data/normlex"
M49 = "https://w3id.org/ilo-partnerships/graph/data/un-m49-regions"
C029 = "https://w3id.org/ilo-partnerships/id/convention/C029"
ASIA = "https://w3id.org/ilo-partnerships/id/region/142"
RESULT_TYPES = ("application/sparql-results+xml", "application/sparql-results+json")
RDF_TYPES = ("application/rdf+xml", "application/rdf+json", "text/turtle")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
DIRECT = {"Content-Type": "application/sparql-query"}


def boolean(response: httpx.Response) -> bool:
    assert 200 <= response.status_code < 400, response.text
    assert response.headers["content-type"].split(";")[0] in RESULT_TYPES
    return response.json()["boolean"] if "json" in response.headers["content-type"] else "<boolean>true" in response.text


def sparql(server: RunningServer, method: str, **kwargs: object) -> httpx.Response:
    return httpx.request(method, server.url + "/sparql", timeout=30, **kwargs)  # type: ignore[arg-type]


# ---- query tests, as written


def test_query_post_form(sparql_server: RunningServer) -> None:
    assert boolean(sparql(sparql_server, "POST", content=b"query=ASK%20%7B%7D", headers=FORM)) is True


def test_query_get(sparql_server: RunningServer) -> None:
    assert boolean(sparql(sparql_server, "GET", params={"query": "ASK {}"})) is True


def test_query_post_direct(sparql_server: RunningServer) -> None:
    assert boolean(sparql(sparql_server, "POST", content=b"ASK {}", headers=DIRECT)) is True


@pytest.mark.parametrize("name, query, allowed", [
    ("query_content_type_select", "SELECT (1 AS ?value) {}", (*RESULT_TYPES, "text/tab-separated-values", "text/csv")),
    ("query_content_type_ask", "ASK {}", RESULT_TYPES),
    ("query_content_type_describe", "DESCRIBE <http://example.org/>", RDF_TYPES),
    ("query_content_type_construct", "CONSTRUCT { <http://example.org/s> <http://example.org/p> 1 } WHERE {}", RDF_TYPES),
])
def test_query_content_type(sparql_server: RunningServer, name: str, query: str, allowed: tuple[str, ...]) -> None:
    response = sparql(sparql_server, "POST", content=query.encode(), headers=DIRECT)
    assert 200 <= response.status_code < 400
    assert response.headers["content-type"].split(";")[0] in allowed, name


# ---- dataset tests, adapted to stored graphs (the service never fetches one)


def test_query_dataset_default_graphs_get(sparql_server: RunningServer) -> None:
    query = f"ASK {{ <{C029}> ?p ?o . <{ASIA}> ?q ?r }}"
    response = sparql(sparql_server, "GET", params={"query": query, "default-graph-uri": [NORMLEX, M49]})
    assert boolean(response) is True


def test_query_dataset_default_graphs_post(sparql_server: RunningServer) -> None:
    query = f"ASK {{ <{C029}> ?p ?o . <{ASIA}> ?q ?r }}"
    response = sparql(sparql_server, "POST", params={"default-graph-uri": [NORMLEX, M49]}, content=query.encode(), headers=DIRECT)
    assert boolean(response) is True


def test_query_dataset_named_graphs_post(sparql_server: RunningServer) -> None:
    query = "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    response = sparql(sparql_server, "POST", params={"named-graph-uri": [NORMLEX, M49]}, content=query.encode(),
                      headers={**DIRECT, "Accept": "text/csv"})
    assert response.text == f"g\r\n{NORMLEX}\r\n{M49}\r\n"


def test_query_dataset_named_graphs_get(sparql_server: RunningServer) -> None:
    query = "ASK { GRAPH ?g { ?s ?p ?o } }"
    assert boolean(sparql(sparql_server, "GET", params={"query": query, "named-graph-uri": [NORMLEX, M49]})) is True


def test_query_dataset_full(sparql_server: RunningServer) -> None:
    query = "SELECT DISTINCT ?g { ?x ?y ?o GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    response = sparql(sparql_server, "POST", params={"default-graph-uri": M49, "named-graph-uri": [NORMLEX, M49]},
                      content=query.encode(), headers={**DIRECT, "Accept": "text/csv"})
    # The M49 graph's objects are found in itself; NORMLEX shares none of them.
    assert response.status_code == 200 and response.text == f"g\r\n{M49}\r\n"


def test_query_multiple_dataset(sparql_server: RunningServer) -> None:
    # The protocol's dataset wins over the query's FROM.
    query = f"ASK FROM <{NORMLEX}> {{ <{C029}> ?p ?o }}"
    overridden = sparql(sparql_server, "POST", params={"default-graph-uri": M49}, content=query.encode(), headers=DIRECT)
    assert boolean(overridden) is False
    assert boolean(sparql(sparql_server, "POST", content=query.encode(), headers=DIRECT)) is True


# Beyond the W3C case: every form of query and of dataset clause gives way to the protocol's dataset, on every store.
PROTOCOL_DATASET_WINS = [
    (f"SELECT DISTINCT ?g FROM NAMED <{NORMLEX}> {{ GRAPH ?g {{ ?s ?p ?o }} }}", {"named-graph-uri": M49},
     f"g\r\n{M49}\r\n", f"g\r\n{NORMLEX}\r\n"),
    (f"PREFIX g: <https://w3id.org/ilo-partnerships/graph/data/>\nSELECT (COUNT(*) AS ?n) FROM g:normlex "
     f"{{ <{C029}> ?p ?o }}", {"default-graph-uri": M49}, "n\r\n0\r\n", "n\r\n2\r\n"),
    (f"select ?g from named <{NORMLEX}> # the query's graph\nfrom <{NORMLEX}> {{ GRAPH ?g {{ <{C029}> ?p ?o }} }} LIMIT 1",
     {"named-graph-uri": M49, "default-graph-uri": M49}, "g\r\n", f"g\r\n{NORMLEX}\r\n"),
]


@pytest.mark.parametrize(("query", "dataset", "rows", "own_rows"), PROTOCOL_DATASET_WINS,
                         ids=["from-named", "prefixed-from", "both-clauses-lower-case-with-a-comment"])
def test_the_protocol_dataset_replaces_every_dataset_clause(
    sparql_server: RunningServer, query: str, dataset: dict[str, str], rows: str, own_rows: str,
) -> None:
    csv = {**DIRECT, "Accept": "text/csv"}
    response = sparql(sparql_server, "POST", params=dataset, content=query.encode(), headers=csv)
    assert (response.status_code, response.text) == (200, rows)
    own = sparql(sparql_server, "POST", content=query.encode(), headers=csv)  # without it, the query's own
    assert (own.status_code, own.text) == (200, own_rows)


def test_a_remote_dataset_is_refused(sparql_server: RunningServer, listener: tuple[int, list[bytes]]) -> None:
    port, received = listener
    remote = f"http://127.0.0.1:{port}/data1.rdf"
    response = sparql(sparql_server, "GET", params={"query": "ASK { ?s ?p ?o }", "default-graph-uri": remote})
    assert response.status_code == 400 and "never fetches one from elsewhere" in response.text
    assert received == []


# ---- bad requests: 4xx


@pytest.mark.parametrize("name, method, kwargs", [
    ("bad_query_method", "PUT", {"params": {"query": "ASK {}"}}),
    ("bad_multiple_queries", "GET", {"params": {"query": ["ASK {}", "SELECT * {}"]}}),
    ("bad_query_wrong_media_type", "POST", {"content": b"ASK {}", "headers": {"Content-Type": "text/plain"}}),
    ("bad_query_missing_form_type", "POST", {"content": b"query=ASK%20%7B%7D"}),
    ("bad_query_missing_direct_type", "POST", {"content": b"ASK {}"}),
    ("bad_query_non_utf8", "POST", {"content": "ASK {}".encode("utf-16"),
                                    "headers": {"Content-Type": "application/sparql-query; charset=UTF-16"}}),
    ("bad_query_syntax", "GET", {"params": {"query": "ASK {"}}),
    ("bad_update_get", "GET", {"params": {"update": "CLEAR ALL"}}),
    ("bad_multiple_updates", "POST", {"content": b"update=CLEAR%20NAMED&update=CLEAR%20DEFAULT", "headers": FORM}),
    ("bad_update_wrong_media_type", "POST", {"content": b"CLEAR NAMED", "headers": {"Content-Type": "text/plain"}}),
    ("bad_update_missing_form_type", "POST", {"content": b"update=CLEAR%20NAMED"}),
    ("bad_update_non_utf8", "POST", {"content": "CLEAR NAMED".encode("utf-16"),
                                     "headers": {"Content-Type": "application/sparql-update; charset=UTF-16"}}),
    ("bad_update_syntax", "POST", {"content": b"update=CLEAR%20XYZ", "headers": FORM}),
    ("bad_update_dataset_conflict", "POST", {
        "content": b"using-named-graph-uri=http%3A%2F%2Fexample%2Fpeople&update=WITH%20%3Chttp%3A%2F%2Fexample%2Faddresses"
                   b"%3E%20DELETE%20%7B%20%3Fp%20%3Chttp%3A%2F%2Fxmlns.com%2Ffoaf%2F0.1%2FgivenName%3E%20%27Bill%27%20%7D"
                   b"%20WHERE%20%7B%20%3Fp%20%3Chttp%3A%2F%2Fxmlns.com%2Ffoaf%2F0.1%2FgivenName%3E%20%27Bill%27%20%7D",
        "headers": FORM}),
])
def test_bad_requests_get_a_4xx(sparql_server: RunningServer, name: str, method: str, kwargs: dict) -> None:
    response = sparql(sparql_server, method, **kwargs)
    assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
    assert response.text.strip()


# ---- update tests: refused (a read-only service), the store unchanged

UPDATE = (
    "PREFIX dc: <http://purl.org/dc/terms/> PREFIX foaf: <http://xmlns.com/foaf/0.1/> CLEAR ALL ; "
    "INSERT DATA { GRAPH <http://kasei.us/2009/09/sparql/data/data1.rdf> { <http://kasei.us/2009/09/sparql/data/data1.rdf> "
    "a foaf:Document } } ; INSERT { GRAPH <http://example.org/protocol-update-dataset-test/> { ?s a dc:BibliographicResource } } "
    "WHERE { ?s a foaf:Document }"
)


@pytest.mark.parametrize("name, kwargs", [
    ("update_dataset_default_graph", {"params": {"using-graph-uri": "http://kasei.us/2009/09/sparql/data/data1.rdf"},
                                      "content": UPDATE.encode(), "headers": {"Content-Type": "application/sparql-update"}}),
    ("update_dataset_default_graphs", {"params": {"using-graph-uri": ["http://kasei.us/2009/09/sparql/data/data1.rdf",
                                                                       "http://kasei.us/2009/09/sparql/data/data2.rdf"]},
                                       "content": UPDATE.encode(), "headers": {"Content-Type": "application/sparql-update"}}),
    ("update_dataset_named_graphs", {"params": {"using-named-graph-uri": "http://kasei.us/2009/09/sparql/data/data1.rdf"},
                                     "content": UPDATE.encode(), "headers": {"Content-Type": "application/sparql-update"}}),
    ("update_dataset_full", {"params": {"using-graph-uri": "http://kasei.us/2009/09/sparql/data/data1.rdf",
                                        "using-named-graph-uri": "http://kasei.us/2009/09/sparql/data/data2.rdf"},
                             "content": UPDATE.encode(), "headers": {"Content-Type": "application/sparql-update"}}),
    ("update_post_form", {"content": b"update=CLEAR%20ALL", "headers": FORM}),
    ("update_post_direct", {"content": b"CLEAR ALL", "headers": {"Content-Type": "application/sparql-update"}}),
    ("update_base_uri", {"content": b"CLEAR GRAPH <http://example.org/protocol-base-test/> ; INSERT DATA { GRAPH "
                                    b"<http://example.org/protocol-base-test/> { <http://example.org/s> "
                                    b"<http://example.org/p> <test> } }",
                         "headers": {"Content-Type": "application/sparql-update"}}),
])
def test_updates_are_refused_and_change_nothing(sparql_server: RunningServer, name: str, kwargs: dict) -> None:
    before = stored(sparql_server)
    response = sparql(sparql_server, "POST", **kwargs)
    assert 400 <= response.status_code < 500, (name, response.status_code)
    assert "SPARQL Update is not accepted" in response.text or "send the query as application/sparql-query" in response.text
    assert stored(sparql_server) == before
