"""RDF documents the server publishes (entity descriptions, the vocabulary, the dataset's
description), written in any of the graph formats with the project's prefixes.

JSON-LD is compacted against the project's published context (served at /context.jsonld),
and refers to it by URL rather than repeating it, so that every document reads the same
short names. Turtle, N-Triples and RDF/XML are written by pyoxigraph.
"""

import json

import pyoxigraph as ox

from server.formats.registry import Format
from server.formats.xml_characters import xml_output
from server.namespaces import DISPLAY_PREFIXES

CONTEXT_PATH = "context.jsonld"


def jsonld_context() -> dict[str, str]:
    """The project's JSON-LD context: one prefix per namespace the project prints."""
    return dict(DISPLAY_PREFIXES)


def serialise(ntriples: bytes, result_format: Format, context_url: str) -> bytes:
    """N-Triples rewritten in a graph format; JSON-LD refers to its context by context_url."""
    if result_format.name == "ntriples":
        return ntriples
    if result_format.name == "jsonld":
        from server.rdf.parsing import graph_of_ntriples  # parsing reads the JSON-LD context from here

        graph = graph_of_ntriples(ntriples, "(store)")
        # rdflib compacts against the context given as data (it fetches nothing); the URL
        # then stands in for the same context, which the server publishes.
        document = json.loads(graph.serialize(format="json-ld", context=jsonld_context(), auto_compact=True))
        document["@context"] = context_url
        return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)]
    document = ox.serialize(triples, format=result_format.oxigraph, prefixes=_used_prefixes(ntriples)) or b""
    return xml_output(document, result_format) if result_format.xml else document


def _used_prefixes(ntriples: bytes) -> dict[str, str]:
    """The display prefixes whose namespace the triples mention (Turtle then declares only those)."""
    text = ntriples.decode("utf-8")
    return {prefix: namespace for prefix, namespace in DISPLAY_PREFIXES.items() if f"<{namespace}" in text}
