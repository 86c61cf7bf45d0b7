"""The serialisation of a page of canned-query answers (the formats are the registry's CANNED_PAGE offer).

The SPARQL result formats are written by pyoxigraph's own serialisers; `rows` is a plain
JSON form for scripts and spreadsheets (one object per row, numbers as numbers).
"""

import json
from decimal import Decimal

import pyoxigraph as ox

from server.canned.service import Page
from server.formats.registry import Format
from server.namespaces import XSD

_INTEGERS = {XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger")}
_DECIMALS = {XSD + t for t in ("decimal", "double", "float")}


def plain_value(term: dict[str, str]) -> object:
    """A SPARQL JSON term as a plain JSON value: IRIs and texts as strings, numbers as numbers."""
    value = term["value"]
    datatype = term.get("datatype", "")
    try:
        if datatype in _INTEGERS:
            return int(value)
        if datatype in _DECIMALS:
            number = Decimal(value)
            return int(number) if number == number.to_integral_value() and datatype == XSD + "decimal" else float(number)
    except (ValueError, ArithmeticError):
        return value
    if datatype == XSD + "boolean":
        return value in ("true", "1")
    return f"_:{value}" if term["type"] == "bnode" else value


def rows(page: Page) -> list[dict[str, object]]:
    """The page as plain rows: one object per solution, null where a variable is unbound."""
    return [{name: plain_value(b[name]) if name in b else None for name in page.variables} for b in page.bindings]


def serialise(page: Page, page_format: Format, envelope: dict[str, object]) -> bytes:
    """The page in a machine format; `envelope` adds the query's name, parameters and paging to `rows`."""
    document = page.results_json()
    if page_format.name == "rows":
        return json.dumps({**envelope, "columns": page.variables, "rows": rows(page)}, ensure_ascii=False).encode()
    if page_format.name == "json":
        return json.dumps(document, ensure_ascii=False).encode()
    if page_format.oxigraph is None:
        raise ValueError(f"{page_format.name} is not a machine format")
    results = ox.parse_query_results(json.dumps(document).encode(), format=ox.QueryResultsFormat.JSON)
    return results.serialize(format=page_format.oxigraph)
