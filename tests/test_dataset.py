"""The dataset's description (VoID/DCAT), its links into other graphs, and its dumps, through a real server."""

import gzip
import re
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from server.linked_data.link_targets import LINK_TARGETS, target_of
from tests.support.problems import problem
from tests.support.rdf_compare import canonical_quads
from tests.support.servers import RunningServer, run_cli

VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
DATASET = URIRef("https://w3id.org/ilo-partnerships/dataset")
BASE = "https://w3id.org/ilo-partnerships/"


def description(server: RunningServer) -> Graph:
    response = httpx.get(server.url + "/.well-known/void", headers={"Accept": "text/turtle"}, timeout=120)
    assert response.status_code == 200
    return Graph().parse(data=response.content, format="turtle")


def count(server: RunningServer, query: str) -> int:
    response = httpx.get(server.url + "/sparql", params={"query": query},
                         headers={"Accept": "application/sparql-results+json"}, timeout=120)
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def integer(graph: Graph, subject: URIRef, predicate: URIRef) -> int:
    value = graph.value(subject, predicate)
    assert isinstance(value, Literal), f"no {predicate} on {subject}"
    return int(value)


def test_the_description_names_what_a_harvester_needs(sparql_server: RunningServer) -> None:
    void = description(sparql_server)
    assert {(DATASET, RDF.type, VOID.Dataset), (DATASET, RDF.type, DCAT.Dataset)} <= set(void)
    assert str(void.value(DATASET, DCTERMS.title)) == "ILO partnerships knowledge graph"
    assert void.value(DATASET, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert void.value(DATASET, DCTERMS.publisher) == URIRef(BASE + "id/organisation/ilo-partnerships-kg")
    assert set(void.objects(DATASET, DCTERMS.source)) == {URIRef(BASE + "id/source/" + s) for s in (
        "eu-country-authority", "identifiers-reference", "ilo-brief-korea-2020-07", "ilo-news-2021-05-26", "iso-3166", "normlex",
        "un-m49")}
    assert void.value(DATASET, VOID.sparqlEndpoint) == URIRef(sparql_server.url + "/sparql")
    dumps = sparql_server.url + "/dumps/"
    assert set(void.objects(DATASET, VOID.dataDump)) == {
        URIRef(dumps + "ilo-partnerships.nq.gz"), URIRef(dumps + "ilo-partnerships.trig.gz")}
    assert URIRef(BASE + "ontology") in set(void.objects(DATASET, VOID.vocabulary))
    assert URIRef(BASE + "id/country/KR") in set(void.objects(DATASET, VOID.exampleResource))
    # Every example resource resolves on this server.
    for example in void.objects(DATASET, VOID.exampleResource):
        path = str(example).removeprefix(BASE)
        assert httpx.get(f"{sparql_server.url}/{path}", headers={"Accept": "text/turtle"}, timeout=120).status_code == 200, path


def test_the_counts_are_those_of_the_store(sparql_server: RunningServer) -> None:
    void = description(sparql_server)
    assert integer(void, DATASET, VOID.triples) == count(sparql_server, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert integer(void, DATASET, VOID.distinctSubjects) == count(
        sparql_server, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }")
    assert integer(void, DATASET, VOID.entities) == count(
        sparql_server, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c FILTER(isIRI(?s)) }")
    partitions = list(void.objects(DATASET, VOID.classPartition))
    assert len(partitions) == integer(void, DATASET, VOID.classes) == count(
        sparql_server, "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c }")
    for partition in partitions:
        cls = void.value(partition, VOID["class"])
        assert integer(void, partition, VOID.entities) == count(
            sparql_server, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{cls}> }}"), cls
    properties = list(void.objects(DATASET, VOID.propertyPartition))
    assert len(properties) == integer(void, DATASET, VOID.properties)
    assert sum(integer(void, p, VOID.triples) for p in properties) == integer(void, DATASET, VOID.triples)
    label = next(p for p in properties if void.value(p, VOID.property) == RDFS.label)
    assert integer(void, label, VOID.triples) == count(sparql_server, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{RDFS.label}> ?o }}")


def test_every_link_uses_a_known_target_pattern(data: Graph) -> None:
    links = [(s, p, o) for p in (OWL.sameAs, SKOS.exactMatch, SKOS.closeMatch, RDFS.seeAlso)
             for s, o in data.subject_objects(p) if not str(o).startswith(BASE)]
    assert len(links) == 20 + 18 + 27 + 14
    assert [link for link in links if target_of(str(link[2])) is None] == []


def test_every_link_is_counted_in_its_linkset(sparql_server: RunningServer, data: Graph) -> None:
    void = description(sparql_server)
    counted = {}
    for linkset in void.subjects(RDF.type, VOID.Linkset):
        assert void.value(linkset, VOID.subjectsTarget) == DATASET
        target = str(void.value(linkset, VOID.objectsTarget)).rsplit("#", 1)[1]
        counted[(target, void.value(linkset, VOID.linkPredicate))] = integer(void, linkset, VOID.triples)
        assert (DATASET, VOID.subset, linkset) in void
    # The same thing in Wikidata; matching features and concepts in GeoNames and the EU authority table.
    assert counted == {("wikidata", OWL.sameAs): 20, ("geonames", SKOS.exactMatch): 18,
                       ("eu-country", SKOS.exactMatch): 27, ("normlex", RDFS.seeAlso): 14}
    for predicate in (OWL.sameAs, SKOS.exactMatch):
        outward = [o for o in data.objects(None, predicate) if not str(o).startswith(BASE)]
        assert sum(n for (_, p), n in counted.items() if p == predicate) == len(outward)
    for target in LINK_TARGETS:
        other = URIRef(f"{DATASET}#{target.name}")
        assert str(void.value(other, VOID.uriSpace)) == target.namespace


def test_the_links_query_lists_each_link_by_target(sparql_server: RunningServer) -> None:
    response = httpx.get(sparql_server.url + "/queries/links", params={"target": "eu-country", "format": "rows"}, timeout=120)
    assert response.status_code == 200
    rows = response.json()["rows"]
    assert len(rows) == 27
    korea = next(r for r in rows if r["entity"] == BASE + "id/country/KR")
    assert korea == {"link_target": "eu-country", "entity": BASE + "id/country/KR", "label": "Republic of Korea",
                     "property": str(SKOS.exactMatch), "resource": "http://publications.europa.eu/resource/authority/country/KOR",
                     "evidence": "built by the publisher's pattern"}
    everything = httpx.get(sparql_server.url + "/queries/links", params={"format": "rows"}, timeout=120).json()["rows"]
    assert len(everything) == 20 + 18 + 27 + 14


def test_the_description_negotiates_like_every_resource(sparql_server: RunningServer) -> None:
    turtle = description(sparql_server)
    at_iri = httpx.get(sparql_server.url + "/dataset", params={"format": "ntriples"}, timeout=120)
    assert at_iri.headers["content-type"] == "application/n-triples; charset=utf-8"
    assert isomorphic(Graph().parse(data=at_iri.content, format="nt"), turtle)
    page = httpx.get(sparql_server.url + "/.well-known/void", headers={"Accept": "text/html"}, timeout=120)
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>ILO partnerships knowledge graph: the dataset</h1>" in page.text
    home = httpx.get(sparql_server.url + "/", timeout=120).text
    assert 'href="/.well-known/void"' in home
    service = httpx.get(sparql_server.url + "/sparql", headers={"Accept": "text/turtle"}, timeout=120)
    assert URIRef(sparql_server.url + "/.well-known/void") in {
        o for _, _, o in Graph().parse(data=service.content, format="turtle")}


def load_dump(path_or_bytes: Path | bytes, rdf_format: ox.RdfFormat) -> ox.Store:
    store = ox.Store()
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    store.load(gzip.decompress(data), format=rdf_format)
    return store


def named_graphs_of_store(store: ox.Store) -> set[str]:
    return canonical_quads([q for q in store if not isinstance(q.graph_name, ox.DefaultGraph)])


def named_graphs_of_server(server: RunningServer) -> set[str]:
    """Every quad of the server's named graphs, asked of its SPARQL endpoint graph by graph (the whole dataset is
    larger than the test server's answer limit), in canonical form."""
    def select(query: str) -> list[dict]:
        response = httpx.get(server.url + "/sparql", params={"query": query},
                             headers={"Accept": "application/sparql-results+json"}, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()["results"]["bindings"]

    graphs = [row["g"]["value"] for row in select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")]
    quads = [
        ox.Quad(*(_term(row[v]) for v in ("s", "p", "o")), ox.NamedNode(graph))
        for graph in graphs for row in select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    ]
    assert len(graphs) == 14 and len(quads) > 9000
    return canonical_quads(quads)


def _term(binding: dict) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if binding["type"] == "uri":
        return ox.NamedNode(binding["value"])
    if binding["type"] == "bnode":
        return ox.BlankNode(binding["value"])
    if "xml:lang" in binding:
        return ox.Literal(binding["value"], language=binding["xml:lang"])
    return ox.Literal(binding["value"], datatype=ox.NamedNode(binding["datatype"]) if "datatype" in binding else None)


@pytest.mark.parametrize("name, rdf_format", [("ilo-partnerships.nq.gz", ox.RdfFormat.N_QUADS),
                                              ("ilo-partnerships.trig.gz", ox.RdfFormat.TRIG)])
def test_a_dump_reloads_as_the_same_dataset(sparql_server: RunningServer, name: str, rdf_format: ox.RdfFormat) -> None:
    response = httpx.get(f"{sparql_server.url}/dumps/{name}", timeout=120)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/gzip"
    reloaded = load_dump(response.content, rdf_format)
    assert len(list(reloaded.named_graphs())) == httpx.get(sparql_server.url + "/health", timeout=120).json()["graphs"] == 14
    assert named_graphs_of_store(reloaded) == named_graphs_of_server(sparql_server)
    # Validators: the same version of the data is not sent twice.
    again = httpx.get(f"{sparql_server.url}/dumps/{name}", headers={"If-None-Match": response.headers["etag"]}, timeout=120)
    assert again.status_code == 304
    since = httpx.get(f"{sparql_server.url}/dumps/{name}", headers={"If-Modified-Since": response.headers["last-modified"]},
                      timeout=120)
    assert since.status_code == 304


def test_each_graph_has_its_turtle_dump_at_its_iri(sparql_server: RunningServer) -> None:
    graph_iri = BASE + "graph/data/normlex"
    by_iri = httpx.get(sparql_server.url + "/graph/data/normlex", timeout=120)
    by_dump = httpx.get(sparql_server.url + "/dumps/graphs/data/normlex.ttl", timeout=120)
    assert by_iri.status_code == by_dump.status_code == 200
    assert by_iri.headers["content-type"] == "text/turtle; charset=utf-8"
    assert by_iri.content == by_dump.content
    expected = httpx.get(sparql_server.url + "/sparql", params={
        "query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}"}, headers={"Accept": "text/turtle"})
    assert isomorphic(Graph().parse(data=by_iri.content, format="turtle"), Graph().parse(data=expected.content, format="turtle"))
    missing = httpx.get(sparql_server.url + "/dumps/../../etc/passwd", timeout=120)
    assert missing.status_code == 404
    assert problem(httpx.get(sparql_server.url + "/graph/data/nothing-here", timeout=120)) == (
        404, "The store has no graph <https://w3id.org/ilo-partnerships/graph/data/nothing-here>; the list is at /dumps "
        "and in the dataset's description (/.well-known/void).")


def test_export_writes_the_same_dataset_as_the_server_offers(sparql_server: RunningServer, tmp_path: Path) -> None:
    result = run_cli("export", str(tmp_path / "dumps"), env={"ILOKG_STORE_DIR": str(tmp_path / "store")})
    assert result.returncode == 0, result.stderr
    files = sorted(p.relative_to(tmp_path / "dumps").as_posix() for p in (tmp_path / "dumps").rglob("*") if p.is_file())
    assert "ilo-partnerships.nq.gz" in files and "graphs/data/normlex.ttl" in files
    assert result.stdout.splitlines()[0] == f"wrote {tmp_path / 'dumps' / 'ilo-partnerships.nq.gz'}"
    urls = description(sparql_server).objects(None, DCAT.downloadURL)
    offered = [str(o).removeprefix(sparql_server.url + "/dumps/") for o in urls]
    assert sorted(offered) == files
    exported = load_dump(tmp_path / "dumps" / "ilo-partnerships.nq.gz", ox.RdfFormat.N_QUADS)
    assert named_graphs_of_store(exported) == named_graphs_of_server(sparql_server)


def _contents(place: Path) -> dict[str, bytes | str]:
    if place.is_symlink():
        return {".": f"-> {place.readlink()}"}
    if place.is_file():
        return {".": place.read_bytes()}
    return {p.relative_to(place).as_posix(): p.read_bytes() if p.is_file() else "folder" for p in sorted(place.rglob("*"))}


def test_export_replaces_a_folder_an_export_wrote_and_nothing_else(tmp_path: Path) -> None:
    # The folder is replaced whole: `ilo-kg export ~/Documents` (or `.`) deleted everything the folder held.
    env = {"ILOKG_STORE_DIR": str(tmp_path / "store")}
    dumps = tmp_path / "dumps"
    assert run_cli("export", str(dumps), env=env).returncode == 0
    again = run_cli("export", str(dumps), env=env)  # an export's own folder: replaced
    assert again.returncode == 0, again.stderr
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("someone's notes\n", encoding="utf-8")
    (tmp_path / "a-file").write_text("someone's file\n", encoding="utf-8")
    beside_graphs = tmp_path / "beside-graphs"
    (beside_graphs / "graphs").mkdir(parents=True)
    (beside_graphs / "graphs" / "notes.txt").write_text("x\n", encoding="utf-8")
    (tmp_path / "a-link").symlink_to(mine)
    cases = [
        (mine, "holds notes.txt, which no export wrote: the folder is replaced whole, so name a new folder (it is made) "
               "or one an export wrote"),
        (beside_graphs, "holds graphs/notes.txt, which no export wrote: the folder is replaced whole, so name a new "
                        "folder (it is made) or one an export wrote"),
        (tmp_path / "a-file", "is a file, not a folder of dumps; name a new folder (it is made) or one an export wrote"),
        (tmp_path / "a-link", "is a link, not a folder of dumps; name a new folder (it is made) or one an export wrote"),
    ]
    for target, said in cases:
        before = _contents(target)
        assert before, target
        refused = run_cli("export", str(target), env=env)
        assert (refused.returncode, refused.stdout, refused.stderr) == (2, "", f"error: {target} {said}. Nothing was changed\n")
        assert _contents(target) == before
    assert _contents(mine) == {"notes.txt": b"someone's notes\n"}


def test_the_dataset_page_names_its_figures_in_words(sparql_server: RunningServer) -> None:
    page = httpx.get(sparql_server.url + "/.well-known/void", headers={"Accept": "text/html"}, timeout=120).text
    figures = re.findall(r'<tr><th scope="row">([^<]+)</th><td>[\d,]+</td></tr>', page)
    assert figures == [
        "Statements (triples) (void:triples)", "Things described (entities with a type) (void:entities)",
        "Distinct subjects (void:distinctSubjects)", "Distinct objects (void:distinctObjects)",
        "Properties used (void:properties)", "Classes used (void:classes)",
    ]


@pytest.mark.parametrize("form", [
    "{:%a, %d %b %Y %H:%M:%S GMT}",  # IMF-fixdate
    "{:%A, %d-%b-%y %H:%M:%S GMT}",  # the obsolete RFC 850 form, which recipients must still read
    "{:%a %b %e %H:%M:%S %Y}",  # the obsolete asctime form (in UTC, saying nothing of it)
])
def test_if_modified_since_is_read_in_every_form_of_http_date(sparql_server: RunningServer, form: str) -> None:
    url = f"{sparql_server.url}/dumps/ilo-partnerships.nq.gz"
    first = httpx.get(url, timeout=120)
    modified = parsedate_to_datetime(first.headers["last-modified"])
    current = httpx.get(url, headers={"If-Modified-Since": form.format(modified)}, timeout=120)
    older = httpx.get(url, headers={"If-Modified-Since": form.format(modified - timedelta(seconds=1))})
    assert (current.status_code, older.status_code) == (304, 200)


@pytest.mark.parametrize(("header", "status"), [
    ("not a date", 200),
    ("Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT", 200),  # more than one member
])
def test_an_invalid_if_modified_since_is_ignored(sparql_server: RunningServer, header: str, status: int) -> None:
    assert httpx.get(f"{sparql_server.url}/dumps/ilo-partnerships.nq.gz",
                     headers={"If-Modified-Since": header}).status_code == status


def test_if_none_match_compares_weakly(sparql_server: RunningServer) -> None:
    url = f"{sparql_server.url}/dumps/ilo-partnerships.nq.gz"
    etag = httpx.get(url, timeout=120).headers["etag"]
    assert httpx.get(url, headers={"If-None-Match": f'"other", W/{etag}'}, timeout=120).status_code == 304


def test_the_iati_dump_of_data_without_iati_projects_says_there_is_none(sparql_server: RunningServer) -> None:
    # The bundled data has no project with an IATI identifier: no IATI activity file can be given (it holds at least one
    # activity), and the answer says why instead of failing.
    response = httpx.get(sparql_server.url + "/dumps", params={"format": "iati"}, timeout=60)
    assert problem(response) == (404, (
        "No project of the graph has an IATI identifier (ilop:iatiIdentifier), so there is no IATI activity file to "
        "give. Projects imported from IATI activity files (ilo-kg import iati, POST /submissions) have one."))
    assert response.headers["omitted-projects"] == "0"
