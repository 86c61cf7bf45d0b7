"""HTML pages: the Jinja2 templates of server/web/templates, rendered with what every page needs."""

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from server.rdf.display import is_web_iri

_TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"


def templates() -> Jinja2Templates:
    """The page templates (autoescaped), with the test `is web_iri` (an IRI a page may link to)."""
    engine = Jinja2Templates(directory=str(_TEMPLATES))
    engine.env.tests["web_iri"] = is_web_iri
    return engine


def site_root(request: Request) -> str:
    """The path of the home page, with a trailing slash (honours a proxy's root_path)."""
    return request.scope.get("root_path", "").rstrip("/") + "/"


def render(
    request: Request, template: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: object
) -> HTMLResponse:
    """A page from a template, with the site root in its context."""
    engine: Jinja2Templates = request.app.state.templates
    return engine.TemplateResponse(
        request, template, {"root": site_root(request), **context}, status_code=status_code,
        headers={"Vary": "Accept", **(headers or {})},
    )
