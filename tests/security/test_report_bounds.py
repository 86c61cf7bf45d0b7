"""A report page for people stays the size of a page, whatever the file: the first findings, the
lines around them, and where to get the whole report (JSON and Turtle have every finding)."""

import re

import httpx

from server.http.routes_submissions import HTML_FINDINGS, HTML_LINES
from tests.conftest import SubmissionServer

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
