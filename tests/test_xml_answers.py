"""Every answer the server writes as XML is well-formed XML 1.0 that gives back the values the graph holds, or a 406
that says which character XML cannot carry and which formats can. Through a real server, on the embedded store and
on the external engines, at every entry point that writes XML from the store: /sparql (SPARQL XML, RDF/XML), a
canned query's page and an entity's RDF/XML (IATI, written by lxml: tests/test_iati.py).

A literal may hold any character; XML 1.0 cannot carry most C0 control characters nor U+FFFE and U+FFFF, and a
reader turns a raw carriage return into a line feed. The data file below holds one value per such character (they
enter the bundled data unchecked; submissions refuse them, tests/security/test_submission_rules.py)."""

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pyoxigraph as ox
import pytest

from server.formats.xml_characters import codepoint
from server.settings import Settings
from tests.support.engines import backend
from tests.support.problems import problem
from tests.support.servers import RunningServer, copy_project
from tests.support.xml_characters import NOT_XML

ENTITY = "https://w3id.org/ilo-partnerships/id/test/"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
# Characters XML carries, some of which a careless writer would mangle.
KEPT = "line one\r\nline two\rthree\ttab \x7f\x85 \ufffd \U0010ffff <&>\"' ]]>"
SRX = "{http://www.w3.org/2005/sparql-results#}"


def _name(character: str) -> str:
    return codepoint(character).replace("+", "")


def _label(character: str) -> str:
    # The name first: Virtuoso's string functions stop at U+0000 (LCASE gives "u0000 before").
    return f"{_name(character)} before{character}after"


@pytest.fixture(scope="module", params=["embedded", "oxigraph", "virtuoso"])
def server(
    request: pytest.FixtureRequest, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp(f"xml-{request.param}")
    env = copy_project(settings, folder)
    turtle = [f'<{ENTITY}{_name(c)}> <{LABEL}> "{_name(c)} before\\u{ord(c):04X}after" .' for c in NOT_XML]
    kept = KEPT.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    turtle.append(f'<{ENTITY}kept> <{LABEL}> "{kept}" .')
    (folder / "data" / "xml-characters.ttl").write_text("\n".join(turtle) + "\n", encoding="utf-8")
    with backend(request.param, folder / "engine") as store_env:
        running = RunningServer(folder / "store", {**env, **store_env}).start()
        yield running
        running.stop()


def _sparql(server: RunningServer, query: str, accept: str) -> httpx.Response:
    return httpx.post(server.url + "/sparql", content=query.encode(), timeout=60,
                      headers={"Content-Type": "application/sparql-query", "Accept": accept})


def _refusal(character: str, label: str, others: str) -> tuple[int, str]:
    return 406, (f"The answer holds {codepoint(character)} in a value, a character that XML 1.0 cannot carry, so it "
                 f"cannot be written as {label}; ask for one of: {others}.")


SOLUTIONS_INSTEAD = "application/sparql-results+json, text/csv, text/tab-separated-values"
GRAPHS_INSTEAD = "text/turtle, application/n-triples, application/ld+json"


def test_the_data_file_holds_every_character(server: RunningServer) -> None:
    answer = _sparql(server, f"SELECT ?label WHERE {{ ?s <{LABEL}> ?label FILTER STRSTARTS(STR(?s), '{ENTITY}') }}",
                     "application/sparql-results+json")
    assert answer.status_code == 200
    labels = sorted(row["label"]["value"] for row in answer.json()["results"]["bindings"])
    assert labels == sorted([_label(c) for c in NOT_XML] + [KEPT])


@pytest.mark.parametrize("character", NOT_XML, ids=_name)
def test_an_answer_xml_cannot_carry_is_refused_in_xml_and_given_in_the_other_formats(
    server: RunningServer, character: str
) -> None:
    entity = f"<{ENTITY}{_name(character)}>"
    select = f"SELECT ?label WHERE {{ {entity} <{LABEL}> ?label }}"
    assert problem(_sparql(server, select, "application/sparql-results+xml")) == _refusal(
        character, "SPARQL XML", SOLUTIONS_INSTEAD)
    given = _sparql(server, select, "application/sparql-results+json")
    assert given.json()["results"]["bindings"] == [{"label": {"type": "literal", "value": _label(character)}}]
    construct = f"CONSTRUCT WHERE {{ {entity} <{LABEL}> ?label }}"
    assert problem(_sparql(server, construct, "application/rdf+xml")) == _refusal(character, "RDF/XML", GRAPHS_INSTEAD)
    triples = list(ox.parse(_sparql(server, construct, "application/n-triples").content, format=ox.RdfFormat.N_TRIPLES))
    assert [t.object.value for t in triples] == [_label(character)]
    # The entity's own document, and a canned query's page (a page is written by another path in the worker).
    page = httpx.get(server.url + "/id/test/" + _name(character), headers={"Accept": "application/rdf+xml"}, timeout=60)
    assert problem(page) == _refusal(character, "RDF/XML", GRAPHS_INSTEAD)
    canned = httpx.get(server.url + "/queries/search", params={"q": f"{_name(character)} before", "format": "xml"}, timeout=60)
    assert problem(canned) == _refusal(character, "SPARQL XML", SOLUTIONS_INSTEAD)


def test_every_value_xml_can_carry_comes_back_the_same_from_every_xml_answer(server: RunningServer) -> None:
    entity = f"<{ENTITY}kept>"
    answer = _sparql(server, f"SELECT ?label WHERE {{ {entity} <{LABEL}> ?label }}", "application/sparql-results+xml")
    assert answer.status_code == 200
    assert [e.text for e in ET.fromstring(answer.content).iter(SRX + "literal")] == [KEPT]
    canned = httpx.get(server.url + "/queries/search", params={"q": "line one", "format": "xml"}, timeout=60)
    assert canned.status_code == 200
    assert [e.text for e in ET.fromstring(canned.content).iter(SRX + "literal")] == [KEPT, KEPT]  # ?label, ?matched
    constructed = _sparql(server, f"CONSTRUCT WHERE {{ {entity} <{LABEL}> ?label }}", "application/rdf+xml")
    page = httpx.get(server.url + "/id/test/kept", headers={"Accept": "application/rdf+xml"}, timeout=60)
    for document in (constructed, page):
        assert document.status_code == 200
        read = list(ox.parse(document.content, format=ox.RdfFormat.RDF_XML))
        assert [(t.predicate.value, t.object.value) for t in read] == [(LABEL, KEPT)]
