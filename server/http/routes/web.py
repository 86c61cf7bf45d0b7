"""The web pages that are not an API: the home page, the query editor and the API reference."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from server.canned.catalogue import CannedQuery
from server.http.deps import CannedDep, ServiceDep, SettingsDep, StoreDep
from server.http.pages import render, site_root
from server.http.routes import explore, sparql
from server.namespaces import DISPLAY_PREFIXES
from server.rdf.syntaxes import SYNTAXES

router = APIRouter(include_in_schema=False)

# The prefixes the editor declares in a new query: the ones its users reach for first.
_EDITOR_PREFIXES = (
    "ilop", "rdf", "rdfs", "owl", "xsd", "skos", "dcterms", "dcat", "org", "prov", "schema",
    "organisation", "project", "country", "theme", "role",
)

# The questions the home page names first: those most visitors come with.
_FEATURED = ("projects", "project-profile", "partner-profile", "countries-reached", "funding-by-funder", "search")


@router.get("/")
async def home(request: Request, canned: CannedDep, store: StoreDep) -> HTMLResponse:
    """The home page: the way to the questions, the editor and the dataset description."""
    info = store.info
    featured = [q for q in canned.queries if q.name in _FEATURED]
    return render(
        request, "home.html", queries=canned.queries, featured=featured, triples=f"{info.triples:,}", graphs=len(info.graphs),
    )


@router.get("/editor")
async def editor(request: Request, canned: CannedDep, settings: SettingsDep, service: ServiceDep) -> HTMLResponse:
    """YASGUI, served from this server, pointed at /sparql, with every canned query as an example, and the
    explorer's map, timeline and network as result views for any SELECT whose columns fit them."""
    endpoint = str(request.url.replace(path=sparql.PATH, query=""))
    root = site_root(request)
    config = {
        "endpoint": endpoint,
        "prefixes": {prefix: DISPLAY_PREFIXES[prefix] for prefix in _EDITOR_PREFIXES},
        "queries": [{"name": q.name, "title": q.title, "text": _editor_text(q)} for q in canned.queries],
        "pictures": {**explore.drawing(root, settings, canned.max_page_size), "countries": await explore.country_codes(service)},
    }
    installed = (settings.web_vendor_dir / "@zazuko" / "yasgui" / "build" / "yasgui.min.js").is_file()
    return render(request, "editor.html", queries=canned.queries, config=config, endpoint=endpoint, installed=installed)


def _editor_text(query: CannedQuery) -> str:
    """A canned query as the editor opens it: the query in view, its metadata header (often longer than
    the editor's window) replaced by one comment pointing at the question's page."""
    body = "\n".join(line for line in query.text.splitlines() if not line.startswith("#+")).strip("\n")
    return f"# {query.title}: its parameters and description are at /queries/{query.name}\n{body}\n"


@router.get("/submit")
async def submit(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The submission page: check a file (the form works without script), then submit it with a token."""
    syntaxes = [{"name": s.name, "label": s.label} for s in SYNTAXES]
    return render(request, "submit.html", syntaxes=syntaxes, max_mb=f"{settings.max_submission_bytes / 1024 / 1024:g}")


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI document, from this server's own copy (no CDN, no inline script)."""
    return render(request, "docs.html")
