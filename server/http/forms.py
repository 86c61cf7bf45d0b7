"""Form fields for canned-query parameters, as the query pages and the explorer's filters show them."""

from typing import Any

from server.canned.catalogue import Parameter
from server.canned.parameters import ParameterError, expected
from server.canned.service import CannedQueryService
from server.namespaces import shorten

_INPUT_TYPES = {"date": "date", "year": "number", "integer": "number"}


async def field(
    canned: CannedQueryService, parameter: Parameter, params: dict[str, list[str]], error: ParameterError | None,
) -> dict[str, Any]:
    """One parameter as a form field: its value as given, its choices (the instances of an IRI parameter's class),
    what it expects, and the error that names it, if any."""
    given = (params.get(parameter.name) or [""])[0]
    choices = None
    if parameter.type == "iri":
        choices = [{"value": shorten(c.iri).strip("<>"), "label": c.label} for c in await canned.choices(parameter)]
        # Show the selection whether the user wrote the full IRI or a prefixed name.
        given = shorten(given).strip("<>") if given else given
    elif parameter.type == "enum":
        choices = [{"value": v, "label": v} for v in parameter.values or ()]
    return {
        "name": parameter.name, "required": parameter.required, "description": parameter.description,
        "expected": expected(parameter), "example": parameter.example, "default": parameter.default,
        "value": given if given or params else (parameter.default or ""), "choices": choices,
        "input_type": _INPUT_TYPES.get(parameter.type, "text"),
        "pattern": r"\d{4}" if parameter.type == "year" else None,
        "error": error.message if error is not None and error.parameter == parameter.name else None,
    }
