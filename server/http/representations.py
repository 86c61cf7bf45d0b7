"""Choosing and answering with one representation of a published RDF resource.

Every resource the server publishes (an entity, the vocabulary, the shapes, the dataset's
description, the service description) is negotiated the same way: the `format` parameter
when given, else the Accept header; an HTML page only for a client that asks for HTML
(a browser), Turtle for one that accepts anything.
"""


from fastapi import Request
from fastapi.responses import Response

from server.formats.registry import GRAPH_FORMATS, HTML, RESOURCE, RESOURCE_WITHOUT_PAGE, Format


def pick(request: Request, html: bool = True) -> Format | None:
    """The graph format a request asks for, or None for the HTML page; raises FormatError (400, 406)."""
    offer = RESOURCE if html else RESOURCE_WITHOUT_PAGE
    chosen = offer.negotiate(request.query_params.get("format"), request.headers.get("accept"))
    return None if chosen is HTML else chosen


def alternates(path: str, html: bool = True) -> str:
    """A Link header naming each representation of the resource at path by its `format` URL."""
    links = [f'<{path}?format={f.name}>; rel="alternate"; type="{f.media_type}"' for f in GRAPH_FORMATS]
    if html:
        links.append(f'<{path}?format=html>; rel="alternate"; type="{HTML.media_type}"')
    return ", ".join(links)


def rdf_response(body: bytes, result_format: Format, headers: dict[str, str]) -> Response:
    """An RDF document in its format, with the given headers."""
    return Response(body, media_type=result_format.content_type, headers=headers)
