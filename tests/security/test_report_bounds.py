"""A report page for people stays the size of a page, whatever the file: the first findings, the
lines around them, and where to get the whole report (JSON and Turtle have every finding)."""

import re

import httpx

from server.http.report_pages import HTML_FINDINGS, HTML_LINES
from tests.support.problems import problem
from tests.support.servers import EXAMPLES, SubmissionServer

NEW_PROJECT = EXAMPLES / "first-submission.ttl"

PREFIXES = "@prefix ilop: <https://w3id.org/ilo-partnerships/ontology#> .\n"


def _projects_without_labels(count: int, padding: int = 0) -> bytes:
    """A file of `count` projects that break the shapes, after `padding` comment lines."""
    lines = ["# padding"] * padding + [f"<https://example.org/p/{n}> a ilop:Project ." for n in range(count)]
    return (PREFIXES + "\n".join(lines) + "\n").encode()


def _validate(server: SubmissionServer, data: bytes, accept: str) -> httpx.Response:
    return httpx.post(server.url + "/validate", content=data, headers={"Content-Type": "text/turtle", "Accept": accept},
                      timeout=120)


def test_a_page_shows_the_first_findings_and_says_where_the_rest_are(submission_server: SubmissionServer) -> None:
    data = _projects_without_labels(1500)
    findings = len(_validate(submission_server, data, "application/json").json()["results"])
    assert findings > 3 * HTML_FINDINGS
    page = _validate(submission_server, data, "text/html")
    assert page.status_code == 200
    rows = re.findall(r'<tr class="(?:violation|warning)">', page.text)
    assert len(rows) == HTML_FINDINGS
    assert f"This page shows the first {HTML_FINDINGS} of {findings} findings." in page.text
    assert len(page.content) < 3 * len(data) + 200_000


def test_a_long_file_shows_only_the_lines_around_its_findings(submission_server: SubmissionServer) -> None:
    data = _projects_without_labels(3, padding=3 * HTML_LINES)
    page = _validate(submission_server, data, "text/html")
    assert page.status_code == 200
    shown = [int(n) for n in re.findall(r'<li id="L(\d+)"', page.text)]
    total = data.decode().count("\n")
    assert shown and shown[-1] == total and len(shown) < 20
    assert page.text.count('<li class="gap"') == 1
    assert len(page.content) < len(data)


def test_a_short_file_is_shown_whole(submission_server: SubmissionServer) -> None:
    data = _projects_without_labels(3, padding=10)
    page = _validate(submission_server, data, "text/html")
    assert [int(n) for n in re.findall(r'<li id="L(\d+)"', page.text)] == list(range(1, data.decode().count("\n") + 1))
    assert '<li class="gap"' not in page.text


def test_a_stored_reports_page_links_to_the_whole_report(submission_server: SubmissionServer) -> None:
    # People who hold no post: one warning each, so the file is stored with more findings than a page shows.
    text = NEW_PROJECT.read_text(encoding="utf-8")
    prefixes = "".join(line + "\n" for line in text.splitlines() if line.startswith("@prefix"))
    source = text[text.index("ex:green-jobs-brief a ilop:SourceDocument"):]
    people = "".join(f'ex:person-{n} a ilop:Person ; rdfs:label "Person {n}"@en ; prov:wasDerivedFrom ex:green-jobs-brief .\n'
                     for n in range(HTML_FINDINGS + 20))
    stored = httpx.post(submission_server.url + "/submissions", content=(prefixes + source + people).encode(), timeout=120,
                        headers={"Content-Type": "text/turtle", **submission_server.auth("alice")})
    assert stored.status_code == 201, stored.text[:300]
    report_url = stored.json()["links"]["self"] + "/report"
    try:
        page = httpx.get(submission_server.url + report_url, headers={"Accept": "text/html"}, timeout=60)
        assert f'<a href="{report_url}?format=json">the whole report in JSON</a>' in page.text
        whole = httpx.get(submission_server.url + report_url, params={"format": "json"}, timeout=60).json()
        assert len(whole["results"]) == HTML_FINDINGS + 20 > len(re.findall(r'<tr class="warning">', page.text))
        turtle = httpx.get(submission_server.url + report_url, params={"format": "turtle"}, timeout=60)
        assert turtle.headers["content-type"].startswith("text/turtle")
        unknown = httpx.get(submission_server.url + report_url, params={"format": "pdf"}, timeout=60)
        assert problem(unknown) == (400, "Unknown format 'pdf'; use one of: json, turtle, html.")
    finally:
        httpx.delete(submission_server.url + stored.json()["links"]["self"], headers=submission_server.auth("alice"), timeout=60)
