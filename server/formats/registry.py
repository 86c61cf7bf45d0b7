"""Every format the server reads or answers in, once: media type, name, kind, W3C IRI and serialiser.

A format is known by its `name` (the `format` parameter and the CLI's `--format`), its media type
(Content-Type and Accept) and, for files, its extensions. Which formats an answer may take is an
*offer*: an ordered tuple of formats, the first the default. Offers are built here too, so that
adding a format is one line in FORMATS and one in the offers that carry it; negotiation, the
service description, the OpenAPI document and the workers' serialisers all read them.
"""

from dataclasses import dataclass
from enum import Enum
from typing import Literal

import pyoxigraph as ox

from server.formats.negotiation import FormatError, accepts_html, choose
from server.namespaces import W3C_FORMATS


class Kind(Enum):
    """What a format can carry."""

    SOLUTIONS = "SPARQL solutions (SELECT) or a boolean (ASK)"
    GRAPH = "an RDF graph or dataset"
    JSON = "a JSON document of our own (rows of a canned query, a report, a catalogue)"
    PAGE = "an HTML page for people"
    RECORDS = "records in a format partners hold them in (IATI activity XML, spreadsheets), converted to and from RDF"


@dataclass(frozen=True)
class Format:
    """One format: how it is named, negotiated, described and written."""

    name: str
    media_type: str
    label: str
    kind: Kind
    # The format's IRI at https://www.w3.org/ns/formats/ (the service description names formats by it).
    w3c: str | None = None
    # pyoxigraph's serialiser and parser, where pyoxigraph writes or reads the format.
    oxigraph: ox.QueryResultsFormat | ox.RdfFormat | None = None
    # Other names the `format` parameter accepts, and other media types a body may be sent as.
    aliases: tuple[str, ...] = ()
    other_media_types: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    binary: bool = False  # not text (a workbook): no charset, no lines to show
    xml: bool = False  # XML 1.0, which cannot carry some characters a literal may hold (server.formats.xml_characters)

    @property
    def content_type(self) -> str:
        """The Content-Type header value (every text format is written in UTF-8)."""
        return self.media_type if self.binary else f"{self.media_type}; charset=utf-8"

    @property
    def media_types(self) -> tuple[str, ...]:
        """Every media type the format is known by, its own first."""
        return (self.media_type, *self.other_media_types)


SPARQL_JSON = Format("json", "application/sparql-results+json", "SPARQL JSON", Kind.SOLUTIONS,
                     W3C_FORMATS + "SPARQL_Results_JSON", ox.QueryResultsFormat.JSON, ("srj",))
SPARQL_XML = Format("xml", "application/sparql-results+xml", "SPARQL XML", Kind.SOLUTIONS,
                    W3C_FORMATS + "SPARQL_Results_XML", ox.QueryResultsFormat.XML, ("srx",), xml=True)
CSV = Format("csv", "text/csv", "CSV", Kind.SOLUTIONS, W3C_FORMATS + "SPARQL_Results_CSV", ox.QueryResultsFormat.CSV)
TSV = Format("tsv", "text/tab-separated-values", "TSV", Kind.SOLUTIONS, W3C_FORMATS + "SPARQL_Results_TSV",
             ox.QueryResultsFormat.TSV)
TURTLE = Format("turtle", "text/turtle", "Turtle", Kind.GRAPH, W3C_FORMATS + "Turtle", ox.RdfFormat.TURTLE, ("ttl",),
                ("application/x-turtle",), (".ttl",))
TRIG = Format("trig", "application/trig", "TriG", Kind.GRAPH, W3C_FORMATS + "TriG", ox.RdfFormat.TRIG, (), (), (".trig",))
NTRIPLES = Format("ntriples", "application/n-triples", "N-Triples", Kind.GRAPH, W3C_FORMATS + "N-Triples",
                  ox.RdfFormat.N_TRIPLES, ("nt",), (), (".nt",))
NQUADS = Format("nquads", "application/n-quads", "N-Quads", Kind.GRAPH, W3C_FORMATS + "N-Quads", ox.RdfFormat.N_QUADS,
                ("nq",), (), (".nq",))
JSONLD = Format("jsonld", "application/ld+json", "JSON-LD", Kind.GRAPH, W3C_FORMATS + "JSON-LD", ox.RdfFormat.JSON_LD,
                ("json-ld",), (), (".jsonld", ".json"))
RDFXML = Format("rdfxml", "application/rdf+xml", "RDF/XML", Kind.GRAPH, W3C_FORMATS + "RDF_XML", ox.RdfFormat.RDF_XML,
                ("rdf",), (), (".rdf", ".owl", ".xml"), xml=True)
# IATI activity files: read (converted into the vocabulary) and written (a project as an activity). Their
# extension, .xml, is RDF/XML's too: a file is taken for IATI when its root element says so (is_iati).
IATI = Format("iati", "application/xml", "IATI activity XML", Kind.RECORDS, aliases=("iati-xml",),
              other_media_types=("text/xml", "application/vnd.iati+xml"), xml=True)
# Spreadsheets of the template (`ilo-kg template`): a CSV file holds one sheet, a workbook all of them.
SHEET_CSV = Format("csv", "text/csv", "Spreadsheet sheet (CSV)", Kind.RECORDS, extensions=(".csv",))
XLSX = Format("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Spreadsheet (XLSX)",
              Kind.RECORDS, extensions=(".xlsx",), binary=True)
JSON = Format("json", "application/json", "JSON", Kind.JSON)
ROWS = Format("rows", "application/json", "JSON rows", Kind.JSON)
HTML = Format("html", "text/html", "HTML", Kind.PAGE)

FORMATS: tuple[Format, ...] = (
    SPARQL_JSON, SPARQL_XML, CSV, TSV, TURTLE, TRIG, NTRIPLES, NQUADS, JSONLD, RDFXML, IATI, SHEET_CSV, XLSX, JSON, ROWS,
    HTML,
)


@dataclass(frozen=True)
class Offer:
    """The formats one kind of answer may take, the server's preference first.

    `subject` names the answer in messages ("for this query"); `unacceptable` says what a request
    whose Accept fits none of them gets: "refuse" (406), "default" (the first format: RFC 9110
    allows disregarding Accept, which suits answers a person reads anyway), or "default-for-browsers"
    (the first format for a client that asks for HTML, so a browser sees the answer or its error;
    406 for any other).
    """

    formats: tuple[Format, ...]
    subject: str = ""
    unacceptable: Literal["refuse", "default", "default-for-browsers"] = "refuse"

    def named(self, value: str) -> Format | None:
        """The format a `format` parameter names: by name, alias or media type."""
        wanted = value.strip().lower()
        return next((f for f in self.formats if wanted == f.name or wanted in f.aliases or wanted in f.media_types), None)

    def negotiate(self, format_parameter: str | None, accept: str | None) -> Format:
        """The format a request asks for: its `format` parameter if given, else Accept (with q-values).

        Raises FormatError: 400 for a format parameter that names none of the offer, 406 when Accept
        allows none of it (unless `unacceptable` says otherwise).
        """
        for_subject = f" for {self.subject}" if self.subject else ""
        if format_parameter is not None and format_parameter.strip():
            chosen = self.named(format_parameter)
            if chosen is None:
                names = ", ".join(f.name for f in self.formats)
                raise FormatError(400, f"Unknown format {format_parameter.strip()[:40]!r}{for_subject}; use one of: {names}.")
            return chosen
        media_type = choose(accept, [f.media_type for f in self.formats])
        if media_type is not None:
            return next(f for f in self.formats if f.media_type == media_type)
        if self.unacceptable == "default" or (
            self.unacceptable == "default-for-browsers" and accepts_html(accept)
        ):
            return self.formats[0]
        offered = ", ".join(f.media_type for f in self.formats)
        raise FormatError(406, f"None of the accepted media types is available{for_subject}; available: {offered}.")


SOLUTION_FORMATS = (SPARQL_JSON, SPARQL_XML, CSV, TSV)
# ASK has no standard CSV or TSV form.
BOOLEAN_FORMATS = (SPARQL_JSON, SPARQL_XML)
GRAPH_FORMATS = (TURTLE, NTRIPLES, JSONLD, RDFXML)
# What the project reads (files, submissions): every RDF syntax pyoxigraph parses, and the formats partners hold
# their data in, converted into the vocabulary (server.exchange.inputs).
READABLE_SYNTAXES = (TURTLE, TRIG, NTRIPLES, NQUADS, JSONLD, RDFXML, IATI, SHEET_CSV, XLSX)

# /sparql, by the form of the query. A browser sent to /sparql sees the answer (or its error).
SELECT_ANSWER = Offer(SOLUTION_FORMATS, "this query", "default-for-browsers")
ASK_ANSWER = Offer(BOOLEAN_FORMATS, "this query", "default-for-browsers")
GRAPH_ANSWER = Offer(GRAPH_FORMATS, "this query", "default-for-browsers")
# A published resource (entity, vocabulary, dataset or service description): HTML second, as a
# client that accepts anything (*/*) is more likely an RDF tool than a person.
RESOURCE = Offer((TURTLE, HTML, NTRIPLES, JSONLD, RDFXML, IATI))
RESOURCE_WITHOUT_PAGE = Offer(GRAPH_FORMATS)
# A canned query's page of answers.
CANNED_PAGE = Offer((ROWS, SPARQL_JSON, CSV, TSV, SPARQL_XML, HTML))
# The catalogue of canned queries.
CATALOGUE = Offer((JSON, HTML))
# A validation report: JSON unless the client asks for Turtle or a page.
REPORT = Offer((JSON, TURTLE, HTML), unacceptable="default")
# A refusal on the submission pages: problem details (JSON), or the page for a browser.
REFUSAL = Offer((JSON, HTML), unacceptable="default")


def answer_offer(form: str | None) -> Offer:
    """The formats that can carry the answer of a SPARQL query of this form."""
    if form in ("CONSTRUCT", "DESCRIBE"):
        return GRAPH_ANSWER
    if form == "ASK":
        return ASK_ANSWER
    return SELECT_ANSWER
