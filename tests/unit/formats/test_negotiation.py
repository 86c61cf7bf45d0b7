"""Content negotiation, as one table: the `format` parameter, then Accept with q-values, then the offer's rule."""

import pytest

from server.formats.negotiation import FormatError, accepts_html, choose
from server.formats.registry import (
    ASK_ANSWER,
    CANNED_PAGE,
    CATALOGUE,
    GRAPH_ANSWER,
    REPORT,
    RESOURCE,
    RESOURCE_WITHOUT_PAGE,
    SELECT_ANSWER,
    Offer,
)

OFFERED = ["application/sparql-results+json", "text/csv", "text/html"]


@pytest.mark.parametrize(("accept", "chosen"), [
    (None, "application/sparql-results+json"),                      # nothing said: the server's first
    ("", "application/sparql-results+json"),
    ("   ", "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("text/csv", "text/csv"),
    ("TEXT/CSV", "text/csv"),                                       # media types are case-insensitive
    ("text/*", "text/csv"),                                         # ties: the server's order
    ("text/html, text/csv;q=0.9", "text/html"),
    ("text/csv;q=0.5, text/html;q=0.6", "text/html"),
    ("text/*;q=0.1, text/html;q=0", "text/csv"),                    # q=0 refuses, even under a wider range
    ("text/html;q=0, */*;q=0.2", "application/sparql-results+json"),
    ("text/csv;q=abc", None),                                       # an unreadable q counts as 0
    ("text/csv;q=7", "text/csv"),                                   # q above 1 counts as 1
    ("image/png", None),
    ("image/*", None),
    ("*/*;q=0", None),
    ("not a media type, text/csv", "text/csv"),                     # malformed entries are skipped
    ("garbage", "application/sparql-results+json"),                 # nothing readable: as if absent
    (",".join(["image/png"] * 100) + ",text/csv", None),            # a hostile header: only 64 entries are read
])
def test_choose(accept: str | None, chosen: str | None) -> None:
    assert choose(accept, OFFERED) == chosen


@pytest.mark.parametrize(("accept", "html"), [
    ("text/html", True), ("text/html,application/xhtml+xml,*/*;q=0.8", True), ("*/*", False),
    ("text/*", False), ("text/html;q=0", False), (None, False), ("application/json", False),
])
def test_accepts_html_only_when_named(accept: str | None, html: bool) -> None:
    assert accepts_html(accept) is html


@pytest.mark.parametrize(("offer", "format_parameter", "accept", "name"), [
    # The format parameter wins over Accept, by name, alias or media type.
    (SELECT_ANSWER, "csv", "application/sparql-results+json", "csv"),
    (SELECT_ANSWER, " CSV ", None, "csv"),
    (SELECT_ANSWER, "srj", None, "json"),
    (SELECT_ANSWER, "application/sparql-results+xml", None, "xml"),
    (GRAPH_ANSWER, "ttl", None, "turtle"),
    (GRAPH_ANSWER, "nt", None, "ntriples"),
    (GRAPH_ANSWER, "json-ld", None, "jsonld"),
    (GRAPH_ANSWER, "rdf", None, "rdfxml"),
    (SELECT_ANSWER, "", "text/csv", "csv"),                          # an empty parameter is no parameter
    # Accept.
    (SELECT_ANSWER, None, None, "json"),
    (SELECT_ANSWER, None, "text/tab-separated-values", "tsv"),
    (ASK_ANSWER, None, "application/sparql-results+xml", "xml"),
    (GRAPH_ANSWER, None, "application/ld+json", "jsonld"),
    # A browser sent to /sparql sees the answer: the default format, not a 406.
    (SELECT_ANSWER, None, "text/html,application/xhtml+xml", "json"),
    (GRAPH_ANSWER, None, "text/html", "turtle"),
    # A published resource: the page for a browser, Turtle for a client that accepts anything.
    (RESOURCE, None, "text/html,*/*;q=0.8", "html"),
    (RESOURCE, None, "*/*", "turtle"),
    (RESOURCE, "html", None, "html"),
    (CANNED_PAGE, None, None, "rows"),
    (CANNED_PAGE, "json", None, "json"),
    (CANNED_PAGE, None, "application/sparql-results+json", "json"),
    (CATALOGUE, None, "text/html", "html"),
    (CATALOGUE, None, "*/*", "json"),
    # A report: JSON when nothing offered fits.
    (REPORT, None, "image/png", "json"),
    (REPORT, None, "text/turtle", "turtle"),
])
def test_an_offer_negotiates(offer: Offer, format_parameter: str | None, accept: str | None, name: str) -> None:
    assert offer.negotiate(format_parameter, accept).name == name


@pytest.mark.parametrize(("offer", "format_parameter", "accept", "status", "message"), [
    (SELECT_ANSWER, "turtle", None, 400, "Unknown format 'turtle' for this query; use one of: json, xml, csv, tsv."),
    (ASK_ANSWER, "csv", None, 400, "Unknown format 'csv' for this query; use one of: json, xml."),
    (SELECT_ANSWER, None, "image/png", 406, "None of the accepted media types is available for this query; available: "
     "application/sparql-results+json, application/sparql-results+xml, text/csv, text/tab-separated-values."),
    (RESOURCE_WITHOUT_PAGE, "html", None, 400, "Unknown format 'html'; use one of: turtle, ntriples, jsonld, rdfxml."),
    (RESOURCE_WITHOUT_PAGE, None, "text/html", 406, "None of the accepted media types is available; available: "
     "text/turtle, application/n-triples, application/ld+json, application/rdf+xml."),
    (CATALOGUE, "pdf", None, 400, "Unknown format 'pdf'; use one of: json, html."),
    (REPORT, "pdf", None, 400, "Unknown format 'pdf'; use one of: json, turtle, html."),
    # A hostile parameter is quoted short.
    (CANNED_PAGE, "x" * 1000, None, 400, f"Unknown format {'x' * 40!r}; use one of: rows, json, csv, tsv, xml, html."),
])
def test_an_offer_refuses(offer: Offer, format_parameter: str | None, accept: str | None, status: int, message: str) -> None:
    with pytest.raises(FormatError) as refused:
        offer.negotiate(format_parameter, accept)
    assert (refused.value.status, refused.value.detail) == (status, message)
