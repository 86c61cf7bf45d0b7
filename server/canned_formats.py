"""The formats a canned query answers in, and the serialisation of a page of answers.

The SPARQL result formats are written by pyoxigraph's own serialisers; `rows` is a plain
JSON form for scripts and spreadsheets (one object per row, numbers as numbers).
"""

import json
from dataclasses import dataclass
from decimal import Decimal

import pyoxigraph as ox

from server.canned_service import Page
from server.negotiation import choose

_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGERS = {_XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger")}
_DECIMALS = {_XSD + t for t in ("decimal", "double", "float")}


@dataclass(frozen=True)
class PageFormat:
    """One answer format of the canned-query API."""

    name: str
    media_type: str
    label: str
    oxigraph_format: ox.QueryResultsFormat | None = None

    @property
    def content_type(self) -> str:
        """The Content-Type header value."""
        return f"{self.media_type}; charset=utf-8"


# Order matters: the first is the default when a client accepts anything.
FORMATS: tuple[PageFormat, ...] = (
    PageFormat("rows", "application/json", "JSON rows"),
    PageFormat("json", "application/sparql-results+json", "SPARQL JSON", ox.QueryResultsFormat.JSON),
    PageFormat("csv", "text/csv", "CSV", ox.QueryResultsFormat.CSV),
    PageFormat("tsv", "text/tab-separated-values", "TSV", ox.QueryResultsFormat.TSV),
    PageFormat("xml", "application/sparql-results+xml", "SPARQL XML", ox.QueryResultsFormat.XML),
    PageFormat("html", "text/html", "HTML table"),
)
HTML = FORMATS[-1]


def negotiate(format_parameter: str | None, accept: str | None) -> PageFormat | None:
    """The format a request asks for (the `format` parameter first, then Accept), or None if none fits."""
    if format_parameter and format_parameter.strip():
        wanted = format_parameter.strip().lower()
        return next((f for f in FORMATS if wanted in (f.name, f.media_type)), None)
    media_type = choose(accept, [f.media_type for f in FORMATS])
    return next((f for f in FORMATS if f.media_type == media_type), None)


def plain_value(term: dict[str, str]) -> object:
    """A SPARQL JSON term as a plain JSON value: IRIs and texts as strings, numbers as numbers."""
    value = term["value"]
    datatype = term.get("datatype", "")
    try:
        if datatype in _INTEGERS:
            return int(value)
        if datatype in _DECIMALS:
            number = Decimal(value)
            return int(number) if number == number.to_integral_value() and datatype == _XSD + "decimal" else float(number)
    except (ValueError, ArithmeticError):
        return value
    if datatype == _XSD + "boolean":
        return value in ("true", "1")
    return f"_:{value}" if term["type"] == "bnode" else value


def rows(page: Page) -> list[dict[str, object]]:
    """The page as plain rows: one object per solution, null where a variable is unbound."""
    return [{name: plain_value(b[name]) if name in b else None for name in page.variables} for b in page.bindings]


def serialise(page: Page, page_format: PageFormat, envelope: dict[str, object]) -> bytes:
    """The page in a machine format; `envelope` adds the query's name, parameters and paging to `rows`."""
    document = page.results_json()
    if page_format.name == "rows":
        return json.dumps({**envelope, "columns": page.variables, "rows": rows(page)}, ensure_ascii=False).encode()
    if page_format.name == "json":
        return json.dumps(document, ensure_ascii=False).encode()
    if page_format.oxigraph_format is None:
        raise ValueError(f"{page_format.name} is not a machine format")
    results = ox.parse_query_results(json.dumps(document).encode(), format=ox.QueryResultsFormat.JSON)
    return results.serialize(format=page_format.oxigraph_format)
