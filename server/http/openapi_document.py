"""The OpenAPI document, completed with every answer an operation can give.

FastAPI documents the answers a handler declares; the refusals that come from elsewhere (the
body limit, the token check, negotiation, deadlines, the router's 404) and the non-JSON
formats of negotiated answers are added here, so that clients generated from the document,
and the fuzzer that checks answers against it (schemathesis), meet no undocumented answer.
"""

from typing import Any

from server.rdf_formats import SYNTAXES
from server.result_formats import GRAPH_FORMATS, SOLUTION_FORMATS

_REFUSALS = {
    "400": "The request is malformed: a syntax error, an unknown format, a bad parameter (the message says which).",
    "401": "A token is needed, or the one sent is not valid.",
    "403": "The token does not allow this.",
    "404": "There is nothing at this address.",
    "405": "This method is not allowed here.",
    "406": "None of the accepted media types is available.",
    "409": "The same content was already submitted by someone else.",
    "410": "The submission was withdrawn.",
    "413": "The request, the query or the file is too large.",
    "415": "The body's media type is not one this operation reads.",
    "422": "The request is well-formed but cannot be processed: a parameter or file that breaks a rule, or a query "
           "stopped at its deadline.",
    "429": "Too many requests; Retry-After says when to try again.",
    "503": "The server is busy (queues full); Retry-After says when to try again.",
}
_REFUSAL_TYPES = ("application/json", "text/plain", "text/html")
_GRAPHS = tuple(f.media_type for f in GRAPH_FORMATS)
_RESOURCE = (*_GRAPHS, "text/html")
# The formats a successful answer of each path may take (negotiated by Accept or `format`),
# where FastAPI's default (JSON) is not the whole story. Canned queries document their own.
_ANSWER_TYPES: dict[str, tuple[str, ...]] = {
    "/sparql": (*(f.media_type for f in SOLUTION_FORMATS), *_RESOURCE),
    "/id/{path}": _RESOURCE, "/codelist/{path}": _RESOURCE, "/ontology": _RESOURCE, "/shapes": _RESOURCE,
    "/.well-known/void": _RESOURCE, "/dataset": _RESOURCE,
    "/graph/{path}": ("text/turtle",), "/dumps/{name}": ("application/gzip", "text/turtle"),
    "/context.jsonld": ("application/ld+json",), "/metrics": ("text/plain",),
    "/queries/{name}.rq": ("application/sparql-query",), "/queries": ("application/json", "text/html"),
    "/validate": ("application/json", "text/turtle", "text/html"),
    "/submissions/{submission_id}/report": ("application/json", "text/turtle", "text/html"),
    "/submissions/{submission_id}/content": _GRAPHS,
    "/submissions/{submission_id}/original": tuple(t for s in SYNTAXES for t in s.media_types),
}


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the refusals and the negotiated formats to every operation of an OpenAPI document (in place)."""
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
                response = responses.setdefault(status, {"description": description})
                content = response.setdefault("content", {})
                for media_type in _REFUSAL_TYPES:
                    content.setdefault(media_type, {"schema": {}})
    return schema
