"""RDF documents in the canonical form the store keeps, so stored and submitted triples compare equal."""

from dataclasses import replace

import pyoxigraph as ox

from server.rdf.parsing import ParsedDocument, parse_rdf
from server.rdf.syntaxes import BY_NAME


def canonical_triples(document: ParsedDocument) -> bytes:
    """The document's triples as N-Triples, with literals in the canonical form the store keeps.

    The store keeps "1200000.0"^^xsd:decimal as "1200000"; compared with the stored context,
    the same amount written the other way would count as a second value.
    """
    store = ox.Store()
    quads = ox.parse(document.graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    store.extend(quads)
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in store]
    return ox.serialize(sorted(triples, key=str), format=ox.RdfFormat.N_TRIPLES) or b""


def canonical(document: ParsedDocument) -> tuple[ParsedDocument, bytes]:
    """The document with its graph in canonical form, and that graph as N-Triples (see canonical_triples).

    The text and prefixes are kept, for locating nodes in what was submitted.
    """
    ntriples = canonical_triples(document)
    graph = parse_rdf(ntriples, BY_NAME["ntriples"], document.source).graph
    return replace(document, graph=graph), ntriples
