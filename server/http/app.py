"""The app factory: builds the FastAPI application from settings, opening the store in its lifespan."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, PlainTextResponse

from server import __version__
from server.http import routes_ops, routes_sparql
from server.http.metrics import Metrics
from server.http.middleware import RequestContextMiddleware
from server.settings import Settings, get_settings
from server.sparql_service import SparqlError, SparqlService
from server.store import EmbeddedStore

_HOME = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>ILO partnerships knowledge graph</title></head><body>
<h1>ILO partnerships knowledge graph</h1>
<ul><li><a href="sparql">SPARQL query page and endpoint</a> (<code>/sparql</code>)</li>
<li><a href="sparql?format=turtle">Service description</a></li>
<li><a href="health">Health</a></li></ul></body></html>"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application for these settings (by default, those of the environment)."""
    settings = settings or get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Syncing the files and spawning the workers block; they run before serving starts.
        store = await asyncio.to_thread(EmbeddedStore.open, settings)
        app.state.store = store
        app.state.service = SparqlService(store, settings, str(store.spool_dir))
        try:
            yield
        finally:
            await asyncio.to_thread(store.close)

    # The interactive docs load their assets from a CDN; they return, served locally, with issue 4.
    app = FastAPI(
        title="ILO partnerships knowledge graph", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.state.metrics = metrics
    # Reads are open to every origin; nothing here uses credentials.
    app.add_middleware(
        CORSMiddleware, allow_origins=["*"], allow_credentials=False, allow_methods=["GET", "POST"],
        allow_headers=["*"], expose_headers=["ETag", "Last-Modified", "X-Request-ID"],
    )
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    app.include_router(routes_sparql.router)
    app.include_router(routes_ops.router)

    @app.exception_handler(SparqlError)
    async def sparql_error(request: Request, error: SparqlError) -> PlainTextResponse:
        return PlainTextResponse(error.message + "\n", status_code=error.status)

    @app.get("/", include_in_schema=False)
    async def home() -> HTMLResponse:
        return HTMLResponse(_HOME)

    return app
