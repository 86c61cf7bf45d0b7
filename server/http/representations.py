"""Choosing and answering with one representation of a published RDF resource.

Every resource the server publishes (an entity, the vocabulary, the shapes, the dataset's
description, the service description) is negotiated the same way: the `format` parameter
when given, else the Accept header; an HTML page only for a client that asks for HTML
(a browser), Turtle for one that accepts anything.
"""

import hashlib
import re
from datetime import UTC, datetime
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
        # If-None-Match compares weakly (RFC 9110, 8.8.3.2): W/"x" and "x" name the same content.
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return etag.removeprefix("W/") in tags or (exists and "*" in tags)
    since = http_date(request.headers.get("if-modified-since"))
    if exists and since is not None and last_modified is not None:
        return last_modified.replace(microsecond=0) <= since
    return False


def http_date(value: str | None) -> datetime | None:
    """An HTTP-date in any of its three forms (RFC 9110, 5.6.7: IMF-fixdate, and the obsolete RFC 850
    and asctime forms, which recipients must still read), in UTC; None if it is not one."""
    # Each form has at most one comma: more is a list of dates, which the field may not hold.
    if not value or value.count(",") > 1:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is None:
        match = _RFC850.match(value.strip())
        if match is None:
            return None
        day, month, year, clock = match.groups()
        # Two-digit years: the one that is not more than 50 years ahead (RFC 9110, 5.6.7).
        full = 2000 + int(year)
        if full > datetime.now(UTC).year + 50:
            full -= 100
        try:
            parsed = datetime.strptime(f"{day} {month} {full} {clock}", "%d %b %Y %H:%M:%S")
        except ValueError:
            return None
    # Every HTTP-date is in UTC; the asctime form says so by saying nothing.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


_RFC850 = re.compile(r"^[A-Za-z]+, (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}:\d{2}:\d{2}) GMT$")


def rdf_response(body: bytes, result_format: ResultFormat, headers: dict[str, str]) -> Response:
    """An RDF document in its format, with the given headers."""
    return Response(body, media_type=result_format.content_type, headers=headers)
