"""The web pages in real headless Chromium (Debian's package, driven by Playwright): the query
editor works with no request leaving 127.0.0.1, forms answer as tables, the docs render.

Screenshots are saved in test-artifacts/ for people to look at.
"""

from pathlib import Path

import httpx
from playwright.sync_api import Page

from server.exchange.spreadsheets import workbook_of_sheets
from tests.support.browser import GuardedPage
from tests.support.servers import EXAMPLES, FIXTURES, RunningServer, SubmissionServer, withdraw_all


def test_the_editor_runs_a_canned_query_with_no_request_leaving_127_0_0_1(
    sparql_server: RunningServer, guarded: GuardedPage
) -> None:
    page = guarded.page
    page.goto(sparql_server.url + "/editor?example=countries-reached")
    active = page.locator(".tabPanel.active")
    active.locator(".CodeMirror").wait_for()
    assert page.locator(".tabsList .tab.active a").first.inner_text().splitlines()[0].strip() == "Countries reached"
    active.locator(".yasqe_queryButton").click()
    rows = active.locator(".yasr table tbody tr")
    rows.first.wait_for(timeout=20_000)
    assert rows.count() == 26
    assert "Indonesia" in rows.first.inner_text()
    guarded.screenshot("editor.png")
    assert guarded.outside == []
    assert guarded.errors == []
    assert any(url.endswith("/sparql") for url in guarded.requests)
    assert any("/assets/vendor/yasgui/yasgui.min.js" in url for url in guarded.requests)


def test_the_editor_offers_every_canned_query_as_an_example_with_the_project_prefixes(
    sparql_server: RunningServer, guarded: GuardedPage
) -> None:
    page = guarded.page
    page.goto(sparql_server.url + "/editor")
    page.locator(".tabPanel.active .CodeMirror").wait_for()
    examples = page.locator("button.example")
    assert examples.count() == len(list(Path(__file__).resolve().parent.parent.joinpath("queries").glob("*.rq")))
    default_query = page.evaluate("window.iloEditor.yasgui.getTab().getQuery()")
    assert "PREFIX ilop: <https://w3id.org/ilo-partnerships/ontology#>" in default_query
    assert "PREFIX country: <https://w3id.org/ilo-partnerships/id/country/>" in default_query
    page.get_by_role("button", name="Funding totals by funder").click()
    assert page.locator(".tabsList .tab.active a").first.inner_text().splitlines()[0].strip() == "Funding totals by funder"
    opened = page.evaluate("window.iloEditor.yasgui.getTab().getQuery()")
    assert opened.splitlines()[0] == (
        "# Funding totals by funder: its parameters and description are at /queries/funding-by-funder")
    assert "#+" not in opened
    # The query itself is in view when the example opens: its SELECT line is drawn in the editor's window.
    editor = page.locator(".tabPanel.active .CodeMirror")
    select = editor.locator(".CodeMirror-line", has_text="SELECT").first
    box, line = editor.bounding_box(), select.bounding_box()
    assert box is not None and line is not None and box["y"] <= line["y"] < box["y"] + box["height"]
    assert guarded.outside == []


def test_a_form_page_submits_and_shows_the_answer_as_a_table(sparql_server: RunningServer, guarded: GuardedPage) -> None:
    page = guarded.page
    page.goto(sparql_server.url + "/queries/projects")
    page.fill("#p-country", "LA")
    page.select_option("#p-theme", label="skills development")
    page.get_by_role("button", name="Ask").click()
    page.locator("section.results table").wait_for()
    assert "country=LA" in page.url and "theme=theme%3Askills-development" in page.url
    cells = page.locator("section.results tbody tr td:first-child")
    assert cells.all_inner_texts() == ["project:asean-tvet"]
    # Our IRIs link to their pages on this server, as entity pages do.
    assert cells.first.locator("a").get_attribute("href") == "/id/project/asean-tvet"
    guarded.screenshot("form-projects.png")
    assert guarded.outside == []


def test_a_form_with_a_bad_value_says_what_is_wrong_next_to_the_field(sparql_server: RunningServer, guarded: GuardedPage) -> None:
    page = guarded.page
    response = page.goto(sparql_server.url + "/queries/projects?country=Atlantis")
    assert response is not None and response.status == 422
    error = page.locator(".field.invalid .error")
    assert error.inner_text() == (
        "country must be an ISO 3166-1 country code (alpha-2, alpha-3 or numeric), such as KR, KOR or 410; got 'Atlantis'."
    )


def test_the_home_page_leads_to_the_catalogue_the_editor_and_the_dataset_description(
    sparql_server: RunningServer, guarded: GuardedPage
) -> None:
    page = guarded.page
    page.goto(sparql_server.url + "/")
    guarded.screenshot("home.png")
    page.get_by_role("link", name="Ask a question").click()
    page.get_by_role("heading", name="Questions").wait_for()
    page.get_by_role("link", name="Project profile").click()
    page.get_by_role("heading", name="Project profile").wait_for()
    # A required parameter with no value yet: the form, not an error.
    assert page.locator("section.results").count() == 0 and page.locator(".error").count() == 0
    page.select_option("#p-project", label="Portworker Development Program (PDP) in Bulk Terminals")
    page.get_by_role("button", name="Ask").click()
    page.locator("section.results table").wait_for()
    assert page.locator("section.results tbody tr").count() == 13
    page.get_by_role("link", name="Open it in the query editor").click()
    page.locator(".tabPanel.active .CodeMirror").wait_for()
    assert page.locator(".tabsList .tab.active a").first.inner_text().splitlines()[0].strip() == "Project profile"
    page.goto(sparql_server.url + "/")
    page.get_by_role("link", name="The dataset").first.click()
    page.get_by_role("heading", name="ILO partnerships knowledge graph: the dataset").wait_for()
    assert guarded.outside == []


def test_the_api_docs_render_every_operation_from_local_assets(sparql_server: RunningServer, guarded: GuardedPage) -> None:
    page = guarded.page
    response = page.goto(sparql_server.url + "/docs")
    assert response is not None and "script-src 'self';" in response.headers["content-security-policy"]
    page.locator("#operations-Canned_queries-projects").wait_for(timeout=20_000)
    assert page.locator(".opblock-tag-section .opblock").count() >= 20
    # The site's header, as on every other page.
    assert page.locator("header.site nav").get_by_role("link", name="Questions").is_visible()
    guarded.screenshot("api-docs.png")
    assert guarded.outside == []


def test_the_submission_page_shows_the_report_of_a_bad_file_then_submits_a_good_one(
    submission_server: SubmissionServer, guarded: GuardedPage, tmp_path: Path
) -> None:
    withdraw_all(submission_server)
    good = EXAMPLES / "first-submission.ttl"
    bad = tmp_path / "new-project.ttl"
    bad.write_text(good.read_text().replace('    rdfs:label "Green jobs: Cambodia"@en ;\n', ""))
    page = guarded.page
    page.goto(submission_server.url + "/submit")
    page.set_input_files("#s-file", str(bad))
    page.get_by_role("button", name="Check").click()
    page.locator("#s-result .verdict").first.wait_for()
    assert page.locator("#s-status").inner_text() == "The file needs changes before it can be submitted."
    assert page.locator("#s-result .verdict").inner_text() == "The file does not conform: 1 violation, 0 warnings in 47 triples."
    assert page.locator("#s-result table.findings tbody tr td").all_inner_texts()[:3] == [
        "41", "Violation", "<https://example.org/partner-data/green-jobs-cambodia>",
    ]
    marked = page.locator("#s-result ol.source li.marked")
    assert marked.count() == 1 and marked.get_attribute("id") == "L41"
    assert page.locator("#s-submit").is_hidden()
    guarded.screenshot("submission-report.png")

    page.set_input_files("#s-file", str(good))
    page.get_by_role("button", name="Check").click()
    page.locator("#s-result .verdict.good").wait_for()
    page.fill("#s-token", submission_server.tokens["alice"])
    page.get_by_role("button", name="Submit").click()
    page.locator("#s-result a").wait_for()
    assert page.locator("#s-status").inner_text() == "Submitted."
    (record,) = httpx.get(submission_server.url + "/submissions").json()["submissions"]
    assert page.locator("#s-result a").inner_text() == record["id"]
    assert (record["submitter"], record["fileName"]) == ("alice", "first-submission.ttl")
    guarded.screenshot("submission-stored.png")
    assert guarded.outside == [] and guarded.errors == []


def check_and_submit(page: Page, server: SubmissionServer, path: Path) -> dict:
    """Check a good file on the submission page, submit it as alice, and return its record (the only one)."""
    page.set_input_files("#s-file", str(path))
    page.get_by_role("button", name="Check").click()
    page.locator("#s-result .verdict.good").wait_for()
    page.fill("#s-token", server.tokens["alice"])
    page.get_by_role("button", name="Submit").click()
    # (The report of the check has links of its own: wait for the outcome, not for a link.)
    page.locator("#s-status", has_text="Submitted.").wait_for()
    (record,) = httpx.get(server.url + "/submissions").json()["submissions"]
    return record


def test_an_iati_file_is_checked_with_its_mistakes_marked_then_submitted_and_queried(
    submission_server: SubmissionServer, guarded: GuardedPage
) -> None:
    withdraw_all(submission_server)
    page = guarded.page
    page.goto(submission_server.url + "/submit")
    page.set_input_files("#s-file", str(FIXTURES / "iati" / "activities-mistakes.xml"))
    page.get_by_role("button", name="Check").click()
    page.locator("#s-result .verdict").first.wait_for()
    assert page.locator("#s-result .verdict").inner_text() == "The file does not conform: 9 violations, 2 warnings in 50 triples."
    # The transaction's negative value: its line, and its element in the file.
    row = page.locator("#s-result table.findings tbody tr", has_text="An amount cannot be negative.")
    assert row.locator("td").first.inner_text() == "23"
    assert row.locator("td code").nth(0).inner_text() == "[]"
    assert row.locator("small code").inner_text() == (
        "/iati-activities/iati-activity[iati-identifier='XM-DAC-41302-MISTAKES-1']/transaction/value"
    )
    marked = page.locator("#s-result ol.source li.marked")
    assert [marked.nth(i).get_attribute("id") for i in range(marked.count())] == [
        "L5", "L8", "L9", "L11", "L12", "L13", "L14", "L18", "L21", "L23",
    ]
    guarded.screenshot("submission-iati-report.png")

    record = check_and_submit(page, submission_server, FIXTURES / "iati" / "activities-2.03.xml")
    assert page.locator("#s-result a", has_text=record["id"]).is_visible()
    assert (record["fileName"], record["mediaType"]) == ("activities-2.03.xml", "application/xml")
    query = ('SELECT ?label WHERE { ?p <https://w3id.org/ilo-partnerships/ontology#iatiIdentifier> "XM-DAC-41302-TEST-001" ; '
             "<http://www.w3.org/2000/01/rdf-schema#label> ?label }")
    answer = httpx.post(submission_server.url + "/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert answer.text.splitlines() == ["label", "Decent work for young people in the Mekong"]
    guarded.screenshot("submission-iati-stored.png")
    assert guarded.outside == [] and guarded.errors == []
    httpx.delete(submission_server.url + record["links"]["self"], headers=submission_server.auth("alice"))


def test_a_filled_in_workbook_is_checked_then_submitted_and_queried(
    submission_server: SubmissionServer, guarded: GuardedPage, tmp_path: Path
) -> None:
    withdraw_all(submission_server)
    sheets = sorted((FIXTURES / "sheets" / "mistakes").glob("*.csv"))
    assert len(sheets) == 4
    workbook = tmp_path / "mistakes.xlsx"
    workbook.write_bytes(workbook_of_sheets([(p.name, p.read_text(encoding="utf-8")) for p in sheets]))
    page = guarded.page
    page.goto(submission_server.url + "/submit")
    page.set_input_files("#s-file", str(workbook))
    page.get_by_role("button", name="Check").click()
    page.locator("#s-result .verdict").first.wait_for()
    assert page.locator("#s-result .verdict").inner_text().startswith("The file does not conform: 12 violations")
    row = page.locator("#s-result table.findings tbody tr", has_text="An amount cannot be negative.")
    assert row.locator("small code").inner_text() == "funding!E3"
    guarded.screenshot("submission-workbook-report.png")

    good = sorted((FIXTURES / "sheets" / "valid").glob("*.csv"))
    workbook = tmp_path / "partners.xlsx"
    workbook.write_bytes(workbook_of_sheets([(p.name, p.read_text(encoding="utf-8")) for p in good]))
    record = check_and_submit(page, submission_server, workbook)
    assert record["fileName"] == "partners.xlsx"
    query = ("SELECT ?label WHERE { <https://w3id.org/ilo-partnerships/id/project/green-jobs-cambodia> "
             "<http://www.w3.org/2000/01/rdf-schema#label> ?label }")
    answer = httpx.post(submission_server.url + "/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert answer.text.splitlines() == ["label", "Green jobs for young people in Cambodia"]
    assert guarded.outside == [] and guarded.errors == []
    httpx.delete(submission_server.url + record["links"]["self"], headers=submission_server.auth("alice"))


def test_entity_vocabulary_and_dataset_pages_read_and_link_with_no_request_leaving_127_0_0_1(
    sparql_server: RunningServer, guarded: GuardedPage
) -> None:
    page = guarded.page
    response = page.goto(sparql_server.url + "/id/country/KR")
    assert response is not None and response.status == 200
    page.get_by_role("heading", name="Republic of Korea").wait_for()
    row = page.locator("table.facts tr", has_text="ISO 3166-1 alpha-3 code")
    assert row.locator("td").first.inner_text().strip() == "KOR"
    assert "Reference of checked vocabularies" in row.locator("td.provenance").inner_text()
    # External links are links (not followed here: the guard would block them).
    assert page.get_by_role("link", name="Wikidata Q884").first.get_attribute("href") == "http://www.wikidata.org/entity/Q884"
    guarded.screenshot("entity-country-KR.png")
    # A property's label leads to its term in the vocabulary's documentation.
    page.locator("table.facts th", has_text="ISO 3166-1 alpha-3 code").get_by_role("link").click()
    page.wait_for_url("**/ontology#iso3166Alpha3")
    term = page.locator("section.term#iso3166Alpha3")
    assert term.is_visible()
    assert page.evaluate("() => document.querySelector('section.term:target').id") == "iso3166Alpha3"
    # Incoming links lead to the pages of what points here.
    page.goto(sparql_server.url + "/id/country/KR")
    page.locator("section[aria-labelledby=incoming]").get_by_role("link", name="Korea International Cooperation Agency").click()
    page.get_by_role("heading", name="Korea International Cooperation Agency").wait_for()
    # An unknown IRI: a 404 page that lists the resources of the same kind.
    response = page.goto(sparql_server.url + "/id/country/XX")
    assert response is not None and response.status == 404
    assert page.locator("ul.suggestions li").count() == 27
    page.goto(sparql_server.url + "/.well-known/void")
    page.get_by_role("heading", name="ILO partnerships knowledge graph: the dataset").wait_for()
    assert page.locator("table.figures tr", has_text="triples").count() >= 1
    guarded.screenshot("dataset.png")
    page.goto(sparql_server.url + "/shapes#CountryShape")
    assert page.locator("section.term#CountryShape").is_visible()
    assert guarded.outside == [] and guarded.errors == []
