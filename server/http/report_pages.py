"""Validation reports as answers: JSON, Turtle or a page marking the submitted file's lines; and refusals of
submitted files as that page.

Used by the submission routes and by the app's error handler (a refused upload seen in a browser).
"""

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from server.formats.registry import HTML, REPORT, TURTLE
from server.http.pages import render
from server.problems import PROBLEM_JSON, problem_document
from server.submissions.service import SubmissionRejectedError
from server.validation.report_format import report_document


def report_response(
    request: Request, report: dict[str, Any], turtle: str, text: str, status: int = 200, stored_at: str | None = None,
    wanted: str | None = None,
) -> Response:
    """A report in the format the client asks for (`wanted`, a `format` name, else Accept; JSON by default).

    A report that refuses (status 4xx) is also a problem-details document: its members are added to the report's.
    stored_at: the URL of a stored report, which the HTML page links to for the whole report.
    """
    chosen = REPORT.negotiate(wanted, request.headers.get("accept"))
    headers = {"Vary": "Accept"}
    if chosen is TURTLE:
        return Response(turtle, status_code=status, media_type=TURTLE.media_type, headers=headers)
    if chosen is HTML:
        shown = {**report, "results": report.get("results", [])[:HTML_FINDINGS]}
        return render(request, "report.html", status_code=status, report=shown, lines=_lines(text, shown),
                      total_findings=len(report.get("results", [])), report_url=stored_at)
    if status >= 400:
        document = problem_document(status, report.pop("detail"), request.url.path, **report)
        return JSONResponse(document, status_code=status, headers=headers, media_type=PROBLEM_JSON)
    return JSONResponse(report, status_code=status, headers=headers)


# A page for people stays the size of a page, whatever the file: the JSON and Turtle reports hold
# every finding; the HTML one the first findings and the lines around them (and the whole text of
# a short file).
HTML_FINDINGS = 200
HTML_LINES = 2000
_AROUND = 2


def _lines(text: str, report: dict[str, Any]) -> list[dict[str, Any]]:
    """The submitted text line by line, each marked with the worst severity of the findings on it;
    for a long file, only the lines around the marked ones, with a gap ({"gap": True}) between runs."""
    worst: dict[int, str] = {}
    for result in report.get("results", []):
        line = result.get("line")
        if line and worst.get(line) != "Violation":
            worst[line] = result["severity"]
    if report.get("line"):
        worst[report["line"]] = "Violation"
    lines = text.splitlines()
    if len(lines) <= HTML_LINES:
        numbers = range(1, len(lines) + 1)
    else:
        around = {n for line in worst for n in range(line - _AROUND, line + _AROUND + 1) if 1 <= n <= len(lines)}
        numbers = sorted(around)[:HTML_LINES]
    shown: list[dict[str, Any]] = []
    for n in numbers:
        if shown and shown[-1]["number"] != n - 1 or not shown and n > 1:
            shown.append({"gap": True, "number": n - 1})
        shown.append({"number": n, "text": lines[n - 1], "mark": worst.get(n)})
    if shown and shown[-1]["number"] < len(lines):
        shown.append({"gap": True, "number": len(lines)})
    return shown


def rejection_response(request: Request, error: SubmissionRejectedError) -> Response:
    """A file that does not conform: 422 with its report, in the format the client asks for."""
    report = {"detail": "The file does not conform to the shapes; nothing was stored.", **report_document(error.report)}
    return report_response(request, report, error.report.report_turtle, error.text, 422)


def refusal_page(
    request: Request, status: int, detail: str, extensions: dict[str, Any], headers: dict[str, str] | None
) -> Response:
    """A refused validation or submission as the report page, with the submitted file's lines when it was read."""
    text = getattr(request.state, "submitted_text", "")
    page = {"error": detail, "line": extensions.get("line"), "column": extensions.get("column")}
    return render(request, "report.html", status_code=status, report=page, lines=_lines(text, page), headers=headers)
