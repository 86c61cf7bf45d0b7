"""The OpenAPI document, completed with every answer an operation can give.

FastAPI documents the answers a handler declares; the refusals that come from elsewhere (the
body limit, the token check, negotiation, deadlines, the router's 404) and the non-JSON
formats of negotiated answers are added here, so that clients generated from the document,
and the fuzzer that checks answers against it (schemathesis), meet no undocumented answer.
"""

import copy
from typing import Any

from server.formats.registry import CATALOGUE, GRAPH_FORMATS, REPORT, RESOURCE, SELECT_ANSWER, Offer
from server.problems import PROBLEM_JSON
from server.rdf.syntaxes import SYNTAXES

_REFUSALS = {
    "400": "The request is malformed: a syntax error, an unknown format, a bad parameter (the message says which).",
    "401": "A token is needed, or the one sent is not valid.",
    "403": "The token does not allow this.",
    "404": "There is nothing at this address.",
    "405": "This method is not allowed here.",
    "406": "None of the accepted media types is available.",
    "409": "The same content was already submitted by someone else.",
    "410": "The submission was withdrawn.",
    "412": "If-Match names a version that is no longer the current one; read it again.",
    "413": "The request, the query or the file is too large.",
    "415": "The body's media type is not one this operation reads.",
    "422": "The request is well-formed but cannot be processed: a parameter or file that breaks a rule, or a query "
           "stopped at its deadline.",
    "429": "Too many requests; Retry-After says when to try again.",
    "503": "The server is busy (queues full); Retry-After says when to try again.",
}
_PROBLEM_SCHEMA = {
    "type": "object", "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong and what to do, for a person."},
        "instance": {"type": "string"},
        "errors": {"type": "array", "description": "For parameters of the wrong type: each parameter and its problem."},
        "line": {"type": ["integer", "null"]}, "column": {"type": ["integer", "null"]},
    },
}
_GRAPHS = tuple(f.media_type for f in GRAPH_FORMATS)


def _types(offer: Offer) -> tuple[str, ...]:
    return tuple(f.media_type for f in offer.formats)


_RESOURCE = _types(RESOURCE)
# The formats a successful answer of each path may take (negotiated by Accept or `format`),
# where FastAPI's default (JSON) is not the whole story. Canned queries document their own.
_ANSWER_TYPES: dict[str, tuple[str, ...]] = {
    "/sparql": (*_types(SELECT_ANSWER), *_RESOURCE),
    "/id/{path}": _RESOURCE, "/codelist/{path}": _RESOURCE, "/ontology": _RESOURCE, "/shapes": _RESOURCE,
    "/.well-known/void": _RESOURCE, "/dataset": _RESOURCE,
    "/graph/{path}": ("text/turtle",), "/dumps/{name}": ("application/gzip", "text/turtle"),
    "/context.jsonld": ("application/ld+json",), "/metrics": ("text/plain",),
    "/queries/{name}.rq": ("application/sparql-query",), "/queries": _types(CATALOGUE),
    "/validate": _types(REPORT),
    "/submissions/{submission_id}/report": _types(REPORT),
    "/submissions/{submission_id}/content": _GRAPHS,
    "/submissions/{submission_id}/original": tuple(t for s in SYNTAXES for t in s.media_types),
}


def _protocol_parameter(name: str, description: str, repeated: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": {"type": "string"}} if repeated else {"type": "string"}
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema,
            **({"style": "form", "explode": True} if repeated else {})}


_DATASET = [
    _protocol_parameter("default-graph-uri", "A stored named graph to read as the default graph (repeatable).", True),
    _protocol_parameter("named-graph-uri", "A stored named graph to offer to GRAPH (repeatable).", True),
]
_ANSWER_CHOICE = [
    _protocol_parameter("format", "The answer's format by name (json, xml, csv, tsv, turtle, …), instead of Accept."),
    _protocol_parameter("timeout", "Seconds the query may run, at most the server's own deadline."),
]
# /sparql is a plain route (see routes/sparql.py), so FastAPI does not describe it: it is described here.
_SPARQL_PATH = {
    "get": {
        "tags": ["SPARQL"], "summary": "Run a SPARQL query, or describe the service", "operationId": "sparql_get",
        "description": "`?query=…` runs a query (SPARQL 1.1 Protocol); with no query, the Service Description (or, "
                       "for a browser, the query page).",
        "parameters": [_protocol_parameter("query", "The SPARQL query (SELECT, ASK, CONSTRUCT or DESCRIBE)."),
                       *_DATASET, *_ANSWER_CHOICE],
        "responses": {"200": {"description": "The answer, in the negotiated format."}},
    },
    "post": {
        "tags": ["SPARQL"], "summary": "Run a SPARQL query sent in the body", "operationId": "sparql_post",
        "description": "A query as `application/sparql-query`, or as the `query` field of an HTML form.",
        "parameters": [*_DATASET, *_ANSWER_CHOICE],
        "requestBody": {"required": True, "content": {
            "application/sparql-query": {"schema": {"type": "string"}},
            "application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["query"],
                "properties": {"query": {"type": "string"}, "default-graph-uri": {"type": "string"},
                               "named-graph-uri": {"type": "string"}, "format": {"type": "string"},
                               "timeout": {"type": "string"}},
            }},
        }},
        "responses": {"200": {"description": "The answer, in the negotiated format."}},
    },
}


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the refusals and the negotiated formats to every operation of an OpenAPI document (in place)."""
    schema["paths"] = {"/sparql": copy.deepcopy(_SPARQL_PATH), **schema.get("paths", {})}
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, response in responses.items():
                if status.startswith("2") and status != "204":
                    content = response.setdefault("content", {})
                    if set(content) <= {"application/json"}:
                        # FastAPI's default JSON entry says nothing of the path's real formats.
                        if path in _ANSWER_TYPES and "application/json" not in _ANSWER_TYPES[path]:
                            content.pop("application/json", None)
                        for media_type in _ANSWER_TYPES.get(path, ()):
                            content.setdefault(media_type, {"schema": {}})
            responses.setdefault("304", {"description": "The client's copy is current (If-None-Match, If-Modified-Since)."})
            for status, description in _REFUSALS.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status[0] in "45":
                    # Every refusal is problem details (FastAPI's own 422 entry included); a browser on the
                    # submission pages gets a page, and a rejected file's report may be asked for in Turtle.
                    content = response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_SCHEMA}, "text/html": {"schema": {}}}
                    if path.startswith(("/validate", "/submissions")):
                        content["text/turtle"] = {"schema": {}}
    return schema
