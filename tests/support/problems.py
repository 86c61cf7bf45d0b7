"""Reading refusals as a client does: every 4xx and 5xx is an RFC 9457 problem-details document."""

from http import HTTPStatus
from typing import Any

import httpx


def problem_document(response: httpx.Response) -> dict[str, Any]:
    """The problem-details document of an answer, after checking that it is one (media type, members)."""
    assert response.headers["content-type"].split(";")[0] == "application/problem+json", response.text[:500]
    document = response.json()
    assert document["type"] == "about:blank"
    assert document["status"] == response.status_code
    assert document["title"] == HTTPStatus(response.status_code).phrase
    assert isinstance(document["detail"], str) and document["detail"]
    return document


def problem(response: httpx.Response) -> tuple[int, str]:
    """The status and the message (detail) of a problem-details answer."""
    return response.status_code, problem_document(response)["detail"]
