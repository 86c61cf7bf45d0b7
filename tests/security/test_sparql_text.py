"""The query-text check reads SPARQL as the grammar and the engine do: every token rule, every escape.

The table tests of each terminal of the SPARQL 1.1 grammar (19.8) are in tests/unit/sparql/test_text.py.
Here, a differential test against the engine itself: for every context that
could hide a SERVICE from a lexer (comments with each line end, strings of the four kinds with
each escape, IRIs with UCHAR escapes, prefixed names with each PN_LOCAL_ESC) and every way of
writing the SERVICE, pyoxigraph runs the text in this process, with nothing containing it, against
a listener: whenever the engine contacted the listener, the lexer must have named that endpoint.
"""

import itertools
import socket
import threading

import httpx
import pyoxigraph as ox
import pytest

from server.sparql.text import MAX_NESTING, analyse
from tests.support.grammar import PN_LOCAL_ESC
from tests.support.problems import problem
from tests.support.servers import RunningServer


@pytest.fixture(scope="module")
def endpoint() -> "Listener":
    listener = Listener()
    yield listener
    listener.close()


class Listener:
    """A TCP listener on 127.0.0.1 counting the connections made to it."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.connections = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            connection.close()

    def count(self) -> int:
        with self._lock:
            return self.connections

    def close(self) -> None:
        self._socket.close()


# Things written before the SERVICE that a lexer could misread as swallowing it.
HIDERS = [
    "# comment\n", "# comment\r", "# comment\r\n", "#\r",
    *[f'BIND({q}a{e}b{q} AS ?h{i}) ' for i, (q, e) in enumerate(itertools.product(
        ['"', "'", '"""', "'''"], ["\\\\", "\\'", '\\"', "\\u0022", "\\u0027", "\\n", "\\t", ""]))],
    *[f"BIND(ex:a\\{c}41 AS ?e{i}) " for i, c in enumerate(PN_LOCAL_ESC)],
    "BIND(ex:a%23b AS ?p) ", "BIND(<http://e/\\u0041> AS ?i) ", 'BIND("x"@service AS ?l) ', "BIND(1e5 AS ?n) ",
    "OPTIONAL { ?s <http://e/p> _:b1 } ",
]
# Ways of writing a SERVICE call to the listener ({url}; `svc:` and the empty prefix are declared as it).
SERVICES = [
    "SERVICE <{url}> {{ ?s ?p ?o }}", "service <{url}> {{ ?s ?p ?o }}", "SeRvIcE <{url}> {{ ?s ?p ?o }}",
    "SERVICE SILENT <{url}> {{ ?s ?p ?o }}", "SERVICE:x {{ ?s ?p ?o }}", "SERVICE SILENT:x {{ ?s ?p ?o }}",
    "SERVICE svc:x {{ ?s ?p ?o }}", "SERVICE <{escaped}> {{ ?s ?p ?o }}", "SERVICE\t<{url}>{{?s ?p ?o}}",
    "{{ SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
]


def _cases() -> list[tuple[str, str]]:
    return [(hider, service) for hider in HIDERS for service in SERVICES]


def test_the_differential_corpus_is_not_empty() -> None:
    assert len(_cases()) == len(HIDERS) * len(SERVICES) > 400


@pytest.mark.parametrize(("hider", "service"), _cases())
def test_the_lexer_names_every_endpoint_the_engine_calls(endpoint: Listener, hider: str, service: str) -> None:
    url = f"http://127.0.0.1:{endpoint.port}/x"
    escaped = url.replace(":", "\\u003A")
    text = (
        f"PREFIX ex: <http://e/> PREFIX svc: <http://127.0.0.1:{endpoint.port}/> PREFIX : <http://127.0.0.1:{endpoint.port}/>\n"
        f"SELECT * WHERE {{ {hider}{service.format(url=url, escaped=escaped)} }}"
    )
    before = endpoint.count()
    try:
        list(ox.Store().query(text))  # type: ignore[arg-type]
    except OSError:
        pass  # the listener hangs up: the call was made
    called = endpoint.count() > before
    assert called, "each case must be one the engine runs: otherwise it shows nothing"
    assert url in analyse(text).service_targets


def _at_depth(kind: str, levels: int) -> str:
    """A query whose deepest point is `levels` deep, built from one kind of nesting."""
    inner = levels - 2  # the WHERE braces and FILTER's parentheses, or the pattern's braces and one more
    return {
        "parentheses": "ASK { FILTER(" + "(" * inner + "true" + ")" * inner + ") }",
        "negations": "ASK { FILTER(" + "!" * inner + "true) }",
        "braces": "ASK { " + "{ " * (levels - 1) + "}" * (levels - 1) + " }",
        "blank-node-brackets": "ASK { ?s ?p " + "[ ?p " * (levels - 1) + "1" + " ]" * (levels - 1) + " }",
        "collections": "ASK { ?s ?p " + "( " * (levels - 1) + "1" + " )" * (levels - 1) + " }",
    }[kind]


@pytest.mark.parametrize("kind", ["parentheses", "negations", "braces", "blank-node-brackets", "collections"])
def test_nesting_up_to_the_limit_is_answered_and_one_more_level_is_refused(sparql_server: RunningServer, kind: str) -> None:
    assert analyse(_at_depth(kind, MAX_NESTING)).nesting == MAX_NESTING
    answered = httpx.get(sparql_server.url + "/sparql", params={"query": _at_depth(kind, MAX_NESTING), "format": "json"},
                         timeout=60)
    assert answered.status_code == 200, answered.text
    refused = httpx.get(sparql_server.url + "/sparql", params={"query": _at_depth(kind, MAX_NESTING + 1)}, timeout=60)
    assert refused.status_code == 400
    assert f"The query nests {MAX_NESTING + 1} levels deep at line 1" in problem(refused)[1]
    assert f"at most {MAX_NESTING} levels" in problem(refused)[1]
