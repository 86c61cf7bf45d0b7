"""Validation in the context of the bundled data, computed as the server computes it from its store.

The CLI and the tests validate files against the bundled data; the server validates
submissions against its on-disk store. Both take the context with the same walk
(context_walk), so a file gets the same report from `ilo-kg validate --with-data` as from
POST /validate on a server holding the same data.
"""

from collections.abc import Sequence
from dataclasses import replace

import pyoxigraph as ox

from server.context_walk import walk
from server.parsing import ParsedDocument, parse_rdf
from server.project_graphs import turtle_files
from server.rdf_formats import BY_NAME
from server.settings import Settings
from server.validation import CONTEXT_DEPTH, Report, Validator


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


class BundledDataValidator:
    """The project's validator with the ontology and bundled data as context."""

    def __init__(self, settings: Settings, validator: Validator | None = None):
        self.validator = validator or Validator.from_settings(settings)
        self._store = ox.Store()
        for folder in (settings.ontology_dir, settings.data_dir):
            for path in turtle_files(folder):
                self._store.load(path=str(path), format=ox.RdfFormat.TURTLE)
        self._max_triples = settings.max_context_triples

    def validate(self, documents: Sequence[ParsedDocument]) -> Report:
        """Validate documents with the triples around the nodes they mention as context."""
        documents = [canonical(d)[0] for d in documents]
        seeds = self.validator.seeds(documents)
        ntriples = walk(self._store, seeds, self.validator.inverse_predicates, CONTEXT_DEPTH, self._max_triples)
        return self.validator.validate(documents, ntriples)
