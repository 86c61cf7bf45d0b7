"""The dataset's own description (VoID and DCAT), its dumps, and its named graphs' IRIs.

/.well-known/void (RFC 8615, as the VoID recommendation suggests) and the dataset's IRI
(/dataset) answer the same description, negotiated like every resource. Dumps are files
written once per version of the data, served with ETag and Last-Modified; a named graph's
IRI (/graph/…) answers its Turtle dump.
"""

from typing import Annotated

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from server.formats.registry import IATI
from server.http.conditional import etag, validators
from server.http.deps import DatasetDep, DumpsDep, EntitiesDep, StoreDep
from server.http.errors import problem_response
from server.http.pages import render
from server.http.representations import alternates, pick, rdf_response
from server.linked_data.dataset_description import DATASET_IRI, VOID, DatasetDescriber
from server.linked_data.dump_service import DumpService
from server.namespaces import GRAPH, shorten
from server.rdf.documents import serialise
from server.store.dumps import graph_file
from server.store.embedded import GraphStore

router = APIRouter(tags=["Linked data"])


@router.get("/.well-known/void", summary="The dataset's description: VoID and DCAT, computed from the store")
async def void(request: Request, describer: DatasetDep, store: StoreDep, dumps: DumpsDep) -> Response:
    """Title, licence, publisher, sources, endpoint, dumps, vocabularies, counts, partitions and linksets."""
    return await _description(request, describer, store, dumps)


@router.get("/dataset", summary="The dataset's IRI: the same description as /.well-known/void")
async def dataset(request: Request, describer: DatasetDep, store: StoreDep, dumps: DumpsDep) -> Response:
    """The dataset's description, at the dataset's own IRI."""
    return await _description(request, describer, store, dumps)


async def _description(request: Request, describer: DatasetDescriber, store: GraphStore, dumps: DumpService) -> Response:
    chosen = pick(request)
    info = store.info
    site = _site(request)
    headers, current = validators(request, etag(info.version, site, chosen.name if chosen else "html"), info.last_modified)
    headers["Link"] = alternates(request.url.path)
    if current:
        return Response(status_code=304, headers=headers)
    linksets = await describer.linksets()
    triples = await describer.describe(site, info, dumps.files(), linksets)
    if chosen is None:
        return render(request, "dataset.html", headers=headers, figures=_figures(triples), dumps=dumps.files(),
                      linksets=linksets, iri=DATASET_IRI, shorten=shorten)
    ntriples = b"".join(f"{t} .\n".encode() for t in triples)
    return rdf_response(serialise(ntriples, chosen, str(request.url_for("context"))), chosen, headers)


@router.get("/dumps", summary="The list of dump files; with format=iati, every project as IATI activity XML",
            responses={200: {"description": "The list (a page), or the projects as IATI activity XML (format=iati).",
                              "content": {"text/html": {}, "application/xml": {}}},
                       304: {"description": "The client's copy is current."},
                       400: {"description": "An unknown format."},
                       404: {"description": "format=iati: no project makes a valid IATI activity (the reasons say why)."}})
async def dump_list(
    request: Request, dumps: DumpsDep, entities: EntitiesDep, store: StoreDep,
    format: Annotated[str | None, Query(description="iati: the projects with IATI data as one IATI 2.03 activity file.")] = None,
) -> Response:
    """A page listing the dump files of the current data; or (format=iati) every project with an IATI identifier whose
    data makes a valid activity, as one IATI activity file (those left out, and why, in the header Omitted-Projects)."""
    if format is None or format == "html":
        return render(request, "dumps.html", dumps=dumps.files())
    if format != "iati":
        return problem_response(request, 400, f"Unknown format {format[:40]!r} for /dumps; use html or iati.")
    headers, current = validators(request, etag(store.info.version, "iati"), store.info.last_modified)
    if current:
        return Response(status_code=304, headers=headers)
    document, refused = await entities.iati_all()
    omitted = {"Omitted-Projects": str(len(refused))}
    if document is None:
        return problem_response(request, 404, _no_iati_file(refused), omitted)
    headers |= omitted
    headers["Content-Disposition"] = 'attachment; filename="iati-activities.xml"'
    return Response(document, media_type=IATI.content_type, headers=headers)


def _no_iati_file(refused: list[tuple[str, list[str]]]) -> str:
    if not refused:
        return ("No project of the graph has an IATI identifier (ilop:iatiIdentifier), so there is no IATI activity file "
                "to give. Projects imported from IATI activity files (ilo-kg import iati, POST /submissions) have one.")
    first, reasons = refused[0]
    return (f"None of the {len(refused)} projects with an IATI identifier makes a valid IATI activity, so there is no IATI "
            f"activity file to give. <{first}>: {'; '.join(reasons)}.")


@router.get("/dumps/{name:path}", summary="One dump file", responses={404: {"description": "No such dump file."}})
async def dump_file(name: str, request: Request, dumps: DumpsDep, store: StoreDep) -> Response:
    """A dump file (written on first request for each version of the data), with ETag and Last-Modified."""
    return await _file(request, dumps, store, name)


@router.get("/graph/{path:path}", summary="A named graph: its Turtle dump", responses={404: {"description": "No such graph."}})
async def graph(path: str, request: Request, dumps: DumpsDep, store: StoreDep) -> Response:
    """The triples of one named graph (one source file or submission), in Turtle."""
    name = graph_file(str(GRAPH) + path)
    missing = f"The store has no graph <{GRAPH}{path[:200]}>"
    return await _file(request, dumps, store, name or "", missing)


async def _file(request: Request, dumps: DumpService, store: GraphStore, name: str, missing: str = "") -> Response:
    info = store.info
    known = {f.name: f for f in dumps.files()}
    if name not in known:
        return problem_response(
            request, 404, f"{missing or f'There is no dump file {name[:200]!r}'}; the list is at /dumps and in the "
            "dataset's description (/.well-known/void).")
    headers, current = validators(request, etag(info.version, name), info.last_modified)
    del headers["Vary"]
    if current:
        return Response(status_code=304, headers=headers)
    path = await dumps.path(name)
    assert path is not None  # (known above)
    dump = known[name]
    media_type = "application/gzip" if dump.encoding == "gzip" else f"{dump.media_type}; charset=utf-8"
    headers["Content-Disposition"] = f'attachment; filename="{name.rsplit("/", 1)[-1]}"'
    return FileResponse(path, media_type=media_type, headers=headers)


def _site(request: Request) -> str:
    """This server's root URL (as the client reached it), with a trailing slash."""
    return str(request.base_url).rstrip("/") + "/"


# The dataset's VoID counts in words, in the order the page shows them.
_FIGURE_NAMES = {
    "triples": "Statements (triples)", "entities": "Things described (entities with a type)",
    "distinctSubjects": "Distinct subjects", "distinctObjects": "Distinct objects",
    "properties": "Properties used", "classes": "Classes used",
}


def _figures(triples: list[ox.Triple]) -> dict[str, str]:
    """The dataset's own counts from its description, named in words (the VoID property in brackets)."""
    counts = {}
    for t in triples:
        if t.subject.value == DATASET_IRI and t.predicate.value.startswith(VOID) and isinstance(t.object, ox.Literal):
            if t.object.datatype.value.endswith("#integer"):
                counts[t.predicate.value.removeprefix(VOID)] = f"{int(t.object.value):,}"
    named = {f"{words} (void:{name})": counts.pop(name) for name, words in _FIGURE_NAMES.items() if name in counts}
    return {**named, **{f"void:{name}": value for name, value in counts.items()}}
