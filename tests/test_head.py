"""HEAD on every GET route answers as GET does, headers only (link checkers and linked-data clients probe with it)."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from server.http.app import create_app
from server.http.routes import sparql
from server.settings import Settings
from tests.support.servers import RunningServer

# A value for every path parameter of a GET route: a route with a parameter not named here fails the test.
_VALUES = {
    "name": "projects", "submission_id": "2026-01-01-00000000", "path": "organisation/ilo",
    "secret": "not-the-secret", "index": "0",
}
_PATHS = {"/codelist/{path}": "/codelist/theme/skills-development", "/graph/{path}": "/graph/data/sources",
          "/dumps/{name}": "/dumps/ilo-partnerships.nq.gz"}
# Mounted static folders: one file of each.
_ASSETS = ["/assets/site.css", "/assets/vendor/yasgui/yasgui.min.js", "/assets/vendor/swagger-ui/swagger-ui.css"]
# Headers that differ between any two answers.
_PER_ANSWER = {"date", "x-request-id"}


def _get_routes(routes: list[Any]) -> Iterator[str]:
    for route in routes:
        if hasattr(route, "methods") and hasattr(route, "path"):
            if "GET" in route.methods:
                yield route.path
        elif hasattr(route, "original_router"):
            yield from _get_routes(route.original_router.routes)


def _urls(settings: Settings) -> list[str]:
    urls = []
    for path in _get_routes(create_app(settings).routes):
        path = path.replace(":path}", "}")
        if path in _PATHS:
            urls.append(_PATHS[path])
        else:
            urls.append(path.format(**_VALUES))
    # /sparql is answered beside the router (see http/app.py), not by one of its routes.
    return sorted({*urls, sparql.PATH}) + _ASSETS


def test_every_get_route_was_found(settings: Settings) -> None:
    urls = _urls(settings)
    assert len(urls) >= 45
    assert {"/", "/sparql", "/queries/projects", "/id/organisation/ilo", "/health", "/docs"} <= set(urls)


@pytest.mark.parametrize("accept", ["text/html", "text/turtle", "*/*"])
def test_head_answers_as_get_without_a_body(sparql_server: RunningServer, settings: Settings, accept: str) -> None:
    differences = []
    with httpx.Client(base_url=sparql_server.url, timeout=60, headers={"Accept": accept}) as client:
        for url in _urls(settings):
            got, head = client.get(url), client.head(url)
            # The metrics count the requests themselves, so their length changes from one answer to the next.
            varying = _PER_ANSWER | ({"content-length"} if url == "/metrics" else set())
            same = {k: v for k, v in got.headers.items() if k not in varying}
            if head.status_code == 405 or (head.status_code, head.content) != (got.status_code, b""):
                differences.append((url, got.status_code, head.status_code, len(head.content)))
            else:
                shown = {k: v for k, v in head.headers.items() if k not in varying}
                differing = sorted(k for k in same.keys() | shown.keys() if same.get(k) != shown.get(k))
                if differing:
                    differences.append((url, [(k, same.get(k), shown.get(k)) for k in differing]))
    assert differences == []
