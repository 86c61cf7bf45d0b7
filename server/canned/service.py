"""Canned queries as a service: check a request's parameters, bind them, run one page of answers.

It sits between the HTTP router and the SPARQL service, which gives it the same deadlines,
limits, worker processes and cache as `/sparql`.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pyoxigraph as ox

from server.canned.catalogue import RESERVED, CannedQuery, Parameter
from server.canned.parameters import ParameterError, bind, expand, expected, to_term
from server.formats.registry import SPARQL_JSON, Format
from server.settings import Settings
from server.sparql.answer_cache import ResultCache
from server.sparql.service import SparqlError, SparqlService
from server.store.embedded import GraphStore
from server.store.query_worker import QueryOutput

Term = ox.NamedNode | ox.Literal
# The largest offset a client may ask for; the OpenAPI document publishes the same bound.
MAX_OFFSET = 999_999_999


@dataclass(frozen=True)
class Choice:
    """A value an IRI parameter may take: the IRI and its label."""

    iri: str
    label: str


@dataclass(frozen=True)
class Rendered:
    """A canned query's answer as sent: the serialised page, and the URL of the next page if any."""

    body: bytes
    next_url: str | None


@dataclass(frozen=True)
class Page:
    """One page of a canned query's answer, as SPARQL JSON results (head and bindings)."""

    variables: list[str]
    bindings: list[dict[str, dict[str, str]]]
    limit: int
    offset: int
    has_next: bool


class CannedQueryService:
    """Runs the named queries of the catalogue with typed, bound parameters and stable paging."""

    def __init__(self, catalogue: dict[str, CannedQuery], sparql: SparqlService, store: GraphStore, settings: Settings):
        self._catalogue = catalogue
        self._sparql = sparql
        self._store = store
        self._settings = settings
        self._choices: dict[tuple[str, str], list[Choice]] = {}
        # Answers as sent, by request URL and format: a common question asked again costs a look-up,
        # not decoding the stored SPARQL results and encoding the page afresh (half the server's
        # time under load before it was kept; bench/LOAD.md).
        self._rendered: ResultCache[Rendered] = ResultCache(
            settings.cache_entries, settings.cache_entry_bytes, settings.cache_total_bytes, lambda r: len(r.body)
        )

    @property
    def page_size(self) -> int:
        """Rows per page unless a client asks for fewer."""
        return self._settings.page_size

    @property
    def max_page_size(self) -> int:
        """Most rows per page the server's own pages ask for: the setting, or fewer where the store sorts fewer rows
        (a page asks for one row more than it shows, to know whether another follows; see paging)."""
        sorted_rows = self._store.sorted_rows
        return self._settings.max_page_size if sorted_rows is None else min(self._settings.max_page_size, sorted_rows - 1)

    @property
    def queries(self) -> list[CannedQuery]:
        """Every query, in name order."""
        return list(self._catalogue.values())

    def get(self, name: str) -> CannedQuery:
        """The query of that name; raises SparqlError 404 if there is none."""
        query = self._catalogue.get(name)
        if query is None:
            raise SparqlError(404, f"There is no query named {name[:100]!r}; GET /queries lists them.")
        return query

    async def choices(self, parameter: Parameter) -> list[Choice]:
        """The values an IRI parameter may take: the instances of its class (and scheme) in the graph."""
        key = (self._store.info.version, f"{parameter.class_} {parameter.scheme}")
        cached = self._choices.get(key)
        if cached is not None:
            return cached
        class_iri = ox.NamedNode(expand(parameter.class_ or "") or parameter.class_ or "")
        in_scheme = ""
        if parameter.scheme:
            scheme = ox.NamedNode(expand(parameter.scheme) or parameter.scheme)
            in_scheme = f"?value <http://www.w3.org/2004/02/skos/core#inScheme> {scheme} ."
        # Ordered outside the grouping: Virtuoso refuses an ORDER BY on an aggregate's alias. A subject is an IRI or a
        # blank node; Virtuoso 7.2 drops rows of this query under FILTER (isIRI(?value)), not under !isBlank.
        text = (
            "SELECT ?value ?label WHERE { { SELECT ?value (SAMPLE(?name) AS ?label) WHERE { "
            f"?value a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* {class_iri} . {in_scheme} "
            "OPTIONAL { ?value <http://www.w3.org/2000/01/rdf-schema#label>|"
            "<http://www.w3.org/2004/02/skos/core#prefLabel> ?name } FILTER (!isBlank(?value)) "
            "} GROUP BY ?value } } ORDER BY LCASE(STR(?label)) ?value"
        )
        document = await self._sparql.select(text)
        found = [
            Choice(row["value"]["value"], row.get("label", row["value"])["value"])
            for row in document["results"]["bindings"]
        ]
        self._choices = {k: v for k, v in self._choices.items() if k[0] == key[0]}
        self._choices[key] = found
        return found

    async def resolve(self, query: CannedQuery, params: Mapping[str, list[str]]) -> dict[str, Term]:
        """The terms a request's parameters stand for, checked; raises ParameterError."""
        for name, values in params.items():
            if name in RESERVED:
                continue
            if query.parameter(name) is None:
                known = ", ".join(p.name for p in query.parameters) or "none"
                raise ParameterError(name, f"{name[:100]!r} is not a parameter of this query (its parameters: {known}).")
            if len([v for v in values if v.strip()]) > 1:
                raise ParameterError(name, f"Give {name} once.")
        terms: dict[str, Term] = {}
        for parameter in query.parameters:
            given = [v for v in params.get(parameter.name, []) if v.strip()]
            raw = given[0] if given else parameter.default
            if raw is None:
                if parameter.required:
                    raise ParameterError(parameter.name, f"{parameter.name} is required: give {expected(parameter)}.")
                continue
            term = to_term(parameter, raw)
            if parameter.type == "iri" and term.value not in {c.iri for c in await self.choices(parameter)}:
                raise ParameterError(
                    parameter.name, f"{parameter.name} must be {expected(parameter)}; {raw[:200]!r} is not one.",
                )
            terms[parameter.name] = term
        return terms

    def rendered(self, url: str, format_name: str) -> Rendered | None:
        """The answer already sent for this request URL and format on the current data, if kept."""
        return self._rendered.get(self._rendered_key(url, format_name))

    def keep(self, url: str, format_name: str, rendered: Rendered) -> None:
        """Keep an answer as sent, for the same request on the same data."""
        self._rendered.put(self._rendered_key(url, format_name), rendered)

    def _rendered_key(self, url: str, format_name: str) -> str:
        return f"{self._store.info.version}\n{format_name}\n{url}"

    def paging(self, params: Mapping[str, list[str]]) -> tuple[int, int]:
        """The (limit, offset) a request asks for, checked; raises ParameterError."""
        limit = self._number(params, "limit", self._settings.page_size, 1, self._settings.max_page_size)
        offset = self._number(params, "offset", 0, 0, MAX_OFFSET)
        sorted_rows = self._store.sorted_rows
        if sorted_rows is not None and offset + limit >= sorted_rows:
            raise ParameterError("offset", (
                f"This server's store sorts at most {sorted_rows} rows of an answer, so a page must end before row "
                f"{sorted_rows} (offset + limit below {sorted_rows}); this one would end at row {offset + limit}. "
                "Narrow the question with its parameters, or ask the operator to raise the store's limit (Virtuoso: "
                "MaxSortedTopRows, in the [Parameters] section of virtuoso.ini)."
            ))
        return limit, offset

    async def answer(
        self, query: CannedQuery, terms: dict[str, Term], limit: int, offset: int, page_format: Format
    ) -> QueryOutput:
        """One page of the query's answer, serialised by the worker in page_format (a solution format or rows);
        one row more is asked for, so the output says whether a next page exists."""
        return await self._sparql.page(f"{bind(query, terms)}\nLIMIT {limit + 1}\nOFFSET {offset}\n", page_format, limit)

    async def run(self, query: CannedQuery, terms: dict[str, Term], limit: int, offset: int) -> Page:
        """One page of the query's answer as solutions, for a page that shows them."""
        output = await self.answer(query, terms, limit, offset, SPARQL_JSON)
        document = json.loads(output.read())
        return Page(document["head"]["vars"], document["results"]["bindings"], limit, offset, output.more)

    @staticmethod
    def _number(params: Mapping[str, list[str]], name: str, default: int, low: int, high: int) -> int:
        given = [v for v in params.get(name, []) if v.strip()]
        if not given:
            return default
        value = given[0].strip()
        # Length first: Python refuses to convert more than 4,300 digits (and they could not be in range).
        if not (value.isascii() and value.isdigit() and len(value) <= len(str(high))) or not low <= int(value) <= high:
            raise ParameterError(name, f"{name} must be a whole number from {low} to {high}; got {value[:40]!r}.")
        return int(value)
