"""Dependencies the routers declare: what each handler needs, taken from the app's state.

They are coroutines on purpose: FastAPI runs a plain function dependency in a worker thread,
which cost more than the rest of answering a cached query.
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError

from server.canned.service import CannedQueryService
from server.http.guard import Guard
from server.http.metrics import Metrics
from server.linked_data.dataset_description import DatasetDescriber
from server.linked_data.dump_service import DumpService
from server.linked_data.entities import EntityService
from server.linked_data.vocabulary_docs import VocabularyDocs
from server.settings import Settings
from server.sparql.service import SparqlService
from server.store.embedded import GraphStore
from server.submissions.service import SubmissionService
from server.validation.service import ValidationService


async def _service(request: Request) -> SparqlService:
    return request.app.state.service


async def _store(request: Request) -> GraphStore:
    return request.app.state.store


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _canned(request: Request) -> CannedQueryService:
    return request.app.state.canned


async def _metrics(request: Request) -> Metrics:
    return request.app.state.metrics


async def _guard(request: Request) -> Guard:
    return request.app.state.guard


async def _submissions(request: Request) -> SubmissionService:
    return request.app.state.submissions


async def _entities(request: Request) -> EntityService:
    return request.app.state.entities


async def _dataset(request: Request) -> DatasetDescriber:
    return request.app.state.dataset


async def _dumps(request: Request) -> DumpService:
    return request.app.state.dumps


async def _vocabularies(request: Request) -> VocabularyDocs:
    return request.app.state.vocabularies


async def _validation(request: Request) -> ValidationService:
    return request.app.state.validation


def _declared_query_parameters(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for inner in dependant.dependencies:
        names |= _declared_query_parameters(inner)
    return names


async def known_query_parameters(request: Request) -> None:
    """Refuse a query parameter the route does not declare, or one given twice: on the routes that write or judge
    a file, a mistyped name (`replace` for `replaces`) would otherwise change what is done without a word, and of
    two values FastAPI silently takes the last."""
    route = request.scope.get("route")
    declared = _declared_query_parameters(route.dependant) if route is not None else set()
    known = ", ".join(sorted(declared)) or "none"
    errors = []
    for name in dict.fromkeys(request.query_params.keys()):
        shown = repr(name[:100])[1:-1]  # escaped: a name may hold controls or bidi characters
        if name not in declared:
            where = f"{request.method} {route.path}" if route is not None else "this route"
            errors.append({"loc": ("query", shown), "type": "value_error",
                           "msg": f"not a parameter of {where} (its parameters: {known})"})
        elif (times := len(request.query_params.getlist(name))) > 1:
            errors.append({"loc": ("query", shown), "type": "value_error", "msg": f"given {times} times; give it once"})
    if errors:
        raise RequestValidationError(errors)


ServiceDep = Annotated[SparqlService, Depends(_service)]
StoreDep = Annotated[GraphStore, Depends(_store)]
SettingsDep = Annotated[Settings, Depends(_settings)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
CannedDep = Annotated[CannedQueryService, Depends(_canned)]
GuardDep = Annotated[Guard, Depends(_guard)]
SubmissionsDep = Annotated[SubmissionService, Depends(_submissions)]
ValidationDep = Annotated[ValidationService, Depends(_validation)]
EntitiesDep = Annotated[EntityService, Depends(_entities)]
DatasetDep = Annotated[DatasetDescriber, Depends(_dataset)]
DumpsDep = Annotated[DumpService, Depends(_dumps)]
VocabulariesDep = Annotated[VocabularyDocs, Depends(_vocabularies)]
