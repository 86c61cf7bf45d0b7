"""Reading a submitted or local file into a document, whatever its format: RDF parsed, other formats converted.

The one entry point for input: RDF syntaxes go to pyoxigraph (server.rdf.parsing); IATI activity files
(iati_mapping) and the spreadsheet template's sheets (spreadsheets) are converted into the vocabulary, keeping
where each fact came from. Every path ends in the same ParsedDocument, checked by the same rules (size, IRIs),
so validation, submissions and the command line treat every format alike.
"""

import io
import json
from collections.abc import Iterable, Mapping

import pyoxigraph as ox
from rdflib import URIRef

from server.exchange.iati_mapping import convert
from server.exchange.spreadsheets import convert_csv, convert_workbook
from server.formats.registry import IATI, SHEET_CSV, Kind
from server.namespaces import ID, ILOP, RDF_TYPE
from server.rdf.parsing import ParsedDocument, TooManyTriplesError, decode, parse_rdf, refuse_unsafe_iris
from server.rdf.syntaxes import Format


def read_input(
    data: bytes, syntax: Format, source: str, max_triples: int | None = None, own_contexts: Iterable[str] = (),
    known: Mapping[str, str] | None = None,
) -> ParsedDocument:
    """The document a file holds. known: identifiers the graph records, with their IRIs ('org:REF', 'activity:ID'),
    so that converted files refer to what the graph already holds. Raises RdfInputError (with the place)."""
    if syntax.kind is not Kind.RECORDS:
        return parse_rdf(data, syntax, source, max_triples, own_contexts)
    notices: tuple[str, ...] = ()
    warnings: tuple[tuple[str, str, int | None, str], ...] = ()
    if syntax is IATI:
        text = decode(data, source)
        converted = convert(io.BytesIO(data), source, known or {})
        origins, supporting = converted.graph, converted.supporting
        notices = tuple(converted.header.notices) if converted.header else ()
        warnings = tuple(converted.schema_warnings)
    elif syntax is SHEET_CSV:
        text = decode(data, source)
        origins, supporting = convert_csv(text, source, known or {})
    else:  # a workbook: binary, no lines to show
        text = ""
        origins, supporting = convert_workbook(data, source, known or {})
    graph = origins.graph
    if max_triples is not None and len(graph) > max_triples:
        raise TooManyTriplesError(
            f"the file becomes {len(graph)} triples, more than the {max_triples} accepted at once; split it into "
            "smaller files (`ilo-kg import iati` does so)", source=source,
        )
    document = ParsedDocument(
        source, text, syntax, graph, {}, origins, frozenset(str(i) for i in supporting), notices, warnings,
    )
    refuse_unsafe_iris(document)
    return document


def refer_to_described(
    document: ParsedDocument, context_ntriples: bytes, described_elsewhere: Iterable[tuple[str, str]]
) -> ParsedDocument:
    """A converted document whose supporting descriptions (organisations, countries, sources) of things the graph
    describes already are removed: the file then refers to them, and the graph's description stands.

    Described already: by another accepted submission, or in the context (the project's own data).
    """
    if not document.supporting:
        return document
    elsewhere = {iri for iri, _ in described_elsewhere}
    elsewhere |= {
        quad.subject.value for quad in ox.parse(context_ntriples, format=ox.RdfFormat.N_TRIPLES)
        if quad.predicate.value == RDF_TYPE and isinstance(quad.subject, ox.NamedNode)
    }
    for iri in document.supporting & elsewhere:
        document.graph.remove((URIRef(iri), None, None))
    return document


# The identifiers converted files refer to things by, and the IRIs the graph gives them: organisations and
# activities by their IATI identifiers, where the graph records one on another IRI than the one an import would
# mint (described by hand: the ILO as organisation:ilo). Those an import minted are minted again the same way.
KNOWN_IDENTIFIERS_QUERY = f"""PREFIX ilop: <{ILOP}>
SELECT ?key ?iri WHERE {{
  {{ ?iri ilop:iatiOrganisationIdentifier ?id FILTER(!STRSTARTS(STR(?iri), "{ID}organisation/iati-"))
     BIND(CONCAT("org:", STR(?id)) AS ?key) }}
  UNION
  {{ ?iri ilop:iatiIdentifier ?id FILTER(!STRSTARTS(STR(?iri), "{ID}project/iati-"))
     BIND(CONCAT("activity:", STR(?id)) AS ?key) }}
  FILTER(isIRI(?iri))
}} ORDER BY ?key ?iri"""


def known_identifiers(results_json: bytes) -> dict[str, str]:
    """The answer of KNOWN_IDENTIFIERS_QUERY (SPARQL JSON) as identifier → IRI (the first IRI of each)."""
    known: dict[str, str] = {}
    for row in json.loads(results_json or b"{}").get("results", {}).get("bindings", []):
        known.setdefault(row["key"]["value"], row["iri"]["value"])
    return known
