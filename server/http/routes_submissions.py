"""Validation and submissions over HTTP: POST /validate, and /submissions to create, read, replace, withdraw."""

import dataclasses
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from server.http.body_limit import BodyTooLargeError
from server.http.deps import GuardDep, MetricsDep, ServiceDep, SettingsDep, SubmissionsDep, ValidationDep
from server.http.pages import render
from server.http.routes_sparql import answer_query
from server.http.uploads import read_upload
from server.negotiation import choose
from server.report_format import render_json
from server.settings import Settings
from server.sparql_service import QueryRequest
from server.submission_records import SubmissionRecord
from server.submissions import SubmissionError, SubmissionRejectedError, Upload
from server.validation import Report
from server.validation_context import plan_validation
from server.validation_service import SubmissionInputError

router = APIRouter(tags=["Submissions"])

_REPORT_TYPES = ("application/json", "text/turtle", "text/html")
# The media types a file may be sent in, for the OpenAPI document.
_RDF_BODY = {
    "requestBody": {
        "required": True,
        "description": "An RDF file (UTF-8) in the body, typed by Content-Type, or a multipart/form-data form "
        "with a `file` (or a `text` field) and optionally a `format` (turtle, trig, ntriples, nquads, jsonld, rdfxml).",
        "content": {
            **{t: {"schema": {"type": "string"}} for t in (
                "text/turtle", "application/trig", "application/n-triples", "application/n-quads",
                "application/ld+json", "application/rdf+xml",
            )},
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "format": "binary"}, "text": {"type": "string"},
                "format": {"type": "string", "enum": ["turtle", "trig", "ntriples", "nquads", "jsonld", "rdfxml"]},
            }}},
        },
    },
}
_REPORT_RESPONSE = {
    "content": {t: {} for t in _REPORT_TYPES},
    "description": "The validation report: JSON, a SHACL sh:ValidationReport in Turtle, or an HTML page, by Accept.",
}
SubmissionId = Annotated[str, Path(max_length=64, description="A submission's id, such as 2026-11-22-0a1b2c3d.")]
Authorization = Annotated[str | None, Header(description="Bearer <token>, as issued by the operator.")]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


_REPORT_FORMATS = {"json": "application/json", "turtle": "text/turtle", "html": "text/html"}


def report_response(
    request: Request, report: dict[str, Any], turtle: str, text: str, status: int = 200, stored_at: str | None = None,
    wanted: str | None = None,
) -> Response:
    """A report in the format the client asks for (`wanted`, a name of _REPORT_FORMATS, else Accept; JSON by default).

    stored_at: the URL of a stored report, which the HTML page links to for the whole report.
    """
    if wanted is not None and wanted not in _REPORT_FORMATS:
        return JSONResponse({"detail": f"Unknown format {wanted[:40]!r}; use one of: {', '.join(_REPORT_FORMATS)}."},
                            status_code=400)
    chosen = _REPORT_FORMATS[wanted] if wanted else choose(request.headers.get("accept"), _REPORT_TYPES)
    headers = {"Vary": "Accept"}
    if chosen == "text/turtle":
        return Response(turtle, status_code=status, media_type="text/turtle", headers=headers)
    if chosen == "text/html":
        shown = {**report, "results": report.get("results", [])[:HTML_FINDINGS]}
        return render(request, "report.html", status_code=status, report=shown, lines=_lines(text, shown),
                      total_findings=len(report.get("results", [])), report_url=stored_at)
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


def error_response(request: Request, error: Exception) -> Response:
    """A refused validation or submission: JSON {detail, line, column}, or the report page for a browser."""
    text = ""
    if isinstance(error, SubmissionRejectedError):
        report = {"detail": "The file does not conform to the shapes; nothing was stored.", **_report_dict(error.report)}
        return report_response(request, report, error.report.report_turtle, error.text, 422)
    if isinstance(error, SubmissionInputError):
        status, body, headers = error.status, error.as_dict(), {}
        text = getattr(request.state, "submitted_text", "")
    elif isinstance(error, SubmissionError):
        status, body, headers = error.status, {"detail": error.message}, error.headers
    elif isinstance(error, BodyTooLargeError):
        status, body, headers = 413, {"detail": error.message}, {}
    else:
        raise error
    if choose(request.headers.get("accept"), ("application/json", "text/html")) == "text/html":
        page = {"error": body["detail"], "line": body.get("line"), "column": body.get("column")}
        return render(request, "report.html", status_code=status, report=page, lines=_lines(text, page))
    return JSONResponse(body, status_code=status, headers=headers)


async def _read(request: Request, settings: Settings) -> Upload:
    """The submitted file; its text is kept on the request, so that an error page can show its lines."""
    upload = await read_upload(request, settings.max_submission_bytes)
    request.state.submitted_text = upload.data.decode("utf-8", errors="replace")
    # JSON-LD fetched from this server names its context by this URL: read it from memory.
    return dataclasses.replace(upload, own_contexts=(str(request.url_for("context")),))


def _report_dict(report: Report) -> dict[str, Any]:
    return json.loads(render_json(report))


@router.post(
    "/validate", summary="Validate an RDF file (nothing is stored)", openapi_extra=_RDF_BODY,
    responses={200: _REPORT_RESPONSE, 400: {"description": "The file cannot be read."},
               413: {"description": "Too large."}, 415: {"description": "Not an RDF syntax this server reads."}},
)
async def validate(
    request: Request, validation: ValidationDep, submissions: SubmissionsDep, guard: GuardDep, settings: SettingsDep,
    replaces: Annotated[str | None, Query(
        max_length=64, description="Check the file as the replacement of this submission (its id): validated without it.",
    )] = None,
) -> Response:
    """Check a file against the project's shapes, in the context of the stored graph, and report every finding
    with its node, property, value, message, severity and line: exactly what POST /submissions (or, with
    `replaces`, PUT /submissions/{id}) would act on. A file stored already is recognised and said to be.
    Shapes inside the file are ignored."""
    guard.spend_validation(_client(request))
    replaced = submissions.get(replaces) if replaces is not None else None
    upload = await _read(request, settings)
    plan = plan_validation(submissions.records(), upload.data, replaced)
    outcome = await validation.validate(
        upload.data, upload.syntax, upload.file_name or "submission", plan.excluded_graph, upload.own_contexts
    )
    report = plan.annotate(outcome.report)
    return report_response(request, _report_dict(report), report.report_turtle, request.state.submitted_text)


@router.post(
    "/submissions", summary="Submit an RDF file", status_code=201, openapi_extra=_RDF_BODY,
    responses={201: {"description": "Accepted and stored; Location names it."},
               200: {"description": "The same file was submitted already by the same submitter."},
               401: {"description": "No valid token."}, 409: {"description": "Submitted already by someone else."},
               422: _REPORT_RESPONSE, 429: {"description": "Too many submissions; see Retry-After."}},
)
async def create_submission(
    request: Request, submissions: SubmissionsDep, guard: GuardDep, settings: SettingsDep, authorization: Authorization = None,
) -> Response:
    """Validate a file and, if it conforms, store it in a named graph of its own with its provenance."""
    principal = guard.principal(authorization)
    guard.spend_submission(principal)
    upload = await _read(request, settings)
    accepted = await submissions.create(principal, upload)
    location = f"/submissions/{accepted.record.id}"
    return JSONResponse(accepted.record.as_dict(), status_code=201 if accepted.created else 200, headers={"Location": location})


@router.get("/submissions", summary="List accepted submissions")
async def list_submissions(
    submissions: SubmissionsDep,
    submitter: Annotated[str | None, Query(max_length=63, description="Only this submitter's.")] = None,
) -> dict[str, list[dict[str, Any]]]:
    """Every accepted submission, oldest first."""
    return {"submissions": [r.as_dict() for r in submissions.records(submitter)]}


@router.get("/submissions/{submission_id}", summary="A submission's record")
async def get_submission(submission_id: SubmissionId, submissions: SubmissionsDep) -> dict[str, Any]:
    """Who submitted it, when, in which format and file, its content hash and validation summary."""
    return submissions.get(submission_id).as_dict()


@router.get("/submissions/{submission_id}/report", summary="A submission's validation report",
            responses={200: _REPORT_RESPONSE, 400: {"description": "An unknown format."}})
async def get_report(
    request: Request, submission_id: SubmissionId, submissions: SubmissionsDep,
    format: Annotated[str | None, Query(description="json, turtle or html; by default from Accept.")] = None,
) -> Response:
    """The report the submission was accepted with (an HTML page shows the first findings and links here for all)."""
    record = submissions.get(submission_id)
    report = json.loads(submissions.report_json(record))
    text = submissions.original(record).decode("utf-8-sig")
    return report_response(request, report, submissions.report_turtle(record).decode("utf-8"), text,
                           stored_at=request.url.path, wanted=format)


@router.get(
    "/submissions/{submission_id}/content", summary="A submission's triples, with its record",
    responses={200: {"content": {t: {} for t in ("text/turtle", "application/n-triples", "application/ld+json",
                                                  "application/rdf+xml")}}},
)
async def get_content(
    request: Request, submission_id: SubmissionId, submissions: SubmissionsDep, service: ServiceDep, metrics: MetricsDep,
    format: Annotated[str | None, Query(description="turtle, ntriples, jsonld or rdfxml; by default from Accept.")] = None,
) -> Response:
    """The submission's named graph, as stored: its triples and its provenance record."""
    record = submissions.get(submission_id)
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{record.graph}> {{ ?s ?p ?o }} }}"
    return await answer_query(request, service, metrics, QueryRequest(query, accept=request.headers.get("accept"), format=format))


@router.get("/submissions/{submission_id}/original", summary="The file as it was submitted")
async def get_original(submission_id: SubmissionId, submissions: SubmissionsDep) -> Response:
    """The submitted bytes, with their media type and file name."""
    record = submissions.get(submission_id)
    return Response(submissions.original(record), media_type=record.media_type, headers=_disposition(record))


def _disposition(record: SubmissionRecord) -> dict[str, str]:
    name = (record.file_name or f"{record.id}").encode("ascii", "replace").decode().replace('"', "'")
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.put(
    "/submissions/{submission_id}", summary="Replace a submission", openapi_extra=_RDF_BODY,
    responses={403: {"description": "Not your submission."}, 422: _REPORT_RESPONSE},
)
async def replace_submission(
    request: Request, submission_id: SubmissionId, submissions: SubmissionsDep, guard: GuardDep, settings: SettingsDep,
    authorization: Authorization = None,
) -> dict[str, Any]:
    """Replace the content of one's own submission with a new file, atomically (validated first)."""
    principal = guard.principal(authorization)
    guard.spend_submission(principal)
    upload = await _read(request, settings)
    return (await submissions.replace(principal, submission_id, upload)).as_dict()


@router.delete("/submissions/{submission_id}", summary="Withdraw a submission", status_code=204,
               responses={403: {"description": "Neither your submission nor an operator's token."}})
async def withdraw_submission(
    submission_id: SubmissionId, submissions: SubmissionsDep, guard: GuardDep, authorization: Authorization = None,
) -> Response:
    """Remove a submission from the graph: its submitter or an operator may."""
    principal = guard.principal(authorization)
    guard.spend_submission(principal)
    await submissions.withdraw(principal, submission_id)
    return Response(status_code=204)
