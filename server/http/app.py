"""The app factory: builds the FastAPI application from settings, opening the store in its lifespan."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from server import __version__
from server.canned_service import CannedQueryService
from server.dataset_description import DatasetDescriber
from server.dump_service import DumpService, DumpUnavailableError
from server.entity_service import EntityService
from server.federation import FederationRelay
from server.http import (
    routes_dataset,
    routes_federation,
    routes_ops,
    routes_queries,
    routes_resources,
    routes_sparql,
    routes_submissions,
    routes_web,
)
from server.http.body_limit import BodyLimitMiddleware, BodyTooLargeError
from server.http.guard import Guard
from server.http.metrics import Metrics
from server.http.middleware import HeadAsGetMiddleware, RequestContextMiddleware
from server.http.openapi_document import complete
from server.http.pages import templates
from server.http.requester import RequesterMiddleware
from server.http.security_headers import SECURITY_HEADERS, SecurityHeadersMiddleware
from server.query_catalogue import load_catalogue
from server.settings import Settings, get_settings
from server.sparql_service import SparqlError, SparqlService
from server.store import EmbeddedStore
from server.submissions import SubmissionError, SubmissionRejectedError, SubmissionService
from server.validation_service import SubmissionInputError, ValidationService
from server.vocabulary_docs import VocabularyDocs

_STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application for these settings (by default, those of the environment)."""
    settings = settings or get_settings()
    metrics = Metrics()
    catalogue = load_catalogue(settings.queries_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Syncing the files and spawning the workers block; they run before serving starts.
        store = await asyncio.to_thread(EmbeddedStore.open, settings)
        app.state.store = store
        app.state.service = SparqlService(store, settings, str(store.spool_dir), app.state.federation)
        app.state.canned = CannedQueryService(catalogue, app.state.service, store, settings)
        app.state.entities = EntityService(app.state.service, settings.data_base)
        app.state.dataset = DatasetDescriber(app.state.service)
        app.state.dumps = DumpService(settings, store)
        app.state.vocabularies = VocabularyDocs(settings.ontology_dir, settings.shapes_dir)
        validation = ValidationService(settings, store)
        app.state.validation = validation
        app.state.submissions = SubmissionService(settings, store, validation)
        try:
            await app.state.submissions.load()
            yield
        finally:
            await asyncio.to_thread(validation.close)
            await asyncio.to_thread(store.close)

    # /docs is served by routes_web with Swagger UI's files from our own npm install, not a CDN.
    app = FastAPI(
        title="ILO partnerships knowledge graph", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.templates = templates()
    app.state.guard = Guard(settings)
    app.state.federation = FederationRelay(
        settings.port, tuple(settings.service_allowlist), settings.federation_timeout_seconds, settings.federation_max_bytes
    ) if settings.service_allowlist else None
    # Innermost: the routes see a GET; every other layer sees the HEAD and its headers.
    app.add_middleware(HeadAsGetMiddleware)
    # Reads are open to every origin; nothing here uses credentials.
    app.add_middleware(
        CORSMiddleware, allow_origins=["*"], allow_credentials=False, allow_methods=["GET", "HEAD", "POST"],
        allow_headers=["*"], expose_headers=["ETag", "Last-Modified", "X-Request-ID"],
    )
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_submission_bytes, prefixes=("/validate", "/submissions"))
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequesterMiddleware, guard=app.state.guard)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    app.include_router(routes_sparql.router)
    app.include_router(routes_queries.build_router(catalogue, settings.max_page_size))
    app.include_router(routes_submissions.router)
    app.include_router(routes_web.router)
    app.include_router(routes_resources.router)
    app.include_router(routes_dataset.router)
    app.include_router(routes_federation.router)
    app.include_router(routes_ops.router)
    app.mount("/assets/vendor/yasgui", _static(settings.web_vendor_dir / "@zazuko" / "yasgui" / "build"), name="yasgui")
    app.mount("/assets/vendor/swagger-ui", _static(settings.web_vendor_dir / "swagger-ui-dist"), name="swagger-ui")
    app.mount("/assets", _static(_STATIC), name="assets")

    generate = app.openapi

    def documented_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate())
        return app.openapi_schema

    app.openapi = documented_openapi  # type: ignore[method-assign]

    @app.exception_handler(SparqlError)
    async def sparql_error(request: Request, error: SparqlError) -> Response:
        # The canned-query API answers in JSON, like the rest of a typed API; /sparql in plain text.
        if request.url.path.startswith(("/queries", "/submissions")):
            return JSONResponse({"detail": error.message}, status_code=error.status)
        return PlainTextResponse(error.message + "\n", status_code=error.status)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        # The traceback goes to the log (uvicorn logs it), never into the answer. This handler
        # answers from outside the middleware, so it adds their headers itself.
        request_id = request.scope.get("state", {}).get("request_id", "unknown")
        return PlainTextResponse(
            f"The server could not answer this request (an error of ours, not of the request). Request id: "
            f"{request_id}; the operator can find it in the log.\n", status_code=500,
            headers={"X-Request-ID": request_id, **SECURITY_HEADERS},
        )

    @app.exception_handler(StarletteHTTPException)
    async def not_found(request: Request, error: StarletteHTTPException) -> Response:
        # The router's own 404 ("Not Found") says nothing a person can act on.
        if error.status_code == 404 and error.detail == "Not Found":
            path = request.url.path[:200]
            return JSONResponse({"detail": f"There is nothing at {path}. The home page (/) and the API reference "
                                           "(/docs) list what this server offers."}, status_code=404)
        return await http_exception_handler(request, error)

    @app.exception_handler(DumpUnavailableError)
    async def dump_unavailable(request: Request, error: DumpUnavailableError) -> Response:
        return PlainTextResponse(f"{error}\n", status_code=503, headers={"Retry-After": "60"})

    for refusal in (SubmissionError, SubmissionInputError, SubmissionRejectedError, BodyTooLargeError):
        app.add_exception_handler(refusal, routes_submissions.error_response)  # type: ignore[arg-type]

    return app


def _static(folder: Path) -> StaticFiles:
    # check_dir=False: the vendor folders exist only after `npm ci`; until then their files are 404s.
    return StaticFiles(directory=folder, check_dir=False, follow_symlink=False)
