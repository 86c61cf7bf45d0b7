"""The query-text check reads SPARQL as the grammar and the engine do: every token rule, every escape.

Two kinds of test. Table tests for each terminal of the SPARQL 1.1 grammar (19.8) that can hide
or reveal a keyword. And a differential test against the engine itself: for every context that
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

from server.sparql_text import MAX_NESTING, _tokens, analyse, iri_value
from tests.conftest import RunningServer

PN_LOCAL_ESC = "_~.-!$&'()*+,;=/?#@%"


@pytest.mark.parametrize(("text", "kinds"), [
    # WS is only space, tab, CR and LF; a comment ends at CR as well as at LF.
    ("# a comment\rSELECT", ["word"]),
    ("# a comment\r\nSELECT", ["word"]),
    ("# SELECT", []),
    # IRIREF: no spaces or brackets inside, UCHAR escapes allowed.
    ("<http://e/a\\u0020b>", ["iri"]),
    ("<a b>", ["other", "word", "word", "other"]),
    # Strings: ECHAR and UCHAR escapes never end a string; a short string ends at CR or LF.
    ("'it\\'s'", ["string"]),
    ('"say \\"x\\""', ["string"]),
    ('"a\\u0022 SERVICE"', ["string"]),
    ("'''it's '' fine'''", ["string"]),
    ('"""a "" b \\""" c"""', ["string"]),
    # Prefixed names: every PN_LOCAL_ESC, percent escapes, a dot inside but not at the end.
    *[(f"ex:a\\{c}b", ["pname"]) for c in PN_LOCAL_ESC],
    ("ex:a%41b", ["pname"]),
    ("ex:a.b.", ["pname", "other"]),
    (":", ["pname"]),
    # Keywords written straight before a colon: the engine reads the keyword, then the name.
    ("SERVICE:x", ["word", "pname"]),
    ("from:g", ["word", "pname"]),
    ("PREFIX:<http://e/>", ["word", "pname", "iri"]),
    ("PREFIX from: <http://e/>", ["word", "pname", "iri"]),
    # Variables, blank nodes, language tags and numbers are single tokens.
    ("?x1", ["var"]), ("$x", ["var"]), ("_:b.1", ["bnode"]), ("@en-GB", ["langtag"]), ("1.5e-3", ["number"]),
    ('"x"@service', ["string", "langtag"]),
])
def test_each_terminal_is_one_token(text: str, kinds: list[str]) -> None:
    assert [t.kind for t in _tokens(text)] == kinds


@pytest.mark.parametrize(("token", "iri"), [
    ("<http://e/a>", "http://e/a"),
    ("<http://127.0.0.1\\u003A1/x>", "http://127.0.0.1:1/x"),
    ("<http://e/\\U0001F600>", "http://e/\U0001f600"),
])
def test_an_iri_is_read_with_its_escapes(token: str, iri: str) -> None:
    assert iri_value(token) == iri


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


@pytest.mark.parametrize("opening", ["(", "{", "[", "!"])
def test_nesting_is_measured_for_every_bracket_and_unary_operator(opening: str) -> None:
    assert analyse("SELECT * WHERE { FILTER(" + opening * 50 + "1").nesting >= 50


def test_brackets_in_strings_iris_and_comments_do_not_count() -> None:
    text = 'SELECT * WHERE { BIND("((((" AS ?a) BIND(<http://e/(((> AS ?b) } # ((((((\n'
    assert analyse(text).nesting == 2



def test_sibling_negations_do_not_add_up() -> None:
    assert analyse("ASK { FILTER(" + " && ".join(["!(?a)"] * 40) + ") }").nesting == 4


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
    assert f"The query nests {MAX_NESTING + 1} levels deep at line 1" in refused.text
    assert f"at most {MAX_NESTING} levels" in refused.text
