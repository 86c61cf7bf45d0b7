"""The OpenAPI description of each canned query: its typed parameters, examples and answer formats."""

from typing import Any

from server.canned.catalogue import CannedQuery, Parameter
from server.canned.parameters import expected
from server.canned.service import MAX_OFFSET
from server.formats.registry import CANNED_PAGE

_INTEGER_BOUND = 10**18 - 1
_SCHEMAS: dict[str, dict[str, Any]] = {
    "iri": {"type": "string", "format": "iri-reference", "maxLength": 2000},
    "string": {"type": "string", "minLength": 1, "maxLength": 1000},
    "text": {"type": "string", "pattern": r"^.{1,1000}@[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$"},
    "date": {"type": "string", "format": "date"},
    "year": {"type": "integer", "minimum": 1000, "maximum": 9999},
    "integer": {"type": "integer", "minimum": -_INTEGER_BOUND, "maximum": _INTEGER_BOUND},
    "decimal": {"type": "string", "pattern": r"^[+-]?(\d{1,18}(\.\d{0,12})?|\.\d{1,12})$"},
    "country": {"type": "string", "pattern": r"^([A-Za-z]{2,3}|\d{1,3})$"},
}
_ROWS_SCHEMA = {
    "type": "object",
    "properties": {
        "query": {"type": "string"}, "title": {"type": "string"},
        "parameters": {"type": "object", "additionalProperties": {"type": "string"}},
        "columns": {"type": "array", "items": {"type": "string"}},
        "rows": {"type": "array", "items": {"type": "object"}},
        "limit": {"type": "integer"}, "offset": {"type": "integer"},
        "next": {"type": ["string", "null"], "description": "The URL of the next page, or null on the last."},
    },
    "required": ["query", "columns", "rows", "limit", "offset", "next"],
}


def _schema(parameter: Parameter) -> dict[str, Any]:
    schema = dict(_SCHEMAS.get(parameter.type, {"type": "string"}))
    if parameter.type == "enum":
        schema = {"type": "string", "enum": list(parameter.values or ())}
    if parameter.default is not None:
        schema["default"] = int(parameter.default) if schema["type"] == "integer" else parameter.default
    return schema


def _example(parameter: Parameter, schema: dict[str, Any]) -> object:
    return int(parameter.example) if schema["type"] == "integer" else parameter.example


def operation_extra(query: CannedQuery, max_page_size: int) -> dict[str, Any]:
    """What the OpenAPI document says of one canned query, beyond its summary and description."""
    parameters = []
    for parameter in query.parameters:
        schema = _schema(parameter)
        parameters.append({
            "name": parameter.name, "in": "query", "required": parameter.required,
            "description": f"{parameter.description} Expected: {expected(parameter)}.",
            "schema": schema, "example": _example(parameter, schema),
        })
    parameters += [
        {"name": "limit", "in": "query", "required": False, "description": "Rows per page.",
         "schema": {"type": "integer", "minimum": 1, "maximum": max_page_size}},
        {"name": "offset", "in": "query", "required": False, "description": "Rows to skip (paging); see the next link.",
         "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}},
        {"name": "format", "in": "query", "required": False,
         "description": "The answer format, overriding the Accept header.",
         "schema": {"type": "string", "enum": [f.name for f in CANNED_PAGE.formats]}},
    ]
    content: dict[str, Any] = {}
    for page_format in CANNED_PAGE.formats:
        if page_format.name == "rows":
            content[page_format.media_type] = {"schema": _ROWS_SCHEMA}
        elif page_format.name == "json":
            content[page_format.media_type] = {"schema": {"type": "object"}}
        else:
            content[page_format.media_type] = {"schema": {"type": "string"}}
    return {
        "parameters": parameters,
        "responses": {
            "200": {"description": "One page of the answer; a Link header with rel=next points to the next page.",
                    "content": content},
            "400": {"description": "An unknown format."},
            "406": {"description": "None of the accepted media types is available."},
            "422": {"description": "A parameter has a value of the wrong type, or a required one is missing "
                    "(the message names the parameter and what it takes); or the query was stopped at its deadline."},
        },
    }
