"""/explore through a real server, without a browser: the counts read without script and equal the
explore-summary question's answer; each picture names the canned query (with the filters) that answers its
data; a bad filter is a 422 that says what is wrong next to the field; resource pages name their pictures."""

import json
import re
import time
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from server.settings import Settings
from tests.support.servers import EXAMPLES, RunningServer, SubmissionServer, project_served_with


def page(server: RunningServer, query: str = "") -> httpx.Response:
    return httpx.get(server.url + "/explore" + query)


def config(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="pictures-config">(.*?)</script>', html, re.S)
    assert found is not None, "the page has no pictures configuration"
    return json.loads(found.group(1))


def shown(html: str) -> dict[str, str]:
    return {m: unescape(v).strip() for m, v in re.findall(r'<dd data-measure="(\w+)">(.*?)</dd>', html, re.S)}


@pytest.mark.parametrize(("query", "counts"), [
    ("", {"projects": "9", "partners": "8", "countries": "26", "sources": "2"}),
    ("?partner=organisation:moel", {"projects": "3", "partners": "4", "countries": "15", "sources": "1"}),
    ("?cycle=cycle:ilo-korea-2021-2023", {"projects": "1", "partners": "0", "countries": "11", "sources": "1"}),
    ("?from=2020&to=2023&theme=", {"projects": "4", "partners": "6", "countries": "19", "sources": "2"}),
])
def test_the_counts_are_the_summary_question_s_answer(sparql_server: RunningServer, query: str, counts: dict) -> None:
    response = page(sparql_server, query)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    found = shown(response.text)
    assert {m: found[m] for m in counts} == counts
    params = {k: v[0] for k, v in parse_qs(urlsplit(query).query).items() if v[0]}
    answer = httpx.get(sparql_server.url + "/queries/explore-summary", params={**params, "format": "json"}).json()
    by_measure = {row["measure"]["value"]: row["count"]["value"] for row in answer["results"]["bindings"]}
    assert {m: by_measure.get(m, "0") for m in counts} == counts


def test_funding_is_summed_per_currency_or_said_to_be_none(sparql_server: RunningServer) -> None:
    assert re.sub(r"\s+", " ", shown(page(sparql_server).text)["funding"]) == "1,000,000 USD <small>(1 record)</small>"
    assert shown(page(sparql_server, "?cycle=cycle:ilo-korea-2021-2023").text)["funding"] == "none"


def test_a_currency_whose_amounts_the_store_cannot_sum_is_said_to_have_no_total(settings: Settings, tmp_path: Path) -> None:
    # An operator's own file is loaded as it is: an amount the engine cannot read leaves the currency's sum unbound
    # (the page used to fail with a 500). Submissions cannot hold one (tests/test_submissions.py).
    extra = (
        "@prefix schema: <https://schema.org/> .\n"
        "@prefix organisation: <https://w3id.org/ilo-partnerships/id/organisation/> .\n"
        "@prefix project: <https://w3id.org/ilo-partnerships/id/project/> .\n"
        "<https://example.org/funding> a <https://w3id.org/ilo-partnerships/ontology#Funding> ;\n"
        "  schema:funder organisation:koica ; schema:fundedItem project:sted-maghreb ;\n"
        '  schema:amount [ a schema:MonetaryAmount ; schema:value "NaN"^^<http://www.w3.org/2001/XMLSchema#decimal> ;\n'
        '                  schema:currency "USD" ] .\n'
    )
    with project_served_with(settings, tmp_path, {"extra.ttl": extra}) as server:
        response = page(server)
        assert response.status_code == 200, response.text
        assert re.sub(r"\s+", " ", shown(response.text)["funding"]) == (
            "USD: no total, an amount is not a number <small>(2 records)</small>")


def test_each_picture_names_the_question_that_answers_its_data_with_the_filters(sparql_server: RunningServer) -> None:
    response = page(sparql_server, "?partner=organisation%3Amoel&from=2019&theme=&format=csv&limit=3")
    views = config(response.text)["views"]
    assert [(v["kind"], urlsplit(v["data"]).path) for v in views] == [
        ("map", "/queries/explore-countries"), ("timeline", "/queries/explore-timeline"), ("network", "/queries/explore-network")]
    for view in views:
        assert parse_qs(urlsplit(view["data"]).query) == {"partner": ["organisation:moel"], "from": ["2019"]}
        answer = httpx.get(sparql_server.url + view["data"], params={"format": "csv"})
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert config(response.text)["atlas"] == "/assets/vendor/world-atlas/countries-50m.json"
    atlas = httpx.get(sparql_server.url + "/assets/vendor/world-atlas/countries-50m.json")
    assert atlas.status_code == 200 and atlas.json()["type"] == "Topology"


@pytest.mark.parametrize(("query", "field", "message"), [
    ("?partner=organisation:nobody", "partner", "partner must be the IRI (or prefixed name, such as organisation:moel) of a "
                                                "prov:Agent in the graph; 'organisation:nobody' is not one."),
    ("?from=twenty", "from", "from must be a year written YYYY; got 'twenty'."),
    ("?cycle=<javascript:alert(1)>", "cycle", None),
])
def test_a_bad_filter_is_a_422_page_that_says_what_is_wrong_next_to_the_field(
    sparql_server: RunningServer, query: str, field: str, message: str | None,
) -> None:
    response = page(sparql_server, query)
    assert response.status_code == 422
    block = re.search(rf'<div class="field invalid">\s*<label for="p-{field}">.*?</div>', response.text, re.S)
    assert block is not None, f"the {field} field is not marked"
    error = re.search(r'<p class="error" role="alert">(.*?)</p>', block.group(0), re.S)
    assert error is not None
    if message is not None:
        assert unescape(error.group(1)) == message
    assert "<javascript" not in response.text and 'id="pictures-config"' not in response.text


def test_an_unknown_parameter_is_a_422_naming_the_ones_there_are(sparql_server: RunningServer) -> None:
    response = page(sparql_server, "?country=LA")
    assert response.status_code == 422
    assert ("'country' is not a parameter of this query (its parameters: project, partner, theme, cycle, from, to)."
            in unescape(response.text))


def test_one_project_can_be_explored_from_a_link(sparql_server: RunningServer) -> None:
    response = page(sparql_server, "?project=project:sse-knowledge-base")
    assert response.status_code == 200
    assert shown(response.text)["projects"] == "1"
    label = "Strengthening the Social and Solidarity Economy (SSE) Knowledge Base"
    assert f'<a href="/id/project/sse-knowledge-base">{label}</a>' in response.text


def test_the_home_page_and_the_header_lead_to_the_explorer(sparql_server: RunningServer) -> None:
    home = httpx.get(sparql_server.url + "/").text
    assert '<h2><a href="/explore">Explore</a></h2>' in home
    assert '<nav aria-label="Main">\n    <a href="/explore">Explore</a>' in home


NARROWED = "project=https%3A%2F%2Fw3id.org%2Filo-partnerships%2Fid%2Fproject%2Fsse-knowledge-base"


@pytest.mark.parametrize(("path", "views"), [
    ("/id/project/sse-knowledge-base", [
        ("map", f"/queries/explore-countries?{NARROWED}"), ("timeline", f"/queries/explore-timeline?{NARROWED}"),
    ]),
    ("/id/country/LA", [("map", None), ("timeline", "/queries/projects?country=LA")]),
])
def test_project_and_country_pages_name_their_pictures(sparql_server: RunningServer, path: str, views: list) -> None:
    response = httpx.get(sparql_server.url + path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert [(v["kind"], v.get("data")) for v in config(response.text)["views"]] == views


def test_other_pages_have_no_pictures(sparql_server: RunningServer) -> None:
    response = httpx.get(sparql_server.url + "/id/organisation/moel", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert 'id="pictures-config"' not in response.text and "views.js" not in response.text


def wait_for_explorer(server: RunningServer, version: str) -> None:
    """Wait for the event: /health says the explorer's answers are ready for this data version (a generous bound
    for a busy machine; the warm-up of the bundled data takes well under a second alone)."""
    deadline = time.monotonic() + 120
    while httpx.get(server.url + "/health").json()["explorer"] != version:
        assert time.monotonic() < deadline, f"the explorer's answers never became ready for {version}"
        time.sleep(0.05)


def test_the_explorer_s_answers_are_computed_again_whenever_the_data_changes(tmp_path: Path) -> None:
    server = SubmissionServer(tmp_path, {"ILOKG_EXPLORER_WARMUP": "true"}).start()
    try:
        first = httpx.get(server.url + "/health").json()["dataVersion"]
        wait_for_explorer(server, first)
        response = httpx.post(server.url + "/submissions", content=(EXAMPLES / "first-submission.ttl").read_bytes(),
                              headers={"Content-Type": "text/turtle", **server.auth("alice")})
        assert response.status_code == 201, response.text
        second = httpx.get(server.url + "/health").json()["dataVersion"]
        assert second != first
        wait_for_explorer(server, second)
        # What was prepared is what a visitor gets: the new project is counted.
        assert shown(page(server).text)["projects"] == "10"
    finally:
        server.stop()


def test_with_the_warm_up_off_health_says_so(sparql_server: RunningServer) -> None:
    assert httpx.get(sparql_server.url + "/health").json()["explorer"] is None
