"""/sparql: the SPARQL 1.1 Protocol, query side (https://www.w3.org/TR/sparql11-protocol/).

The hot path of the server, so a plain ASGI endpoint that the app calls beside FastAPI (see
http/app.py), with the same per-request duties around it: FastAPI's layers, dependency solving
and parameter validation cost more per request than the rest of the route (bench/RESULTS.md),
and the protocol's parameters are read here anyway (repeated names, form fields). Refusals take
the app's one error shape (http/errors.py); its OpenAPI description is written by hand in
http/openapi_document.py.
"""

from email.utils import format_datetime
from urllib.parse import parse_qs

from starlette.background import BackgroundTask
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from server.http.conditional import not_modified
from server.http.errors import problem_response, unexpected_response
from server.http.metrics import Metrics
from server.http.pages import render
from server.http.representations import pick
from server.problems import ProblemError
from server.settings import Settings
from server.sparql.service import Answer, QueryDeadlineError, QueryRequest, SparqlError, SparqlService
from server.sparql.service_description import serialise, service_description
from server.store.embedded import GraphStore

_FORM = "application/x-www-form-urlencoded"


def _update_refused() -> SparqlError:
    return SparqlError(400, "This endpoint answers queries only: SPARQL Update is not accepted.")


PATH = "/sparql"
_METHODS = ("GET", "HEAD", "POST")  # HEAD reaches the endpoint as GET (the app's HEAD layer)


async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI endpoint of /sparql: the answer, or the refusal as problem details."""
    request = Request(scope, receive)
    try:
        if scope["method"] not in _METHODS:
            raise ProblemError(405, f"{scope['method']} is not allowed at {PATH}; use GET or POST.",
                               headers={"Allow": ", ".join(_METHODS)})
        response = await sparql(request)
    except ProblemError as error:
        response = problem_response(request, error.status, error.detail, error.headers, **error.extensions)
    except Exception:
        response = unexpected_response(request)
    await response(scope, receive, send)


async def sparql(request: Request) -> Response:
    """GET `?query=…` runs a query; with no query, the Service Description (or, for a browser, the query page).
    POST: a query as `application/sparql-query`, or as the `query` field of an HTML form."""
    state = request.app.state
    if request.method == "POST":
        return await _post(request, state.service, state.settings, state.metrics)
    params = request.query_params
    if "update" in params:
        raise _update_refused()
    queries = params.getlist("query")
    if not queries:
        return _describe(request, state.store, state.settings)
    return await answer_query(request, state.service, state.metrics, _query_request(request, queries, params))


async def _post(request: Request, service: SparqlService, settings: Settings, metrics: Metrics) -> Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/sparql-update":
        raise _update_refused()
    if content_type not in (_FORM, "application/sparql-query"):
        said = f"The body is {content_type[:60]}" if content_type else "The request has no Content-Type"
        raise SparqlError(
            415, f"{said}: send the query as application/sparql-query (Content-Type: application/sparql-query), "
            "or as the query field of application/x-www-form-urlencoded.",
        )
    # URL-encoding may triple a query's length; anything beyond that is not a query we accept.
    body = _decode(await _read_body(request, 3 * settings.max_query_bytes + 4096))
    if content_type == "application/sparql-query":
        return await answer_query(request, service, metrics, _query_request(request, [body], request.query_params))
    form = parse_qs(body, keep_blank_values=True)
    if "update" in form:
        raise _update_refused()
    fields = _Fields(form, request.query_params)
    return await answer_query(request, service, metrics, _query_request(request, form.get("query", []), fields))


class _Fields:
    """Form fields first, then URL parameters, as one parameter source."""

    def __init__(self, form: dict[str, list[str]], params: QueryParams):
        self._form, self._params = form, params

    def getlist(self, name: str) -> list[str]:
        return self._form.get(name) or self._params.getlist(name)

    def get(self, name: str) -> str | None:
        values = self.getlist(name)
        return values[0] if values else None


def _query_request(request: Request, queries: list[str], params: "QueryParams | _Fields") -> QueryRequest:
    if len(queries) != 1:
        raise SparqlError(400, "Give exactly one query.")
    return QueryRequest(
        query=queries[0],
        default_graphs=tuple(params.getlist("default-graph-uri")) or None,
        named_graphs=tuple(params.getlist("named-graph-uri")) or None,
        accept=request.headers.get("accept"),
        format=params.get("format"),
        timeout=params.get("timeout"),
    )


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise SparqlError(413, f"The request body is larger than {limit} bytes.")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise SparqlError(413, f"The request body is larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SparqlError(400, f"The request body is not valid UTF-8 (byte {error.start}).") from None


async def answer_query(request: Request, service: SparqlService, metrics: Metrics, query: QueryRequest) -> Response:
    """Plan and run a query, answering 304 when the client's copy is current; the answer streams if spooled."""
    plan = service.plan(query)
    info = request.app.state.store.info
    headers = {"Vary": "Accept", "Cache-Control": "no-cache", "Last-Modified": format_datetime(info.last_modified, usegmt=True)}
    if plan.etag is not None:
        headers["ETag"] = plan.etag
        if not_modified(request, plan.etag, info.last_modified, exists=False):
            return Response(status_code=304, headers=headers)
    try:
        answer = await service.execute(plan)
    except SparqlError as error:
        if isinstance(error, QueryDeadlineError):
            metrics.deadline_hits.inc()
        raise
    if answer.cached:
        metrics.cache_hits.inc()
    if plan.etag is not None and not_modified(request, plan.etag, info.last_modified):
        answer.output.discard()
        return Response(status_code=304, headers=headers)
    return _response(answer, headers)


def _response(answer: Answer, headers: dict[str, str]) -> Response:
    media_type = answer.result_format.content_type
    if answer.output.body is not None:
        return Response(answer.output.body, media_type=media_type, headers=headers)
    headers["Content-Length"] = str(answer.output.size)
    # Read in a thread per chunk (Starlette iterates a plain iterator so); the file goes when the answer is sent,
    # or when the client leaves (the background task runs either way).
    return StreamingResponse(answer.output.chunks(), media_type=media_type, headers=headers,
                             background=BackgroundTask(answer.output.discard))


def _describe(request: Request, store: GraphStore, settings: Settings) -> Response:
    endpoint = str(request.url.replace(query=""))
    chosen = pick(request)  # the service description, or the endpoint's page for a browser
    if chosen is None:
        return render(request, "sparql.html", endpoint=endpoint)
    triples = service_description(
        endpoint, store.info, federation=bool(settings.service_allowlist), dataset_description=str(request.url_for("void"))
    )
    return Response(serialise(triples, chosen), media_type=chosen.content_type, headers={"Vary": "Accept"})
