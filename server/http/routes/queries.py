"""/queries: the canned-query catalogue, one typed API operation and one form page per query."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from server.canned.catalogue import CannedQuery
from server.canned.formats import document
from server.canned.parameters import ParameterError, expected
from server.canned.service import CannedQueryService, Page, Rendered
from server.formats.registry import CANNED_PAGE, CATALOGUE, HTML, Format
from server.http.deps import CannedDep
from server.http.errors import problem_response
from server.http.forms import field
from server.http.openapi_queries import operation_extra
from server.http.pages import render
from server.linked_data.entities import EntityService
from server.linked_data.page_model import Term
from server.namespaces import shorten


def build_router(catalogue: dict[str, CannedQuery], max_page_size: int) -> APIRouter:
    """The routes of the catalogue: the list, each query's text, and one operation per query."""
    router = APIRouter(tags=["Canned queries"])

    @router.get("/queries", summary="List the canned queries", response_model=None)
    async def list_queries(request: Request, canned: CannedDep) -> Response:
        """The catalogue of named questions with their parameters, as JSON, or as a page for a browser."""
        chosen = CATALOGUE.negotiate(request.query_params.get("format"), request.headers.get("accept"))
        if chosen is HTML:
            return render(request, "catalogue.html", by_tag=_by_tag(canned.queries))
        return JSONResponse({"queries": [_describe(q) for q in canned.queries]})

    @router.get("/queries/{name}.rq", summary="The SPARQL text of a canned query", response_class=PlainTextResponse)
    async def query_text(name: str, canned: CannedDep) -> Response:
        """The `.rq` file as it is: valid SPARQL, its metadata in comments."""
        return Response(canned.get(name).text, media_type="application/sparql-query; charset=utf-8")

    for query in catalogue.values():
        router.add_api_route(
            f"/queries/{query.name}", _handler(query.name), methods=["GET"], summary=query.title,
            description=query.description, operation_id=query.name.replace("-", "_"), response_model=None,
            openapi_extra=operation_extra(query, max_page_size),
        )

    @router.get("/queries/{name}", include_in_schema=False)
    async def unknown_query(name: str, canned: CannedDep) -> Response:
        canned.get(name)  # raises the 404 with its message
        raise AssertionError("every known query has its own route")

    return router


def _handler(name: str) -> Callable[[Request, CannedQueryService], Awaitable[Response]]:
    async def answer(request: Request, canned: CannedDep) -> Response:
        return await _answer(request, canned, canned.get(name))

    return answer


async def _answer(request: Request, canned: CannedQueryService, query: CannedQuery) -> Response:
    params = {key: request.query_params.getlist(key) for key in request.query_params.keys()}
    page_format = CANNED_PAGE.negotiate(request.query_params.get("format"), request.headers.get("accept"))
    url = str(request.url)
    if page_format is not HTML:
        kept = canned.rendered(url, page_format.name)
        if kept is not None:
            return _document(kept, page_format)
    if page_format is HTML and not params and any(p.required and p.default is None for p in query.parameters):
        # A first visit to a form that cannot run yet: show the form, not an error.
        return await _page(request, canned, query, params, None)
    try:
        terms = await canned.resolve(query, params)
        limit, offset = canned.paging(params)
    except ParameterError as error:
        if page_format is HTML:
            return await _page(request, canned, query, params, None, error, status_code=422)
        errors = [{"loc": ["query", error.parameter], "msg": error.message, "type": "value_error"}]
        return problem_response(request, 422, error.message, errors=errors)
    if page_format is HTML:
        page = await canned.run(query, terms, limit, offset)
        return await _page(request, canned, query, params, page, next_url=_next_url(request, page.has_next, offset, limit))
    output = await canned.answer(query, terms, limit, offset, page_format)
    next_url = _next_url(request, output.more, offset, limit)
    envelope = {
        "query": query.name, "title": query.title,
        "parameters": {name: term.value for name, term in terms.items()},
        "limit": limit, "offset": offset, "next": next_url,
    }
    rendered = Rendered(document(output.read(), page_format, envelope), next_url)
    canned.keep(url, page_format.name, rendered)
    return _document(rendered, page_format)


def _next_url(request: Request, more: bool, offset: int, limit: int) -> str | None:
    return str(request.url.include_query_params(offset=offset + limit)) if more else None


def _document(rendered: Rendered, page_format: Format) -> Response:
    headers = {"Vary": "Accept"}
    if rendered.next_url:
        headers["Link"] = f'<{rendered.next_url}>; rel="next"'
    return Response(rendered.body, media_type=page_format.content_type, headers=headers)


async def _page(
    request: Request, canned: CannedQueryService, query: CannedQuery, params: dict[str, list[str]], page: Page | None,
    error: ParameterError | None = None, status_code: int = 200, next_url: str | None = None,
) -> Response:
    fields = [await field(canned, p, params, error) for p in query.parameters]
    entities: EntityService = request.app.state.entities
    general_error = error.message if error is not None and query.parameter(error.parameter) is None else None
    limit = (params.get("limit") or [""])[0] or str(canned.page_size)
    previous_url = None
    if page is not None and page.offset > 0:
        previous_url = str(request.url.include_query_params(offset=max(page.offset - page.limit, 0)))
    downloads = [
        {"label": f.label, "media_type": f.media_type, "url": str(request.url.include_query_params(format=f.name))}
        for f in CANNED_PAGE.formats if f is not HTML
    ]
    return render(
        request, "query.html", status_code=status_code, query=query, fields=fields, page=page,
        rows=_cells(page, entities) if page is not None else [], error=general_error, limit=limit,
        max_page_size=canned.max_page_size, downloads=downloads, next_url=next_url, previous_url=previous_url,
        local=entities.local_path,
    )


def _cells(page: Page, entities: EntityService) -> list[list[Term | None]]:
    """The page's rows as the terms of an entity page: our IRIs link to their pages on this server."""
    table = []
    for binding in page.bindings:
        row: list[Term | None] = []
        for name in page.variables:
            term = binding.get(name)
            if term is None:
                row.append(None)
            elif term["type"] == "uri":
                iri = term["value"]
                row.append(Term(shorten(iri).strip("<>"), iri, local=entities.local_path(iri) is not None))
            else:
                row.append(Term(term["value"]))
        table.append(row)
    return table


def _describe(query: CannedQuery) -> dict[str, Any]:
    return {
        "name": query.name, "title": query.title, "description": query.description, "tags": list(query.tags),
        "url": f"/queries/{query.name}", "sparql": f"/queries/{query.name}.rq",
        "parameters": [
            {
                "name": p.name, "type": p.type, "description": p.description, "expected": expected(p),
                "required": p.required, "default": p.default, "example": p.example,
                **({"class": p.class_} if p.class_ else {}), **({"scheme": p.scheme} if p.scheme else {}),
                **({"values": list(p.values)} if p.values else {}),
            }
            for p in query.parameters
        ],
    }


def _by_tag(queries: list[CannedQuery]) -> list[tuple[str, list[CannedQuery]]]:
    tags = sorted({q.tags[0] for q in queries})
    return [(tag, [q for q in queries if q.tags[0] == tag]) for tag in tags]

