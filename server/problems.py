"""Refusals and failures, told the same way everywhere: RFC 9457 problem details.

Every 4xx and 5xx the server sends, from a route, the app's handlers, a middleware or the
connection layer, has one body shape (media type application/problem+json):

    {"type": "about:blank", "title": "Bad Request", "status": 400,
     "detail": "what went wrong and what to do, for a person", "instance": "/sparql",
     ...extension members}

`detail` is the message to show. Extension members add what a program can act on: `line` and
`column` for a file that cannot be read, `errors` (FastAPI's list) for parameters of the wrong
type, the report's own members for a submission that does not conform.
"""

import json
from http import HTTPStatus
from typing import Any

PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """A request the server refuses, or cannot answer: a status, a message for a person, and extras."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None, **extensions: Any):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions

    @property
    def message(self) -> str:
        """The message for the person who sent the request (the problem's detail)."""
        return self.detail


def problem_document(status: int, detail: str, instance: str | None = None, **extensions: Any) -> dict[str, Any]:
    """The problem-details object for a status and message (and the path it concerns, if known)."""
    document: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
                                "detail": detail}
    if instance is not None:
        document["instance"] = instance
    return {**document, **extensions}


def problem_bytes(status: int, detail: str, instance: str | None = None, **extensions: Any) -> bytes:
    """The problem-details document, encoded, for layers that write bytes (middleware, the connection)."""
    return json.dumps(problem_document(status, detail, instance, **extensions), ensure_ascii=False).encode()
