"""The OpenAPI document, completed with every answer an operation can give.

FastAPI documents the answers a handler declares; the refusals that come from elsewhere (the
body limit, the token check, negotiation, deadlines, the router's 404) and the non-JSON
formats of negotiated answers are added here, so that clients generated from the document,
and the fuzzer that checks answers against it (schemathesis), meet no undocumented answer.
"""

from typing import Any

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
# Every format a successful answer may take, negotiated by Accept or `format`.
_ANSWER_TYPES = (
    *(f.media_type for f in (*SOLUTION_FORMATS, *GRAPH_FORMATS)), "text/html", "application/json", "text/plain",
    "application/gzip", "application/sparql-query", "application/trig", "application/n-quads",
)


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the refusals and the negotiated formats to every operation of an OpenAPI document (in place)."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, response in responses.items():
                if status.startswith("2") and status != "204":
                    content = response.setdefault("content", {})
                    for media_type in _ANSWER_TYPES:
                        content.setdefault(media_type, {"schema": {}})
            responses.setdefault("304", {"description": "The client's copy is current (If-None-Match, If-Modified-Since)."})
            for status, description in _REFUSALS.items():
                response = responses.setdefault(status, {"description": description})
                content = response.setdefault("content", {})
                for media_type in _REFUSAL_TYPES:
                    content.setdefault(media_type, {"schema": {}})
    return schema
