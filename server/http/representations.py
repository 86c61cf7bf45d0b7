"""Choosing and answering with one representation of a published RDF resource.

Every resource the server publishes (an entity, the vocabulary, the shapes, the dataset's
description, the service description) is negotiated the same way: the `format` parameter
when given, else the Accept header; an HTML page only for a client that asks for HTML
(a browser), Turtle for one that accepts anything.
"""

import hashlib
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request
from fastapi.responses import Response

from server.negotiation import choose
from server.result_formats import GRAPH_FORMATS, ResultFormat, by_parameter
from server.sparql_service import SparqlError

HTML = "text/html"


def pick(request: Request, html: bool = True) -> ResultFormat | None:
    """The graph format a request asks for, or None for the HTML page; raises SparqlError (400, 406)."""
    format_parameter = request.query_params.get("format")
    if format_parameter and format_parameter.strip():
        if html and format_parameter.strip().lower() in ("html", HTML):
            return None
        chosen = by_parameter(format_parameter, GRAPH_FORMATS)
        if chosen is None:
            names = ", ".join([*(f.name for f in GRAPH_FORMATS), *(["html"] if html else [])])
            raise SparqlError(400, f"Unknown format {format_parameter[:100]!r}; use one of: {names}.")
        return chosen
    offered = [f.media_type for f in GRAPH_FORMATS]
    # HTML second: a client that accepts anything (*/*) is more likely an RDF tool than a person.
    offered[1:1] = [HTML] if html else []
    media_type = choose(request.headers.get("accept"), offered)
    if media_type is None:
        raise SparqlError(406, f"None of the accepted media types is available; available: {', '.join(offered)}.")
    if media_type == HTML:
        return None
    return next(f for f in GRAPH_FORMATS if f.media_type == media_type)


def alternates(path: str, html: bool = True) -> str:
    """A Link header naming each representation of the resource at path by its `format` URL."""
    links = [f'<{path}?format={f.name}>; rel="alternate"; type="{f.media_type}"' for f in GRAPH_FORMATS]
    if html:
        links.append(f'<{path}?format=html>; rel="alternate"; type="{HTML}"')
    return ", ".join(links)


def etag(*parts: str | bytes) -> str:
    """A strong ETag for an answer that depends on exactly these parts (data version, IRI, format…)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\x00")
    return f'"{digest.hexdigest()[:32]}"'


def validators(
    request: Request, tag: str, last_modified: datetime | None, exists: bool = True
) -> tuple[dict[str, str], bool]:
    """Caching headers for an answer, and whether the client's copy is current (answer 304; see not_modified)."""
    headers = {"ETag": tag, "Vary": "Accept", "Cache-Control": "no-cache"}
    if last_modified is not None:
        headers["Last-Modified"] = format_datetime(last_modified, usegmt=True)
    return headers, not_modified(request, tag, last_modified, exists)


def not_modified(request: Request, etag: str, last_modified: datetime | None, exists: bool = True) -> bool:
    """Whether If-None-Match (or, without it, If-Modified-Since) says the client's copy is current.

    `If-None-Match: *` and a date match whatever representation there is, so they count only once
    the resource is known to exist (exists): a resource that does not exist, or a query that does
    not run, gets its 404 or 400 (RFC 9110, 13.1.2-13.1.3). An exact ETag names what was sent.
    """
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return etag in tags or (exists and "*" in tags)
    if_modified_since = request.headers.get("if-modified-since")
    if exists and if_modified_since and last_modified is not None:
        try:
            return last_modified.replace(microsecond=0) <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, OverflowError):
            return False
    return False


def rdf_response(body: bytes, result_format: ResultFormat, headers: dict[str, str]) -> Response:
    """An RDF document in its format, with the given headers."""
    return Response(body, media_type=result_format.content_type, headers=headers)
