"""The app factory: builds the FastAPI application from settings, opening the store in its lifespan.

Two paths through it. `/sparql` (GET, HEAD, POST), the hot path, goes from uvicorn through the
per-request duties straight to its route; everything else goes through FastAPI's own layers
(routing, dependencies, exception handlers) with the same duties around it. The duties are
listed once (`_duties`) and wrap both, so each is done exactly once per request.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from server import __version__
from server.canned.catalogue import load_catalogue
from server.canned.explorer import ExplorerWarmup, kept_warm
from server.canned.service import CannedQueryService
from server.http import errors
from server.http.guard import Guard
from server.http.metrics import Metrics
from server.http.middleware.body_limit import BodyLimitMiddleware
from server.http.middleware.content_coding import ContentCodingMiddleware
from server.http.middleware.public_address import PublicAddressMiddleware
from server.http.middleware.request_context import HeadAsGetMiddleware, RequestContextMiddleware
from server.http.middleware.security_headers import SecurityHeadersMiddleware
from server.http.openapi_document import complete
from server.http.pages import templates
from server.http.requester import RequesterMiddleware
from server.http.routes import dataset, explore, federation, ops, queries, resources, sparql, submissions, web
from server.linked_data.dataset_description import DatasetDescriber
from server.linked_data.dump_service import DumpService
from server.linked_data.entities import EntityService
from server.linked_data.vocabulary_docs import VocabularyDocs
from server.settings import Settings, get_settings
from server.sparql.federation import FederationRelay
from server.sparql.service import SparqlService
from server.store.opening import open_store
from server.submissions.service import SubmissionService
from server.validation.service import ValidationService

_STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


class App(FastAPI):
    """The FastAPI application, with `/sparql` answered beside FastAPI's layers rather than through them."""

    sparql_path: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # OPTIONS (a CORS preflight) takes the general path, where CORS answers it.
        if scope["type"] == "http" and scope["path"] == sparql.PATH and scope["method"] != "OPTIONS":
            scope["app"] = self
            scope["router"] = self.router
            await self.sparql_path(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _duties(settings: Settings, metrics: Metrics, guard: Guard) -> list[Middleware]:
    """The per-request layers, outermost first: the client's address and scheme as the trusted proxies in front say
    (only where there are some); the public address for the links in answers (where one is set); every answer's
    request id, access log and metrics; the requester (for the fair shares); the security headers; bodies sent with a
    content coding refused; CORS (reads are
    open to every origin; nothing uses credentials); HEAD answered as GET (innermost, so every other layer sees the
    HEAD and its headers)."""
    # Here and not in uvicorn (which `serve` runs with proxy_headers=False): uvicorn's default believes
    # X-Forwarded-For from 127.0.0.1, which is every client when a balancer on the same host passes the header on.
    forwarded = [Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)] if settings.trusted_proxies else []
    public = [Middleware(PublicAddressMiddleware, url=settings.public_url)] if settings.public_url else []
    return [
        *forwarded,
        *public,
        Middleware(RequestContextMiddleware, metrics=metrics),
        Middleware(RequesterMiddleware, guard=guard),
        Middleware(SecurityHeadersMiddleware),
        Middleware(ContentCodingMiddleware),
        Middleware(
            CORSMiddleware, allow_origins=["*"], allow_credentials=False, allow_methods=["GET", "HEAD", "POST"],
            allow_headers=["*"], expose_headers=["ETag", "Last-Modified", "X-Request-ID"],
        ),
        Middleware(HeadAsGetMiddleware),
    ]


def _wrapped(endpoint: ASGIApp, layers: list[Middleware]) -> ASGIApp:
    for layer in reversed(layers):
        endpoint = layer.cls(endpoint, *layer.args, **layer.kwargs)
    return endpoint


def create_app(settings: Settings | None = None) -> App:
    """The application for these settings (by default, those of the environment)."""
    settings = settings or get_settings()
    metrics = Metrics()
    catalogue = load_catalogue(settings.queries_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await open_store(settings)
        app.state.store = store
        app.state.service = SparqlService(store, settings, str(store.spool_dir), app.state.federation)
        app.state.canned = CannedQueryService(catalogue, app.state.service, store, settings)
        app.state.warmup = ExplorerWarmup(app.state.canned, store) if settings.explorer_warmup else None
        app.state.entities = EntityService(app.state.service, settings.data_base)
        app.state.dataset = DatasetDescriber(app.state.service)
        app.state.dumps = DumpService(settings, store)
        app.state.vocabularies = VocabularyDocs(settings.ontology_dir, settings.shapes_dir)
        validation = ValidationService(settings, store)
        await validation.start()
        app.state.validation = validation
        app.state.submissions = SubmissionService(settings, store, validation)
        try:
            await app.state.submissions.load()
            async with kept_warm(app.state.warmup):
                yield
        finally:
            await validation.close()
            await store.close()

    # /docs is served by routes/web.py with Swagger UI's files from our own npm install, not a CDN.
    app = App(
        title="ILO partnerships knowledge graph", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.templates = templates()
    app.state.guard = Guard(settings)
    app.state.federation = FederationRelay(
        settings.port, tuple(settings.service_allowlist), settings.federation_timeout_seconds, settings.federation_max_bytes
    ) if settings.service_allowlist else None
    duties = _duties(settings, metrics, app.state.guard)
    # The body limit applies to uploads only (/sparql limits its own body): between the duties and the routes.
    body_limit = Middleware(BodyLimitMiddleware, limit=settings.max_submission_bytes, prefixes=("/validate", "/submissions"))
    before_limit = len(duties) - 2  # the body limit goes just outside CORS and HEAD-as-GET
    for layer in reversed([*duties[:before_limit], body_limit, *duties[before_limit:]]):
        app.add_middleware(layer.cls, *layer.args, **layer.kwargs)
    app.sparql_path = _wrapped(sparql.endpoint, duties)
    app.include_router(queries.build_router(catalogue, settings.max_page_size))
    app.include_router(submissions.router)
    app.include_router(web.router)
    app.include_router(explore.router)
    app.include_router(resources.router)
    app.include_router(dataset.router)
    app.include_router(federation.router)
    app.include_router(ops.router)
    app.mount("/assets/vendor/yasgui", _static(settings.web_vendor_dir / "@zazuko" / "yasgui" / "build"), name="yasgui")
    app.mount("/assets/vendor/swagger-ui", _static(settings.web_vendor_dir / "swagger-ui-dist"), name="swagger-ui")
    app.mount("/assets/vendor/d3", _static(settings.web_vendor_dir / "d3" / "dist"), name="d3")
    app.mount("/assets/vendor/topojson-client", _static(settings.web_vendor_dir / "topojson-client" / "dist"), name="topojson")
    app.mount("/assets/vendor/world-atlas", _static(settings.web_vendor_dir / "world-atlas"), name="world-atlas")
    app.mount("/assets", _static(_STATIC), name="assets")

    generate = app.openapi

    def documented_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate())
        return app.openapi_schema

    app.openapi = documented_openapi  # type: ignore[method-assign]

    errors.install(app)
    return app


def _static(folder: Path) -> StaticFiles:
    # check_dir=False: the vendor folders exist only after `npm ci`; until then their files are 404s.
    return StaticFiles(directory=folder, check_dir=False, follow_symlink=False)
