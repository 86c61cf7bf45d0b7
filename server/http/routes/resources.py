"""The IRIs the project mints, resolved here: entities and codelist concepts, by content negotiation.

Convention (one, everywhere): direct content negotiation. A GET on an IRI's path answers
200 with the representation the client asks for (`format` parameter first, then Accept),
`Vary: Accept`, and a `Link` header naming every representation by its own URL; there are
no 303 redirects. Browsers get a page, RDF tools Turtle, JSON-LD (with the context published
at /context.jsonld), N-Triples or RDF/XML. An IRI the graph does not mention gets 404 with
the described IRIs of the same kind.
"""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from server.exchange.iati_writing import NotWritableError
from server.formats.registry import IATI
from server.http.conditional import etag, not_modified, validators
from server.http.deps import EntitiesDep, StoreDep, VocabulariesDep
from server.http.errors import problem_response
from server.http.pages import render, site_root
from server.http.representations import alternates, pick, rdf_response
from server.http.routes import explore
from server.linked_data.entities import EntityService, group_by_predicate
from server.linked_data.vocabulary_docs import VocabularyDoc
from server.rdf.documents import CONTEXT_PATH, jsonld_context, serialise

router = APIRouter(tags=["Linked data"])

_RESOURCE_RESPONSES = {
    200: {"description": "The resource, as a page or in an RDF format (`format` parameter, else Accept)."},
    304: {"description": "The client's copy is current."},
    404: {"description": "The graph does not mention this IRI."},
    406: {"description": "None of the accepted media types is available."},
}


@router.get(f"/{CONTEXT_PATH}", summary="The JSON-LD context of every JSON-LD document the server publishes")
async def context() -> JSONResponse:
    """The prefixes of the project's namespaces, as a JSON-LD context."""
    return JSONResponse({"@context": jsonld_context()}, media_type="application/ld+json")


@router.get("/id/{path:path}", summary="An entity of the graph (a partner, project, country…)", responses=_RESOURCE_RESPONSES)
async def entity(path: str, request: Request, entities: EntitiesDep, store: StoreDep) -> Response:
    """The description of one entity: what it is, its properties, what points at it, where each fact comes from."""
    return await _resource(request, entities, store)


@router.get("/codelist/{path:path}", summary="A codelist or one of its concepts", responses=_RESOURCE_RESPONSES)
async def codelist(path: str, request: Request, entities: EntitiesDep, store: StoreDep) -> Response:
    """The description of a concept scheme or concept (themes, roles, statuses…)."""
    return await _resource(request, entities, store)


@router.get("/ontology", summary="The vocabulary: its documentation, or its Turtle, JSON-LD… source",
            responses=_RESOURCE_RESPONSES)
async def ontology(request: Request, vocabularies: VocabulariesDep, entities: EntitiesDep) -> Response:
    """The ontology's documentation (each term's IRI lands on its section) or its triples."""
    return _vocabulary(request, vocabularies.get("ontology"), entities)


@router.get("/shapes", summary="The SHACL shapes: their documentation, or their Turtle, JSON-LD… source",
            responses=_RESOURCE_RESPONSES)
async def shapes(request: Request, vocabularies: VocabulariesDep, entities: EntitiesDep) -> Response:
    """The shapes data must conform to, documented (each shape's IRI lands on its section), or their triples."""
    return _vocabulary(request, vocabularies.get("shapes"), entities)


def _vocabulary(request: Request, doc: VocabularyDoc | None, entities: EntityService) -> Response:
    if doc is None:
        return problem_response(
            request, 404, f"This server was started without the files of {request.url.path}; see the project's repository."
        )
    chosen = pick(request)
    name = "html" if chosen is None else chosen.name
    headers, current = validators(request, etag(doc.turtle, name), None)
    headers["Link"] = alternates(request.url.path)
    if current:
        return Response(status_code=304, headers=headers)
    if chosen is None:
        return render(request, "vocabulary.html", doc=doc, headers=headers, local=entities.local_path)
    if chosen.name == "turtle":
        # The source itself, comments included.
        return rdf_response(doc.turtle, chosen, headers)
    ntriples = doc.graph.serialize(format="nt", encoding="utf-8")
    return rdf_response(serialise(ntriples, chosen, str(request.url_for("context"))), chosen, headers)


async def _resource(request: Request, entities: EntityService, store: StoreDep) -> Response:
    # The path as the client sent it, percent-encoding included: that is the IRI's own form.
    raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    iri = entities.iri_for_path(raw_path)
    chosen = pick(request)
    if iri is None:
        return problem_response(request, 404, f"{raw_path[:200]} is not a valid IRI path.")
    info = store.info
    name = "html" if chosen is None else chosen.name
    tag = etag(info.version, iri, name)
    headers, current = validators(request, tag, info.last_modified, exists=False)
    headers["Link"] = alternates(request.url.path)
    if current:
        return Response(status_code=304, headers=headers)
    if chosen is None:
        view = await entities.view(iri)
        if view is None:
            return await _not_found(request, entities, iri)
        if not_modified(request, tag, info.last_modified):
            return Response(status_code=304, headers=headers)
        pictures = explore.entity_pictures(
            view, site_root(request), request.app.state.settings, request.app.state.canned.max_page_size)
        return render(
            request, "entity.html", view=view, facts=group_by_predicate(view.facts),
            incoming=group_by_predicate(view.incoming), headers=headers, local=entities.local_path, pictures=pictures,
        )
    if chosen is IATI:
        return await _iati(request, entities, iri, headers)
    ntriples = await entities.triples(iri)
    if ntriples is None:
        return problem_response(request, 404, _unknown(iri), {"Vary": "Accept"})
    if not_modified(request, tag, info.last_modified):
        return Response(status_code=304, headers=headers)
    context_url = str(request.url_for("context"))
    return rdf_response(serialise(ntriples, chosen, context_url), chosen, headers)


async def _iati(request: Request, entities: EntityService, iri: str, headers: dict[str, str]) -> Response:
    try:
        document = await entities.iati(iri)
    except NotWritableError as error:
        return problem_response(
            request, 406, f"<{iri}> cannot be written as an IATI activity: {'; '.join(error.reasons)}.", {"Vary": "Accept"},
        )
    if document is None:
        return problem_response(request, 404, _unknown(iri), {"Vary": "Accept"})
    return Response(document, media_type=IATI.content_type, headers=headers)


async def _not_found(request: Request, entities: EntityService, iri: str) -> Response:
    suggestions = await entities.suggestions(iri)
    return render(
        request, "not_found.html", status_code=404, iri=iri, message=_unknown(iri), suggestions=suggestions,
        local=entities.local_path,
    )


def _unknown(iri: str) -> str:
    return (
        f"The graph says nothing about <{iri}>. Check the spelling, or find what you are looking for "
        "with the search query (/queries/search) or the SPARQL endpoint (/sparql)."
    )
