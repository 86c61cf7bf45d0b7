"""The one error handler: every refusal and failure of the app as problem details (see server.problems).

A browser sent to the submission pages gets the refusal as a page (with the submitted file's
lines, where a line is known); every other client, on every route, gets
application/problem+json. Middleware and the connection layer write the same body themselves.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.formats.registry import HTML, REFUSAL
from server.http.middleware.security_headers import SECURITY_HEADERS
from server.http.report_pages import refusal_page, rejection_response
from server.problems import PROBLEM_JSON, ProblemError, problem_document
from server.submissions.service import SubmissionRejectedError

log = logging.getLogger("ilokg.errors")
# Paths whose refusals a browser sees as a page: the submission forms post here.
_PAGES = ("/validate", "/submissions", "/submit")


def problem_response(
    request: Request, status: int, detail: str, headers: dict[str, str] | None = None, **extensions: Any
) -> Response:
    """A refusal as problem details (or, to a browser on a submission page, as that page)."""
    if request.url.path.startswith(_PAGES) and REFUSAL.negotiate(None, request.headers.get("accept")) is HTML:
        return refusal_page(request, status, detail, extensions, headers)
    return JSONResponse(
        problem_document(status, detail, request.url.path, **extensions), status_code=status, headers=headers,
        media_type=PROBLEM_JSON,
    )


def install(app: FastAPI) -> None:
    """Register the handlers on the app: one per kind of exception, one body shape for all."""

    @app.exception_handler(ProblemError)
    async def refused(request: Request, error: ProblemError) -> Response:
        return problem_response(request, error.status, error.detail, error.headers, **error.extensions)

    @app.exception_handler(SubmissionRejectedError)
    async def rejected(request: Request, error: SubmissionRejectedError) -> Response:
        return rejection_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def invalid_parameters(request: Request, error: RequestValidationError) -> Response:
        # FastAPI's list of what is wrong with which parameter stays, as the `errors` member.
        errors = error.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "the request"
        detail = f"{where}: {first.get('msg', 'not valid')}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        return problem_response(request, 422, detail, errors=_plain(errors))

    @app.exception_handler(StarletteHTTPException)
    async def http_exception(request: Request, error: StarletteHTTPException) -> Response:
        detail = str(error.detail)
        if error.status_code == 404 and detail == "Not Found":
            # The router's own 404 says nothing a person can act on.
            detail = (f"There is nothing at {request.url.path[:200]}. The home page (/) and the API reference (/docs) "
                      "list what this server offers.")
        elif error.status_code == 405:
            detail = f"{request.method} is not allowed at {request.url.path[:200]}; the API reference (/docs) lists " \
                     "the methods of each path."
        return problem_response(request, error.status_code, detail, dict(error.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        # The traceback goes to the log (uvicorn logs it), never into the answer.
        return unexpected_response(request)


def unexpected_response(request: Request) -> Response:
    """The 500 for an error of ours: the request id to quote, nothing of the error itself. It may be sent from
    outside the middleware (FastAPI's last handler is), so it carries their headers itself."""
    log.exception("unexpected error")
    request_id = request.scope.get("state", {}).get("request_id", "unknown")
    return JSONResponse(
        problem_document(
            500, f"The server could not answer this request (an error of ours, not of the request). Request id: "
            f"{request_id}; the operator can find it in the log.", request.url.path,
        ),
        status_code=500, media_type=PROBLEM_JSON, headers={"X-Request-ID": request_id, **SECURITY_HEADERS},
    )


def _plain(errors: Any) -> list[dict[str, Any]]:
    """FastAPI's error list with only JSON values (its `ctx` may hold exception objects)."""
    return [{key: value for key, value in e.items() if key in ("loc", "msg", "type")} for e in errors]
