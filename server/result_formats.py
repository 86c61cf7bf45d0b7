"""The formats the SPARQL endpoint answers in: one registry, used for negotiation and serialisation."""

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class ResultFormat:
    """One answer format: its short name (the `format` parameter), media type and serialiser."""

    name: str
    media_type: str
    oxigraph_format: ox.QueryResultsFormat | ox.RdfFormat
    charset: bool = True

    @property
    def content_type(self) -> str:
        """The Content-Type header value."""
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type


# Order matters: the first format is the default when a client accepts anything.
SOLUTION_FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat("json", "application/sparql-results+json", ox.QueryResultsFormat.JSON),
    ResultFormat("xml", "application/sparql-results+xml", ox.QueryResultsFormat.XML),
    ResultFormat("csv", "text/csv", ox.QueryResultsFormat.CSV),
    ResultFormat("tsv", "text/tab-separated-values", ox.QueryResultsFormat.TSV),
)
# ASK has no standard CSV or TSV form.
BOOLEAN_FORMATS: tuple[ResultFormat, ...] = SOLUTION_FORMATS[:2]
GRAPH_FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat("turtle", "text/turtle", ox.RdfFormat.TURTLE),
    ResultFormat("ntriples", "application/n-triples", ox.RdfFormat.N_TRIPLES),
    ResultFormat("jsonld", "application/ld+json", ox.RdfFormat.JSON_LD),
    ResultFormat("rdfxml", "application/rdf+xml", ox.RdfFormat.RDF_XML),
)

# The `format` parameter also takes the media type itself and a few common aliases.
_ALIASES = {"ttl": "turtle", "nt": "ntriples", "json-ld": "jsonld", "rdf": "rdfxml", "srj": "json", "srx": "xml"}


def formats_for(form: str | None) -> tuple[ResultFormat, ...]:
    """The formats that can carry the result of a query of this form."""
    if form in ("CONSTRUCT", "DESCRIBE"):
        return GRAPH_FORMATS
    if form == "ASK":
        return BOOLEAN_FORMATS
    return SOLUTION_FORMATS


def by_parameter(value: str, candidates: tuple[ResultFormat, ...]) -> ResultFormat | None:
    """The format a `format` parameter names among the candidates, by short name or media type."""
    wanted = _ALIASES.get(value.strip().lower(), value.strip().lower())
    return next((f for f in candidates if wanted in (f.name, f.media_type)), None)
