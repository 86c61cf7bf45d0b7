"""Our IRIs resolve on the server: content negotiation on entities, codelists, the vocabulary
and the shapes, parsed back as RDF and compared; helpful 404s. Through a real server."""

import json
import re
from pathlib import Path

import httpx
import pytest
from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic, to_isomorphic

from server.settings import Settings
from tests.support.problems import problem
from tests.support.rdf_compare import canonical
from tests.support.servers import RunningServer, project_served_with, run_cli

BASE = "https://w3id.org/ilo-partnerships/"
KR = BASE + "id/country/KR"
FORMATS = {"turtle": "text/turtle", "ntriples": "application/n-triples", "jsonld": "application/ld+json",
           "rdfxml": "application/rdf+xml"}
RDFLIB_FORMATS = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml"}


def parse(server: RunningServer, response: httpx.Response, name: str) -> Graph:
    """A representation read back as RDF; JSON-LD with the published context put in place of its URL."""
    graph = Graph()
    if name == "jsonld":
        document = response.json()
        assert document["@context"] == server.url + "/context.jsonld"
        document["@context"] = httpx.get(server.url + "/context.jsonld").json()["@context"]
        graph.parse(data=json.dumps(document), format="json-ld")
    else:
        graph.parse(data=response.content, format=RDFLIB_FORMATS[name])
    return graph


def construct(server: RunningServer, query: str) -> Graph:
    response = httpx.post(server.url + "/sparql", data={"query": query}, headers={"Accept": "application/n-triples"})
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.content, format="nt")


def symmetric_description(server: RunningServer, iri: str) -> Graph:
    """What an entity's RDF should hold, asked of the SPARQL endpoint: its triples and those pointing at it."""
    return construct(
        server, f"CONSTRUCT {{ <{iri}> ?p ?o . ?s ?q <{iri}> }} WHERE {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?q <{iri}> }} }}")


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_an_entity_in_every_rdf_format_is_its_description(sparql_server: RunningServer, name: str) -> None:
    by_accept = httpx.get(sparql_server.url + "/id/country/KR", headers={"Accept": FORMATS[name]})
    by_parameter = httpx.get(sparql_server.url + "/id/country/KR", params={"format": name})
    for response in (by_accept, by_parameter):
        assert response.status_code == 200
        assert response.headers["content-type"] == FORMATS[name] + "; charset=utf-8"
        assert response.headers["vary"].startswith("Accept")
    graph = parse(sparql_server, by_accept, name)
    expected = symmetric_description(sparql_server, KR)
    assert len(expected) == 39
    assert isomorphic(graph, expected), set(to_isomorphic(graph)) ^ set(to_isomorphic(expected))
    assert isomorphic(parse(sparql_server, by_parameter, name), expected)


def test_an_entity_with_nested_descriptions_carries_its_blank_nodes(sparql_server: RunningServer) -> None:
    iri = BASE + "id/project/portworker-development"
    response = httpx.get(sparql_server.url + "/id/project/portworker-development", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.content, format="turtle")
    expected = construct(sparql_server, f"""
        CONSTRUCT {{ <{iri}> ?p ?o . ?o ?p1 ?o1 . ?s ?q <{iri}> }}
        WHERE {{ {{ <{iri}> ?p ?o OPTIONAL {{ FILTER(isBlank(?o)) ?o ?p1 ?o1 }} }} UNION {{ ?s ?q <{iri}> }} }}""")
    # The period, the association with its agent and role: nested descriptions, kept whole.
    assert len({o for o in graph.objects(URIRef(iri)) if isinstance(o, BNode)}) >= 2
    assert isomorphic(graph, expected)


def test_the_convention_is_direct_negotiation_with_alternates(sparql_server: RunningServer) -> None:
    response = httpx.get(sparql_server.url + "/id/country/KR", headers={"Accept": "*/*"})
    assert response.status_code == 200  # no 303: one convention, documented in the README
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    path = "/id/country/KR"
    assert response.headers["link"] == ", ".join([
        f'<{path}?format=turtle>; rel="alternate"; type="text/turtle"',
        f'<{path}?format=ntriples>; rel="alternate"; type="application/n-triples"',
        f'<{path}?format=jsonld>; rel="alternate"; type="application/ld+json"',
        f'<{path}?format=rdfxml>; rel="alternate"; type="application/rdf+xml"',
        f'<{path}?format=html>; rel="alternate"; type="text/html"',
    ])
    browser = httpx.get(sparql_server.url + path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Republic of Korea</h1>" in browser.text


def test_unknown_formats_and_types_are_refused_with_what_is_offered(sparql_server: RunningServer) -> None:
    response = httpx.get(sparql_server.url + "/id/country/KR", params={"format": "yaml"})
    assert problem(response) == (
        400, "Unknown format 'yaml'; use one of: turtle, html, ntriples, jsonld, rdfxml, iati.")
    response = httpx.get(sparql_server.url + "/id/country/KR", headers={"Accept": "image/png"})
    assert problem(response) == (
        406, "None of the accepted media types is available; available: text/turtle, text/html, "
        "application/n-triples, application/ld+json, application/rdf+xml, application/xml.")


def test_a_current_copy_gets_304(sparql_server: RunningServer) -> None:
    first = httpx.get(sparql_server.url + "/id/country/KR", params={"format": "turtle"})
    etag = first.headers["etag"]
    again = httpx.get(sparql_server.url + "/id/country/KR", params={"format": "turtle"}, headers={"If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")
    other = httpx.get(sparql_server.url + "/id/country/KR", params={"format": "jsonld"}, headers={"If-None-Match": etag})
    assert other.status_code == 200


def test_an_unknown_iri_is_a_helpful_404(sparql_server: RunningServer) -> None:
    message = (f"The graph says nothing about <{BASE}id/country/XX>. Check the spelling, or find what you are "
               "looking for with the search query (/queries/search) or the SPARQL endpoint (/sparql).")
    response = httpx.get(sparql_server.url + "/id/country/XX", headers={"Accept": "text/turtle"})
    assert problem(response) == (404, message)
    page = httpx.get(sparql_server.url + "/id/country/XX", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "The graph says nothing about &lt;https://w3id.org/ilo-partnerships/id/country/XX&gt;" in page.text
    # The countries the graph does describe, by name, linked to their pages.
    assert '<a href="/id/country/KR" title="https://w3id.org/ilo-partnerships/id/country/KR">Republic of Korea</a>' in page.text
    assert page.text.count('href="/id/country/') == 27
    # A folder the project does not mint: the message alone.
    made_up = httpx.get(sparql_server.url + "/id/made-up/thing", headers={"Accept": "text/html"})
    assert made_up.status_code == 404 and "suggestions" not in made_up.text
    assert "The graph says nothing about &lt;https://w3id.org/ilo-partnerships/id/made-up/thing&gt;" in made_up.text


def test_a_codelist_concept_resolves(sparql_server: RunningServer) -> None:
    response = httpx.get(sparql_server.url + "/codelist/theme/social-protection", headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.content, format="nt")
    assert isomorphic(graph, symmetric_description(sparql_server, BASE + "codelist/theme/social-protection"))
    assert (URIRef(BASE + "codelist/theme/social-protection"), URIRef("http://www.w3.org/2004/02/skos/core#inScheme"),
            URIRef(BASE + "codelist/theme")) in graph


def test_the_page_names_properties_values_links_and_sources(sparql_server: RunningServer) -> None:
    page = httpx.get(sparql_server.url + "/id/country/KR", headers={"Accept": "text/html"}).text
    assert "<code>https://w3id.org/ilo-partnerships/id/country/KR</code>" in page
    # Properties by their labels, values as given, each fact with its source document and graph.
    assert ">ISO 3166-1 alpha-3 code</a></th>" in page
    assert '<span class="literal">KOR</span>' in page
    assert ('<a href="/id/source/identifiers-reference" title="https://w3id.org/ilo-partnerships/id/source/identifiers-reference">'
            "Reference of checked vocabularies, codelists and identifiers</a>") in page
    assert ('<code title="https://w3id.org/ilo-partnerships/graph/data/identifiers-reference">'
            "graph/data/identifiers-reference</code>") in page
    assert ('<code title="https://w3id.org/ilo-partnerships/graph/data/eu-country-authority">'
            "graph/data/eu-country-authority</code>") in page
    # External links as links, named by the graph they lead to.
    assert ('<a class="external" href="http://www.wikidata.org/entity/Q884" rel="noopener" '
            'title="http://www.wikidata.org/entity/Q884">Wikidata Q884</a>') in page
    assert 'href="http://publications.europa.eu/resource/authority/country/KOR"' in page
    # Incoming links, by the labels of what points here.
    assert '<a href="/id/organisation/koica" title="https://w3id.org/ilo-partnerships/id/organisation/koica">' in page


@pytest.mark.parametrize("document, folder", [("ontology", "ontology"), ("shapes", "shapes")])
@pytest.mark.parametrize("name", sorted(FORMATS))
def test_the_vocabulary_and_shapes_in_every_rdf_format_are_their_source(
    sparql_server: RunningServer, settings: Settings, document: str, folder: str, name: str
) -> None:
    response = httpx.get(f"{sparql_server.url}/{document}", headers={"Accept": FORMATS[name]})
    assert response.status_code == 200
    assert response.headers["content-type"] == FORMATS[name] + "; charset=utf-8"
    files = ([settings.ontology_dir / "ilo-partnerships.ttl"] if document == "ontology"
             else sorted(settings.shapes_dir.glob("*.ttl")))
    assert files
    source = Graph()
    for path in files:
        source.parse(path, format="turtle")
    assert canonical(parse(sparql_server, response, name)) == canonical(source)


def test_every_term_iri_lands_on_its_section(sparql_server: RunningServer, ontology: Graph) -> None:
    page = httpx.get(sparql_server.url + "/ontology", headers={"Accept": "text/html"})
    assert page.status_code == 200
    defined = ontology.subjects(RDFS.isDefinedBy, URIRef(BASE + "ontology"))
    terms = {s for s in defined if str(s).startswith(BASE + "ontology#")}
    assert len(terms) > 60
    # A browser drops the fragment, asks for the document, and scrolls to the section with that id.
    missing = [t for t in terms if f'<section class="term" id="{str(t).split("#")[1]}">' not in page.text]
    assert missing == []
    assert '<p class="definition">A time-bound development cooperation activity' in page.text
    # The codelists, each linked to its own page.
    assert ('<a href="/codelist/theme" title="https://w3id.org/ilo-partnerships/codelist/theme">'
            "https://w3id.org/ilo-partnerships/codelist/theme</a>") in page.text


def test_every_shape_iri_lands_on_its_section(sparql_server: RunningServer, shapes: Graph) -> None:
    page = httpx.get(sparql_server.url + "/shapes", headers={"Accept": "text/html"}).text
    named = {s for s in shapes.subjects(RDF.type, None) if isinstance(s, URIRef) and str(s).startswith(BASE + "shapes#")}
    assert len(named) > 40
    missing = [s for s in named if (s, RDF.type, URIRef("http://www.w3.org/ns/shacl#SPARQLConstraint")) not in shapes
               and f'<section class="term" id="{str(s).split("#")[1]}">' not in page]
    assert missing == []
    # A node shape shows its rules in the words of their messages, and links to its class.
    assert '<a href="/ontology#Country" title="https://w3id.org/ilo-partnerships/ontology#Country">country</a>' in page
    assert "A country needs exactly one ISO 3166-1 alpha-2 code (ilop:iso3166Alpha2)." in page


def test_the_context_is_the_projects_prefixes(sparql_server: RunningServer) -> None:
    response = httpx.get(sparql_server.url + "/context.jsonld")
    assert response.headers["content-type"] == "application/ld+json"
    context = response.json()["@context"]
    assert context["ilop"] == "https://w3id.org/ilo-partnerships/ontology#"
    assert context["country"] == "https://w3id.org/ilo-partnerships/id/country/"


def test_a_server_without_the_vocabulary_files_starts_and_says_so(tmp_path_factory: pytest.TempPathFactory) -> None:
    empty = tmp_path_factory.mktemp("empty")
    server = RunningServer(tmp_path_factory.mktemp("bare") / "store",
                           {"ILOKG_ONTOLOGY_DIR": str(empty), "ILOKG_SHAPES_DIR": str(empty)}).start()
    try:
        for path in ("/ontology", "/shapes"):
            response = httpx.get(server.url + path)
            assert problem(response) == (
                404, f"This server was started without the files of {path}; see the project's repository.")
        assert httpx.get(server.url + "/id/country/KR", headers={"Accept": "text/turtle"}).status_code == 200
    finally:
        server.stop()


def test_a_server_with_another_data_base_serves_those_iris_at_their_paths(tmp_path_factory: pytest.TempPathFactory) -> None:
    base = "http://kg.example.test/"
    data = tmp_path_factory.mktemp("elsewhere")
    (data / "elsewhere.ttl").write_text(
        "@prefix ilop: <https://w3id.org/ilo-partnerships/ontology#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        f"<{base}id/project/one> a ilop:Project ; rdfs:label \"Project one\"@en ; ilop:hasComponent <{base}id/component/two> .\n"
        f"<{base}id/component/two> a ilop:ProjectComponent ; rdfs:label \"Component two\"@en .\n"
    )
    server = RunningServer(tmp_path_factory.mktemp("elsewhere-store") / "store",
                           {"ILOKG_DATA_DIR": str(data), "ILOKG_DATA_BASE": base}).start()
    try:
        turtle = httpx.get(server.url + "/id/project/one", headers={"Accept": "text/turtle"})
        assert turtle.status_code == 200
        graph = Graph().parse(data=turtle.content, format="turtle")
        assert set(graph.objects(URIRef(base + "id/project/one"), RDFS.label)) == {Literal("Project one", lang="en")}
        # On the page, the component links to its path on this server, not to the base's host.
        page = httpx.get(server.url + "/id/project/one", headers={"Accept": "text/html"}).text
        assert f'<a href="/id/component/two" title="{base}id/component/two">Component two</a>' in page
        # The bundled data's IRIs are not under this base: not served here.
        assert httpx.get(server.url + "/id/country/KR", headers={"Accept": "text/turtle"}).status_code == 404
    finally:
        server.stop()


def test_a_stored_decimal_written_with_an_exponent_is_answered_as_written_not_in_full(
    settings: Settings, tmp_path: Path,
) -> None:
    # An operator's own file is loaded as it is (`ilo-kg validate` refuses it, below). rdflib's parser wrote such a
    # value out in full when a page was read into it for JSON-LD: 100 million digits from ten bytes, in the server.
    project = "https://w3id.org/ilo-partnerships/id/project/sted-maghreb"
    extra = f'<{project}> <https://example.org/share> "1e99999999"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
    with project_served_with(settings, tmp_path, {"extra.ttl": extra}) as server:
        checked = run_cli("validate", str(tmp_path / "data" / "extra.ttl"), env=server.env)
        assert checked.returncode == 1
        assert '"1e99999999" is not a value of xsd:decimal that the graph can compute with: write it as digits' in checked.stdout
        for accept in ("application/ld+json", "text/turtle", "application/n-triples"):
            page = httpx.get(server.url + "/id/project/sted-maghreb", headers={"Accept": accept}, timeout=60)
            assert page.status_code == 200, page.text
            assert len(page.content) < 100_000 and "1e99999999" in page.text


def test_a_stored_iri_a_browser_would_run_is_shown_on_pages_never_linked(settings: Settings, tmp_path: Path) -> None:
    # Submissions refuse such IRIs (tests/test_submission_hostile.py); an operator's own file is loaded as it is, so
    # the pages must not make a link of one (the pages' policy would not run it either: a third guard).
    project = "https://w3id.org/ilo-partnerships/id/project/sted-maghreb"
    extra = (f"<{project}> <http://www.w3.org/2000/01/rdf-schema#seeAlso> <javascript:alert(1)>, <JAVASCRIPT:alert(2)>,\n"
             "  <data:text/html;base64,PHNjcmlwdD4=>, <urn:isbn:9789221>, <https://example.org/x> .\n")
    with project_served_with(settings, tmp_path, {"extra.ttl": extra}) as server:
        path = tmp_path / "data" / "extra.ttl"
        checked = run_cli("validate", str(path), env=server.env)
        assert (checked.returncode, checked.stdout) == (2, "")
        assert checked.stderr.startswith(f"error: {path}:1: javascript: IRI <JAVASCRIPT:alert(2)> is not accepted")
        page = httpx.get(server.url + "/id/project/sted-maghreb", headers={"Accept": "text/html"}, timeout=60)
        assert page.status_code == 200, page.text
        links = re.findall(r'href="([^"]*)"', page.text)
        assert links, "the page has no links"
        schemes = {match.group(1).lower() for link in links if (match := re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", link))}
        assert schemes <= {"http", "https"}
        assert "https://example.org/x" in links
        for shown in ("javascript:alert(1)", "JAVASCRIPT:alert(2)", "data:text/html;base64,PHNjcmlwdD4=", "urn:isbn:9789221"):
            assert f'<span class="iri" title="{shown}">' in page.text
