"""Validation and submissions over HTTP: POST /validate, and /submissions to create, read, replace, withdraw."""

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from server.formats.registry import GRAPH_FORMATS, READABLE_SYNTAXES, REPORT
from server.http.conditional import if_match, not_modified
from server.http.deps import (
    GuardDep,
    MetricsDep,
    ServiceDep,
    SettingsDep,
    SubmissionsDep,
    ValidationDep,
    known_query_parameters,
)
from server.http.report_pages import report_response
from server.http.routes.sparql import answer_query
from server.http.uploads import read_upload
from server.rdf.syntaxes import is_converted, shown_text
from server.settings import Settings
from server.sparql.service import QueryRequest
from server.submissions.plan import plan_validation
from server.submissions.records import SubmissionRecord
from server.submissions.service import Upload
from server.validation.report_format import report_document

router = APIRouter(tags=["Submissions"], dependencies=[Depends(known_query_parameters)])

# The media types a file may be sent in, for the OpenAPI document.
_RDF_BODY = {
    "requestBody": {
        "required": True,
        "description": "An RDF file (UTF-8) in the body, typed by Content-Type, or a multipart/form-data form "
        f"with a `file` (or a `text` field) and optionally a `format` ({', '.join(f.name for f in READABLE_SYNTAXES)}).",
        "content": {
            **{f.media_type: {"schema": {"type": "string"}} for f in READABLE_SYNTAXES},
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "format": "binary"}, "text": {"type": "string"},
                "format": {"type": "string", "enum": [f.name for f in READABLE_SYNTAXES]},
            }}},
        },
    },
}
_REPORT_RESPONSE = {
    "content": {f.media_type: {} for f in REPORT.formats},
    "description": "The validation report: JSON, a SHACL sh:ValidationReport in Turtle, or an HTML page, by Accept.",
}
SubmissionId = Annotated[str, Path(max_length=64, description="A submission's id, such as 2026-11-22-0a1b2c3d.")]
Authorization = Annotated[str | None, Header(description="Bearer <token>, as issued by the operator.")]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _read(request: Request, settings: Settings) -> Upload:
    """The submitted file; its text is kept on the request, so that an error page can show its lines."""
    upload = await read_upload(request, settings.max_submission_bytes)
    request.state.submitted_text = shown_text(upload.data, upload.syntax.media_type)
    # JSON-LD fetched from this server names its context by this URL: read it from memory.
    return dataclasses.replace(upload, own_contexts=(str(request.url_for("context")),))


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
    if replaced is None and is_converted(upload.syntax):
        # As POST /submissions would: a file about what one submission holds is checked as its replacement.
        holders = await submissions.holders(upload)
        replaced = holders[0] if len(holders) == 1 else None
    plan = plan_validation(submissions.records(), upload.data, replaced)
    outcome = await validation.validate(
        upload.data, upload.syntax, upload.file_name or "submission", plan.excluded_graph, upload.own_contexts
    )
    report = plan.annotate(outcome.report)
    return report_response(request, report_document(report), report.report_turtle, request.state.submitted_text)


@router.post(
    "/submissions", summary="Submit an RDF file", status_code=201, openapi_extra=_RDF_BODY,
    responses={201: {"description": "Accepted and stored; Location names it; Submission-Outcome: created."},
               200: {"description": "The same file was submitted already by the same submitter (Submission-Outcome: "
                     "unchanged), or an IATI file replaced the one submission of its submitter that holds its activities "
                     "(Submission-Outcome: replaced)."},
               401: {"description": "No valid token."},
               409: {"description": "Submitted already by someone else, or its activities are held by other submissions."},
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
    # What happened, beside the record itself (the body is the record, as GET gives it): a 200 is either the same
    # file sent again or an import that replaced the submission holding its records.
    outcome = "created" if accepted.created else "replaced" if accepted.replaced else "unchanged"
    return JSONResponse(
        accepted.record.as_dict(), status_code=201 if accepted.created else 200,
        headers={"Location": location, "Submission-Outcome": outcome},
    )


@router.get("/submissions", summary="List accepted submissions")
async def list_submissions(
    submissions: SubmissionsDep,
    submitter: Annotated[str | None, Query(max_length=63, description="Only this submitter's.")] = None,
) -> dict[str, list[dict[str, Any]]]:
    """Every accepted submission, oldest first."""
    return {"submissions": [r.as_dict() for r in submissions.records(submitter)]}


@router.get("/submissions/{submission_id}", summary="A submission's record")
async def get_submission(request: Request, submission_id: SubmissionId, submissions: SubmissionsDep) -> Response:
    """Who submitted it, when, in which format and file, its content hash and validation summary. Its ETag names
    this version: send it in If-Match with PUT or DELETE so as not to overwrite a change made meanwhile."""
    record = submissions.get(submission_id)
    headers = {"ETag": record.etag, "Cache-Control": "no-cache"}
    if not_modified(request, record.etag, None):
        return Response(status_code=304, headers=headers)
    return JSONResponse(record.as_dict(), headers=headers)


@router.get("/submissions/{submission_id}/report", summary="A submission's validation report",
            responses={200: _REPORT_RESPONSE, 400: {"description": "An unknown format."}})
async def get_report(
    request: Request, submission_id: SubmissionId, submissions: SubmissionsDep,
    format: Annotated[str | None, Query(description="json, turtle or html; by default from Accept.")] = None,
) -> Response:
    """The report the submission was accepted with (an HTML page shows the first findings and links here for all)."""
    record = submissions.get(submission_id)
    report = submissions.report(record)
    text = shown_text(submissions.original(record), record.media_type)
    return report_response(request, report, submissions.report_turtle(record), text,
                           stored_at=request.url.path, wanted=format)


@router.get(
    "/submissions/{submission_id}/content", summary="A submission's triples, with its record",
    responses={200: {"content": {f.media_type: {} for f in GRAPH_FORMATS}}},
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
    responses={403: {"description": "Not your submission."}, 412: {"description": "If-Match names another version."},
               422: _REPORT_RESPONSE},
)
async def replace_submission(
    request: Request, submission_id: SubmissionId, submissions: SubmissionsDep, guard: GuardDep, settings: SettingsDep,
    authorization: Authorization = None,
) -> Response:
    """Replace the content of one's own submission with a new file, atomically (validated first)."""
    principal = guard.principal(authorization)
    guard.spend_submission(principal)
    upload = await _read(request, settings)
    record = await submissions.replace(principal, submission_id, upload, if_match(request))
    return JSONResponse(record.as_dict(), headers={"ETag": record.etag})


@router.delete("/submissions/{submission_id}", summary="Withdraw a submission", status_code=204,
               responses={403: {"description": "Neither your submission nor an operator's token."}})
async def withdraw_submission(
    request: Request, submission_id: SubmissionId, submissions: SubmissionsDep, guard: GuardDep,
    authorization: Authorization = None,
) -> Response:
    """Remove a submission from the graph: its submitter or an operator may (with If-Match, only that version)."""
    principal = guard.principal(authorization)
    guard.spend_submission(principal)
    await submissions.withdraw(principal, submission_id, if_match(request))
    return Response(status_code=204)
