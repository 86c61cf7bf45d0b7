"""The canned-query library: every .rq file has complete metadata and a fixture of exact rows;
parameters are typed, and bound as terms, never pasted into the text."""

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from server.canned.catalogue import CatalogueError, load_catalogue, load_query
from server.canned.parameters import ParameterError, bind, to_term
from server.settings import Settings

EXPECTED_ROWS = Path(__file__).parent / "fixtures" / "queries"
PARAMETER_TYPES = {"iri", "string", "text", "date", "year", "integer", "decimal", "country", "enum"}


@pytest.fixture(scope="module")
def catalogue(settings: Settings) -> dict:
    return load_catalogue(settings.queries_dir)


def test_the_library_holds_at_least_fifteen_queries_each_with_complete_metadata_and_expected_rows(catalogue: dict) -> None:
    assert len(catalogue) >= 15, f"found only {len(catalogue)} queries in queries/"
    fixtures = {path.stem for path in EXPECTED_ROWS.glob("*.json")}
    assert fixtures, "found no expected-rows fixtures"
    missing = sorted(set(catalogue) - fixtures)
    assert not missing, f"queries without a test of their exact rows: {missing}"
    assert not sorted(fixtures - set(catalogue)), "fixtures for queries that do not exist"
    for query in catalogue.values():
        assert query.title and query.description and query.tags, query.name
        for parameter in query.parameters:
            assert parameter.description and parameter.example, (query.name, parameter.name)
            # The example is a valid value of the declared type.
            to_term(parameter, parameter.example)
            if parameter.default is not None:
                to_term(parameter, parameter.default)


def test_the_queries_use_every_parameter_type(catalogue: dict) -> None:
    used = {p.type for q in catalogue.values() for p in q.parameters}
    assert used == PARAMETER_TYPES


def test_every_fixture_case_names_only_parameters_of_its_query(catalogue: dict) -> None:
    for path in sorted(EXPECTED_ROWS.glob("*.json")):
        fixture = json.loads(path.read_text())
        query = catalogue[fixture["query"]]
        assert fixture["cases"], path.name
        for case in fixture["cases"]:
            assert set(case["params"]) <= {p.name for p in query.parameters}, (path.name, case["params"])
        required = {p.name for p in query.parameters if p.required}
        assert all(required <= set(case["params"]) for case in fixture["cases"]), path.name


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("", "no metadata header"),
        ("#+ title: T\n#+ description: D\n", "tags"),
        ("#+ title: T\n#+ description: D\n#+ tags: [x]\n#+ parameters:\n#+   p:\n#+     type: iri\n"
         "#+     description: d\n#+     example: e\n", "an iri parameter needs a class"),
        ("#+ title: T\n#+ description: D\n#+ tags: [x]\n#+ parameters:\n#+   q:\n#+     type: string\n"
         "#+     description: d\n#+     example: e\n", "parameter 'q' is not a variable of the query"),
        ("#+ title: T\n#+ description: D\n#+ tags: [x]\n#+ parameters:\n#+   limit:\n#+     type: integer\n"
         "#+     description: d\n#+     example: '1'\n", "'limit' cannot be a parameter name"),
        ("#+ title: [unclosed\n", "not valid YAML"),
    ],
)
def test_a_query_file_with_incomplete_or_wrong_metadata_is_refused_with_a_message(
    tmp_path: Path, header: str, message: str
) -> None:
    path = tmp_path / "broken.rq"
    path.write_text(header + "SELECT ?s ?limit WHERE { ?s ?p ?o } ORDER BY ?s\n")
    with pytest.raises(CatalogueError, match=message):
        load_query(path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("SELECT ?s WHERE { ?s ?p ?o }", "needs an ORDER BY"),
        ("SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 5", "leave LIMIT and OFFSET out"),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "must be a SELECT query"),
    ],
)
def test_a_query_that_cannot_be_paged_stably_is_refused(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "unstable.rq"
    path.write_text("#+ title: T\n#+ description: D\n#+ tags: [x]\n" + body + "\n")
    with pytest.raises(CatalogueError, match=message):
        load_query(path)


def _parameter(catalogue: dict, query: str, name: str):  # noqa: ANN202 - a test helper
    parameter = catalogue[query].parameter(name)
    assert parameter is not None
    return parameter


@pytest.mark.parametrize(
    ("query", "name", "raw", "term"),
    [
        ("projects", "country", "kr", ox.NamedNode("https://w3id.org/ilo-partnerships/id/country/KR")),
        ("projects", "country", "KOR", ox.NamedNode("https://w3id.org/ilo-partnerships/id/country/KR")),
        ("projects", "country", "410", ox.NamedNode("https://w3id.org/ilo-partnerships/id/country/KR")),
        ("projects", "partner", "organisation:moel", ox.NamedNode("https://w3id.org/ilo-partnerships/id/organisation/moel")),
        ("projects", "from", "2020", ox.Literal("2020", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
        ("ratifications", "since", "2021-04-20", ox.Literal("2021-04-20", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))),
        ("countries-reached", "min_projects", "3", ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
        ("funding-by-funder", "min_amount", "2.50", ox.Literal("2.50", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal"))),
        ("entity-by-label", "name", "Laos@EN", ox.Literal("Laos", language="en")),
        ("search", "q", 'a"b', ox.Literal('a"b')),
        ("partners", "role", "funding", ox.Literal("funding")),
    ],
)
def test_a_value_of_the_declared_type_becomes_its_term(catalogue: dict, query: str, name: str, raw: str, term: object) -> None:
    assert to_term(_parameter(catalogue, query, name), raw) == term


@pytest.mark.parametrize(
    ("query", "name", "raw", "message"),
    [
        ("projects", "country", "XX",
         "country must be an ISO 3166-1 country code (alpha-2, alpha-3 or numeric), such as KR, KOR or 410; got 'XX'."),
        ("projects", "partner", "http://example.org/a b",
         "partner must be the IRI (or prefixed name, such as organisation:moel) of a prov:Agent in the graph; "
         "got 'http://example.org/a b'."),
        ("projects", "partner", "<http://x>", "partner must be the IRI"),
        ("projects", "partner", "not an iri", "partner must be the IRI"),
        ("projects", "from", "20", "from must be a year written YYYY; got '20'."),
        ("ratifications", "since", "2021-02-30", "since must be a date written YYYY-MM-DD; got '2021-02-30'."),
        ("countries-reached", "min_projects", "1.5", "min_projects must be a whole number; got '1.5'."),
        ("funding-by-funder", "min_amount", "1e9", "min_amount must be a decimal number, such as 1000000 or 2.5; got '1e9'."),
        ("entity-by-label", "name", "L" * 1001 + "@en",
         "name must be a text of at most 1000 characters, with a language tag (text@lang, for example Laos@en) "
         "or without one (any language); got"),
        ("entity-by-label", "name", "Laos@a", "name must be a text of at most 1000 characters"),
        ("partners", "role", "donor",
         "role must be one of: funding, implementing, partner, accountable, extending; got 'donor'."),
        ("search", "q", "x" * 1001, "q must be a text of at most 1000 characters"),
        ("search", "q", "a\x00b", "q must be a text of at most 1000 characters"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_the_parameter(
    catalogue: dict, query: str, name: str, raw: str, message: str
) -> None:
    with pytest.raises(ParameterError) as raised:
        to_term(_parameter(catalogue, query, name), raw)
    assert raised.value.parameter == name
    assert raised.value.message.startswith(message)


def test_a_hostile_string_is_bound_as_one_literal_and_matches_nothing(catalogue: dict) -> None:
    query = catalogue["search"]
    hostile = '"} SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } #'
    text = bind(query, {"q": to_term(query.parameter("q"), hostile)})
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://e/a"), ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal("a")))
    # The text still parses as the same query: one VALUES row holding the whole value.
    assert list(store.query(text)) == []
    assert text.count("SERVICE") == 1 and '\\"} SERVICE' in text
    benign = bind(query, {"q": to_term(query.parameter("q"), "A")})
    assert [s["entity"] for s in store.query(benign)] == [ox.NamedNode("http://e/a")]


def test_the_unsourced_facts_query_finds_a_resource_described_without_a_source(catalogue: dict) -> None:
    store = ox.Store()
    graph = ox.NamedNode("https://w3id.org/ilo-partnerships/graph/data/submitted")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    store.add(ox.Quad(ox.NamedNode("https://w3id.org/ilo-partnerships/id/project/x"), label, ox.Literal("X"), graph))
    rows = [(r["graph"], r["resource"], r["statements"].value) for r in store.query(bind(catalogue["facts-without-source"], {}))]
    assert rows == [(graph, ox.NamedNode("https://w3id.org/ilo-partnerships/id/project/x"), "1")]


def test_the_openapi_document_publishes_the_paging_bounds_the_server_enforces(settings: Settings) -> None:
    from server.http.app import create_app

    spec = create_app(settings.model_copy(update={"max_page_size": 50})).openapi()
    paging = {p["name"]: p["schema"] for p in spec["paths"]["/queries/projects"]["get"]["parameters"]}
    assert paging["limit"] == {"type": "integer", "minimum": 1, "maximum": 50}
    assert paging["offset"] == {"type": "integer", "minimum": 0, "maximum": 999_999_999, "default": 0}


def test_the_examples_of_a_year_range_do_not_contradict_each_other(settings: Settings) -> None:
    catalogue = load_catalogue(settings.queries_dir)
    ranges = [(q.name, q.parameter("from"), q.parameter("to")) for q in catalogue.values()
              if q.parameter("from") is not None and q.parameter("to") is not None]
    assert [name for name, _, _ in ranges] == [
        "explore-countries", "explore-network", "explore-summary", "explore-timeline", "funding-by-period", "projects"]
    assert [(name, low.example, high.example) for name, low, high in ranges if int(low.example) > int(high.example)] == []
