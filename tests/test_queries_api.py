"""/queries through a real uvicorn server: exact rows of every query, formats, paging, typed
parameters (422 naming the parameter), injection attempts, and the OpenAPI document."""

import csv
import io
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from server.canned.catalogue import load_catalogue
from server.settings import Settings
from tests.support.problems import problem
from tests.support.servers import RunningServer

EXPECTED_ROWS = Path(__file__).parent / "fixtures" / "queries"
ROWS_CASES = [
    pytest.param(fixture["query"], case, id=f"{fixture['query']}-{index}")
    for path in sorted(EXPECTED_ROWS.glob("*.json"))
    for fixture in [json.loads(path.read_text())]
    for index, case in enumerate(fixture["cases"])
]


def get(server: RunningServer, path: str, **kwargs: object) -> httpx.Response:
    return httpx.get(server.url + path, timeout=30, **kwargs)  # type: ignore[arg-type]


def test_the_cases_were_found() -> None:
    assert len(ROWS_CASES) >= 30


# The columns that join several values with "; " (GROUP_CONCAT): SPARQL leaves the order of the joined values to the
# engine, so they are compared as lists in any order; everything else, order of rows included, is compared exactly.
JOINED = {
    "agreements": {"parties", "signatories", "projects"}, "programme-cycles": {"themes"},
    "projects-without-amount": {"named_funders"},
}


def _rows(query: str, columns: list[str], rows: list[list[object]]) -> list[list[object]]:
    joined = JOINED.get(query, set())
    return [
        [sorted(v.split("; ")) if c in joined and isinstance(v, str) else v for c, v in zip(columns, row, strict=True)]
        for row in rows
    ]


@pytest.mark.parametrize(("query", "case"), ROWS_CASES)
def test_every_query_answers_its_exact_rows_on_the_bundled_data(sparql_server: RunningServer, query: str, case: dict) -> None:
    response = get(sparql_server, f"/queries/{query}", params={**case["params"], "format": "rows"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["columns"] == case["columns"]
    rows = [[row[c] for c in answer["columns"]] for row in answer["rows"]]
    assert _rows(query, answer["columns"], rows) == _rows(query, case["columns"], case["rows"])
    assert answer["next"] is None and answer["offset"] == 0


def test_the_joined_columns_are_those_the_queries_join(settings: Settings) -> None:
    catalogue = load_catalogue(settings.queries_dir)
    joining = {name for name, query in catalogue.items() if "GROUP_CONCAT" in query.text}
    assert joining == set(JOINED)


def test_the_catalogue_lists_every_query_with_its_parameters(sparql_server: RunningServer, settings: Settings) -> None:
    catalogue = load_catalogue(settings.queries_dir)
    response = get(sparql_server, "/queries")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    listed = {q["name"]: q for q in response.json()["queries"]}
    assert set(listed) == set(catalogue)
    projects = listed["projects"]
    assert projects["url"] == "/queries/projects" and projects["sparql"] == "/queries/projects.rq"
    assert [p["name"] for p in projects["parameters"]] == ["country", "partner", "theme", "cycle", "from", "to"]
    assert projects["parameters"][1] == {
        "name": "partner", "type": "iri", "class": "prov:Agent", "required": False, "default": None,
        "example": "organisation:moel",
        "description": "Only projects this organisation or country funds, implements or partners in.",
        "expected": "the IRI (or prefixed name, such as organisation:moel) of a prov:Agent in the graph",
    }
    html = get(sparql_server, "/queries", headers={"Accept": "text/html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert all(f'href="/queries/{name}"' in html.text for name in catalogue)


def test_the_query_text_is_served_as_it_is_on_disk(sparql_server: RunningServer, settings: Settings) -> None:
    response = get(sparql_server, "/queries/projects.rq")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/sparql-query; charset=utf-8"
    assert response.text == (settings.queries_dir / "projects.rq").read_text(encoding="utf-8")


PROJECTS_IN_KOREA = [
    "https://w3id.org/ilo-partnerships/id/project/sse-policy-asia",
    "https://w3id.org/ilo-partnerships/id/project/sse-knowledge-base",
]


@pytest.mark.parametrize(
    ("accept", "format_parameter", "content_type"),
    [
        ("application/sparql-results+json", None, "application/sparql-results+json; charset=utf-8"),
        (None, "json", "application/sparql-results+json; charset=utf-8"),
        ("text/csv", None, "text/csv; charset=utf-8"),
        ("text/html", "csv", "text/csv; charset=utf-8"),
        ("text/tab-separated-values", None, "text/tab-separated-values; charset=utf-8"),
        ("application/sparql-results+xml", None, "application/sparql-results+xml; charset=utf-8"),
        ("*/*", None, "application/json; charset=utf-8"),
        ("text/csv;q=0.5, application/json;q=0.9", None, "application/json; charset=utf-8"),
    ],
)
def test_answers_come_in_every_format_by_accept_or_format_parameter(
    sparql_server: RunningServer, accept: str | None, format_parameter: str | None, content_type: str
) -> None:
    params = {"country": "KR", **({"format": format_parameter} if format_parameter else {})}
    response = get(sparql_server, "/queries/projects", params=params, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == content_type
    media_type = content_type.split(";")[0]
    if media_type == "application/sparql-results+json":
        found = [b["project"]["value"] for b in response.json()["results"]["bindings"]]
    elif media_type == "text/csv":
        found = [row["project"] for row in csv.DictReader(io.StringIO(response.text))]
    elif media_type == "text/tab-separated-values":
        lines = response.text.splitlines()
        assert lines[0].split("\t")[0] == "?project"
        found = [line.split("\t")[0].strip("<>") for line in lines[1:]]
    elif media_type == "application/sparql-results+xml":
        ns = {"r": "http://www.w3.org/2005/sparql-results#"}
        root = ElementTree.fromstring(response.content)
        found = [u.text for u in root.findall(".//r:binding[@name='project']/r:uri", ns)]
    else:
        found = [row["project"] for row in response.json()["rows"]]
    assert found == PROJECTS_IN_KOREA


def test_the_html_answer_is_a_form_with_a_table_and_the_query_text(sparql_server: RunningServer) -> None:
    response = get(sparql_server, "/queries/projects", params={"country": "KR"}, headers={"Accept": "text/html"})
    assert response.status_code == 200
    page = response.text
    assert '<input id="p-country" name="country" type="text" value="KR"' in page
    assert page.count("<tr>") == 1 + len(PROJECTS_IN_KOREA)
    assert 'href="/id/project/sse-policy-asia"' in page
    assert "FILTER (!BOUND(?country) || EXISTS {" in page
    assert 'href="/editor?example=projects"' in page
    assert 'href="http://127.0.0.1:' in page and "format=csv" in page


def test_an_unsatisfiable_accept_gets_406_and_an_unknown_format_400(sparql_server: RunningServer) -> None:
    response = get(sparql_server, "/queries/projects", headers={"Accept": "image/png"})
    assert problem(response) == (406, "None of the accepted media types is available; available: application/json, "
                                 "application/sparql-results+json, text/csv, text/tab-separated-values, "
                                 "application/sparql-results+xml, text/html.")
    response = get(sparql_server, "/queries/projects", params={"format": "pdf"})
    assert problem(response) == (400, "Unknown format 'pdf'; use one of: rows, json, csv, tsv, xml, html.")


def test_pages_are_stable_and_linked_to_the_next_one(sparql_server: RunningServer) -> None:
    everything = [row["project"] for row in get(sparql_server, "/queries/projects").json()["rows"]]
    assert len(everything) == 9
    collected: list[str] = []
    url: str | None = sparql_server.url + "/queries/projects?limit=4"
    pages = 0
    while url:
        response = httpx.get(url, timeout=30)
        assert response.status_code == 200
        answer = response.json()
        collected += [row["project"] for row in answer["rows"]]
        url = answer["next"]
        if url:
            assert response.headers["link"] == f'<{url}>; rel="next"'
        else:
            assert "link" not in response.headers
        pages += 1
    assert pages == 3
    assert collected == everything


# Virtuoso sorts at most 10,000 rows of an ordered answer, offset included (MaxSortedTopRows, as Debian ships it), and
# a page asks for one row more than it shows; the other stores sort any number.
_SORTED_ROWS = {"virtuoso": 10_000}
_UNSORTABLE = (
    "This server's store sorts at most 10000 rows of an answer, so a page must end before row 10000 (offset + limit "
    "below 10000); this one would end at row {end}. Narrow the question with its parameters, or ask the operator to "
    "raise the store's limit (Virtuoso: MaxSortedTopRows, in the [Parameters] section of virtuoso.ini)."
)


def test_the_explorer_reads_its_questions_in_pages_the_store_can_sort(sparql_server: RunningServer) -> None:
    page = get(sparql_server, "/explore", headers={"Accept": "text/html"})
    assert page.status_code == 200
    found = re.search(r'<script type="application/json" id="pictures-config">(.*?)</script>', page.text, re.S)
    assert found is not None
    config = json.loads(found.group(1))
    sorted_rows = _SORTED_ROWS.get(sparql_server.backend)
    assert config["pageSize"] == (10_000 if sorted_rows is None else sorted_rows - 1)
    assert [view["kind"] for view in config["views"]] == ["map", "timeline", "network"]
    for view in config["views"]:
        answer = httpx.get(sparql_server.url + view["data"], params={"format": "json", "limit": config["pageSize"]}, timeout=30)
        assert answer.status_code == 200, answer.text[:500]
        assert answer.json()["results"]["bindings"] and "link" not in answer.headers


@pytest.mark.parametrize(("offset", "limit", "rows"), [(0, 10_000, 9), (9_990, 10, 0), (9_999, 1, 0), (9_990, 9, 0)])
def test_a_page_past_what_the_store_sorts_is_refused_with_the_reason(
    sparql_server: RunningServer, offset: int, limit: int, rows: int,
) -> None:
    response = get(sparql_server, "/queries/projects", params={"offset": str(offset), "limit": str(limit)})
    sorted_rows = _SORTED_ROWS.get(sparql_server.backend)
    if sorted_rows is not None and offset + limit >= sorted_rows:
        assert problem(response) == (422, _UNSORTABLE.format(end=offset + limit))
        assert response.json()["errors"][0]["loc"] == ["query", "offset"]
    else:
        assert response.status_code == 200 and len(response.json()["rows"]) == rows


@pytest.mark.parametrize(
    ("path", "params", "parameter", "message"),
    [
        ("/queries/projects", {"country": "Korea"}, "country",
         "country must be an ISO 3166-1 country code (alpha-2, alpha-3 or numeric), such as KR, KOR or 410; got 'Korea'."),
        ("/queries/projects", {"partner": "organisation:nobody"}, "partner",
         "partner must be the IRI (or prefixed name, such as organisation:moel) of a prov:Agent in the graph; "
         "'organisation:nobody' is not one."),
        ("/queries/projects", {"theme": "role:funding"}, "theme",
         "theme must be the IRI (or prefixed name, such as theme:skills-development) of a skos:Concept in the graph; "
         "'role:funding' is not one."),
        ("/queries/projects", {"from": "last year"}, "from", "from must be a year written YYYY; got 'last year'."),
        # Digits of other scripts are not read as numbers (they were bound as ill-typed literals).
        ("/queries/projects", {"from": "٢٠٢٠"}, "from", "from must be a year written YYYY; got '٢٠٢٠'."),
        ("/queries/projects", {"to": "２０２０"}, "to", "to must be a year written YYYY; got '２０２０'."),
        ("/queries/projects", {"country": "٤١٠"}, "country",
         "country must be an ISO 3166-1 country code (alpha-2, alpha-3 or numeric), such as KR, KOR or 410; got '٤١٠'."),
        ("/queries/countries-reached", {"min_projects": "١"}, "min_projects",
         "min_projects must be a whole number; got '١'."),
        ("/queries/funding-by-funder", {"min_amount": "١٠٠٠"}, "min_amount",
         "min_amount must be a decimal number, such as 1000000 or 2.5; got '١٠٠٠'."),
        ("/queries/projects", {"contry": "KR"}, "contry",
         "'contry' is not a parameter of this query (its parameters: country, partner, theme, cycle, from, to)."),
        ("/queries/projects", {"country": ["KR", "LA"]}, "country", "Give country once."),
        ("/queries/projects", {"limit": "0"}, "limit", "limit must be a whole number from 1 to 10000; got '0'."),
        ("/queries/projects", {"offset": "-1"}, "offset", "offset must be a whole number from 0 to 999999999; got '-1'."),
        ("/queries/project-profile", {}, "project",
         "project is required: give the IRI (or prefixed name, such as project:sse-knowledge-base) of a ilop:Project "
         "in the graph."),
        ("/queries/project-profile", {"project": "organisation:moel"}, "project",
         "project must be the IRI (or prefixed name, such as project:sse-knowledge-base) of a ilop:Project in the graph; "
         "'organisation:moel' is not one."),
        ("/queries/ratifications", {"since": "20/04/2021"}, "since",
         "since must be a date written YYYY-MM-DD; got '20/04/2021'."),
        ("/queries/funding-by-funder", {"min_amount": "lots"}, "min_amount",
         "min_amount must be a decimal number, such as 1000000 or 2.5; got 'lots'."),
    ],
)
def test_a_bad_parameter_gets_422_naming_it_and_what_it_takes(
    sparql_server: RunningServer, path: str, params: dict, parameter: str, message: str
) -> None:
    response = get(sparql_server, path, params=params)
    assert problem(response) == (422, message)
    assert response.json()["errors"] == [{"loc": ["query", parameter], "msg": message, "type": "value_error"}]


def test_an_unknown_query_gets_404(sparql_server: RunningServer) -> None:
    response = get(sparql_server, "/queries/no-such-question")
    assert problem(response) == (404, "There is no query named 'no-such-question'; GET /queries lists them.")
    assert get(sparql_server, "/queries/..%2F..%2Fetc%2Fpasswd.rq").status_code == 404


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/queries/search", {"q": '"} SERVICE <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} #'}),
        ("/queries/search", {"q": "') } SERVICE <http://127.0.0.1:{port}/> { ?x ?y ?z } #"}),
        ("/queries/entity-by-label", {"name": '"@en . }} SERVICE <http://127.0.0.1:{port}/> {{ ?a ?b ?c }} #@en'}),
    ],
)
def test_values_that_try_to_break_out_of_the_query_are_bound_harmlessly(
    sparql_server: RunningServer, listener: tuple[int, list[bytes]], path: str, params: dict
) -> None:
    port, received = listener
    filled = {k: v.replace("{port}", str(port)).replace("{{", "{").replace("}}", "}") for k, v in params.items()}
    response = get(sparql_server, path, params={**filled, "format": "rows"})
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == []
    assert received == []


@pytest.mark.parametrize("value", ["http://127.0.0.1:9/> } SERVICE <http://127.0.0.1:9/", "http://example.org/a b", "x>y"])
def test_iri_values_with_spaces_or_angle_brackets_are_refused(sparql_server: RunningServer, value: str) -> None:
    response = get(sparql_server, "/queries/project-profile", params={"project": value})
    assert problem(response)[0] == 422
    assert response.json()["errors"][0]["loc"] == ["query", "project"]


def test_the_openapi_document_lists_every_query_as_its_own_operation_with_typed_parameters(
    sparql_server: RunningServer, settings: Settings
) -> None:
    catalogue = load_catalogue(settings.queries_dir)
    spec = get(sparql_server, "/openapi.json").json()
    for name, query in catalogue.items():
        operation = spec["paths"][f"/queries/{name}"]["get"]
        assert operation["operationId"] == name.replace("-", "_")
        assert operation["summary"] == query.title
        names = [p["name"] for p in operation["parameters"]]
        assert names == [p.name for p in query.parameters] + ["limit", "offset", "format"]
        for described, parameter in zip(operation["parameters"], query.parameters, strict=False):
            assert described["required"] == parameter.required
            assert described["example"] in (parameter.example, int(parameter.example) if parameter.example.isdigit() else None)
        assert set(operation["responses"]["200"]["content"]) == {
            "application/json", "application/sparql-results+json", "text/csv", "text/tab-separated-values",
            "application/sparql-results+xml", "text/html",
        }
    projects = {p["name"]: p["schema"] for p in spec["paths"]["/queries/projects"]["get"]["parameters"]}
    assert projects["from"] == {"type": "integer", "minimum": 1000, "maximum": 9999}
    assert projects["country"] == {"type": "string", "pattern": "^([A-Za-z]{2,3}|\\d{1,3})$"}
    partners = {p["name"]: p["schema"] for p in spec["paths"]["/queries/partners"]["get"]["parameters"]}
    assert partners["role"] == {"type": "string", "enum": ["funding", "implementing", "partner", "accountable", "extending"]}


def test_a_default_applies_when_the_parameter_is_left_out(sparql_server: RunningServer) -> None:
    default = get(sparql_server, "/queries/countries-reached").json()
    explicit = get(sparql_server, "/queries/countries-reached", params={"min_projects": "1"}).json()
    assert default["rows"] == explicit["rows"] and len(default["rows"]) == 26
    assert default["parameters"] == {"min_projects": "1"}


def test_a_hostile_value_is_shown_escaped_on_the_html_page(sparql_server: RunningServer) -> None:
    hostile = '"><script>alert(1)</script>'
    response = get(sparql_server, "/queries/search", params={"q": hostile}, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in response.text


def test_an_answer_asked_again_is_the_same_answer(sparql_server: RunningServer) -> None:
    # The second answer is the one kept from the first (see CannedQueryService.rendered):
    # same bytes, same headers, for each format; a different page is not confused with it.
    for name in ("json", "rows", "csv"):
        url = sparql_server.url + f"/queries/projects?limit=4&format={name}"
        first, again = httpx.get(url), httpx.get(url)
        assert first.status_code == again.status_code == 200
        assert again.content == first.content
        assert {k: again.headers[k] for k in ("content-type", "link", "vary")} == {
            k: first.headers[k] for k in ("content-type", "link", "vary")}
    second_page = httpx.get(sparql_server.url + "/queries/projects?limit=4&offset=4&format=rows").json()
    first_page = httpx.get(sparql_server.url + "/queries/projects?limit=4&format=rows").json()
    assert (first_page["offset"], second_page["offset"]) == (0, 4)
    assert not {row["project"] for row in first_page["rows"]} & {row["project"] for row in second_page["rows"]}


# The one definition of where a project runs (queries/README.md), as every query that asks it writes it (each with
# its own name for the country).
RUNS_IN = re.compile(
    re.escape(
        "?project dcterms:spatial|(ilop:hasComponent|ilop:hasPhase|ilop:hasOutput|(ilop:hasComponent|ilop:hasPhase)"
        "/ilop:hasOutput)/dcterms:spatial ?place . { ?place ilop:memberCountry ?"
    ) + r"(\w+) \. \?\1 a ilop:Country \} UNION \{ \?\1 a ilop:Country \. BIND \(\?\1 AS \?place\) \}"
)


def test_every_query_that_asks_where_a_project_runs_uses_the_one_definition(settings: Settings) -> None:
    texts = {path.stem: path.read_text(encoding="utf-8") for path in settings.queries_dir.glob("*.rq")}
    asking = sorted(name for name, text in texts.items() if "?project" in text and "dcterms:spatial" in text)
    assert asking == [
        "countries-reached", "explore-countries", "explore-network", "explore-summary", "project-profile", "projects"]
    assert [name for name in asking if not RUNS_IN.search(texts[name].replace("?project a ilop:Project ;", "?project"))] == []
    readme = RUNS_IN.search((settings.queries_dir / "README.md").read_text(encoding="utf-8"))
    assert readme is not None and readme.group(1) == "country"


def _projects_in_view(text: str) -> str:
    start = text.index("  # The projects in view:")
    return text[start:text.index("  # The end of the projects in view.", start)]


def test_the_explorer_s_queries_choose_their_projects_alike_and_as_the_projects_question_filters_them(settings: Settings) -> None:
    texts = {path.stem: path.read_text(encoding="utf-8") for path in settings.queries_dir.glob("explore-*.rq")}
    assert sorted(texts) == ["explore-countries", "explore-network", "explore-summary", "explore-timeline"]
    blocks = {name: _projects_in_view(text) for name, text in texts.items()}
    assert len(set(blocks.values())) == 1, "the projects-in-view block differs between the explore-* queries"
    # The same filters as the Projects question, on the block's own names for the project's period.
    projects = (settings.queries_dir / "projects.rq").read_text(encoding="utf-8")
    for parameter in ("partner", "theme", "cycle"):
        filter_line = next(line for line in projects.splitlines() if line.startswith(f"  FILTER (!BOUND(?{parameter})"))
        assert filter_line in blocks["explore-summary"], parameter
    catalogue = load_catalogue(settings.queries_dir)
    assert {name: [p.name for p in catalogue[name].parameters] for name in texts} == {
        name: ["project", "partner", "theme", "cycle", "from", "to"] for name in texts}


def test_the_queries_agree_on_where_each_project_runs(sparql_server: RunningServer) -> None:
    reached = get(sparql_server, "/queries/countries-reached", params={"format": "rows"}).json()["rows"]
    assert len(reached) >= 20
    # Tunisia is reached through the project's own places and through a case study (an output).
    assert {r["code"]: r["projects"] for r in reached}["TN"] == 2
    disagreements = []
    for country in reached:
        projects = get(sparql_server, "/queries/projects", params={"country": country["code"], "format": "rows"}).json()
        listed = {row["project"] for row in projects["rows"]}
        profiled = {
            project for project in listed
            if country["country"] in {row["item"] for row in get(
                sparql_server, "/queries/project-profile", params={"project": project, "format": "rows"}
            ).json()["rows"] if row["aspect"] == "runs in"}
        }
        if len(listed) != country["projects"] or profiled != listed:
            disagreements.append((country["code"], country["projects"], len(listed), len(profiled)))
    assert disagreements == []
