"""The canned-query library: one `.rq` file per named question, described by a metadata header.

The header is a block of comment lines starting with `#+` (the convention of grlc), holding
YAML, so every file stays a valid SPARQL query that runs as it is in any editor:

    #+ title: Projects
    #+ description: Projects, filtered by country, partner, theme, cycle and years.
    #+ tags: [projects]
    #+ parameters:
    #+   country:
    #+     type: country
    #+     description: Where the project or one of its components runs.
    #+     example: KR

Each parameter is the query variable of the same name. A value is bound to that variable
with VALUES blocks at the top of the WHERE clause (see `bind`), never pasted into the text.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from server.sparql.text import analyse

NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Parameter names are SPARQL variable names that are also plain URL parameter names.
_PARAMETER_NAME = re.compile(r"[a-z][a-z0-9_]*")
# Paging and format parameters belong to the API, not to any query.
RESERVED = frozenset({"limit", "offset", "format"})

ParameterType = Literal["iri", "string", "text", "date", "year", "integer", "decimal", "country", "enum"]


class Parameter(BaseModel):
    """One parameter of a canned query, as its header declares it."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = ""
    type: ParameterType
    description: str = Field(min_length=1)
    required: bool = False
    default: str | None = None
    example: str
    # For `iri`: the class its value must be an instance of (a prefixed name or an IRI),
    # and optionally the SKOS concept scheme it must be in.
    class_: str | None = Field(None, alias="class")
    scheme: str | None = None
    # For `enum`: the values allowed.
    values: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Parameter":
        if self.type == "iri" and not self.class_:
            raise ValueError("an iri parameter needs a class")
        if self.type != "iri" and (self.class_ or self.scheme):
            raise ValueError("only an iri parameter takes a class or a scheme")
        if (self.type == "enum") != bool(self.values):
            raise ValueError("an enum parameter, and only one, needs values")
        if self.required and self.default is not None:
            raise ValueError("a required parameter has no default")
        return self


class _Header(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    tags: Annotated[list[str], Field(min_length=1)]
    parameters: dict[str, Parameter] = Field(default_factory=dict)


@dataclass(frozen=True)
class CannedQuery:
    """A named question: its metadata and its SPARQL text."""

    name: str
    title: str
    description: str
    tags: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    text: str
    # Offset just after the `{` that opens the WHERE clause, where bindings go.
    where_start: int

    def parameter(self, name: str) -> Parameter | None:
        """The parameter of that name, if the query has one."""
        return next((p for p in self.parameters if p.name == name), None)


class CatalogueError(Exception):
    """A query file that cannot be offered: the message names the file and what is wrong."""


def load_query(path: Path) -> CannedQuery:
    """Read and check one `.rq` file."""
    name = path.stem
    if not NAME.fullmatch(name):
        raise CatalogueError(f"{path.name}: a query's file name must be lower-case words joined by hyphens.")
    text = path.read_text(encoding="utf-8")
    header = "\n".join(line[2:] for line in text.splitlines() if line.startswith("#+"))
    try:
        raw = yaml.safe_load(header) if header.strip() else None
        if not isinstance(raw, dict):
            raise CatalogueError(f"{path.name}: no metadata header (lines starting with '#+').")
        meta = _Header.model_validate(raw)
    except yaml.YAMLError as error:
        raise CatalogueError(f"{path.name}: the metadata header is not valid YAML: {error}") from None
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise CatalogueError(f"{path.name}: invalid metadata: {problems}") from None
    shape = analyse(text)
    if shape.form != "SELECT":
        raise CatalogueError(f"{path.name}: a canned query must be a SELECT query.")
    if shape.where_start is None:
        raise CatalogueError(f"{path.name}: the query has no WHERE clause.")
    if "ORDER" not in shape.keywords:
        raise CatalogueError(f"{path.name}: the query needs an ORDER BY, so that its pages are stable.")
    if shape.keywords & {"LIMIT", "OFFSET"}:
        raise CatalogueError(f"{path.name}: leave LIMIT and OFFSET out; the API pages the results.")
    parameters = []
    for parameter_name, parameter in meta.parameters.items():
        if not _PARAMETER_NAME.fullmatch(parameter_name) or parameter_name in RESERVED:
            raise CatalogueError(f"{path.name}: {parameter_name!r} cannot be a parameter name.")
        if parameter_name not in shape.variables:
            raise CatalogueError(f"{path.name}: parameter {parameter_name!r} is not a variable of the query.")
        parameters.append(parameter.model_copy(update={"name": parameter_name}))
    return CannedQuery(
        name=name, title=meta.title, description=meta.description, tags=tuple(meta.tags),
        parameters=tuple(parameters), text=text, where_start=shape.where_start,
    )


def load_catalogue(folder: Path) -> dict[str, CannedQuery]:
    """Every query in a folder, by name, in name order."""
    return {path.stem: load_query(path) for path in sorted(folder.glob("*.rq"))}
