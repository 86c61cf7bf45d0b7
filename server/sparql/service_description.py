"""The SPARQL 1.1 Service Description of the endpoint, built from what the store holds."""

import pyoxigraph as ox

from server.formats.registry import GRAPH_FORMATS, SOLUTION_FORMATS, Format
from server.namespaces import DCTERMS, RDF_TYPE, SD, VOID, W3C_FORMATS
from server.store.embedded import StoreInfo

_RDF_TYPE = ox.NamedNode(RDF_TYPE)
_DCTERMS_TITLE = ox.NamedNode(DCTERMS + "title")

def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))


def _sd(term: str) -> ox.NamedNode:
    return ox.NamedNode(SD + term)


def service_description(endpoint: str, info: StoreInfo, federation: bool, dataset_description: str) -> list[ox.Triple]:
    """The triples describing the service at `endpoint` and its default dataset (described in VoID at dataset_description)."""
    service = ox.NamedNode(endpoint)
    # Blank nodes named by their place: the same store is described in the same bytes (a strong ETag).
    dataset, default_graph = ox.BlankNode("dataset"), ox.BlankNode("default")
    triples = [
        ox.Triple(service, _RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), service),
        ox.Triple(service, _DCTERMS_TITLE, ox.Literal("ILO partnerships knowledge graph", language="en")),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        ox.Triple(service, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, _RDF_TYPE, _sd("Dataset")),
        ox.Triple(dataset, _sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, _RDF_TYPE, _sd("Graph")),
        ox.Triple(default_graph, ox.NamedNode(VOID + "triples"), _integer(info.triples)),
        ox.Triple(dataset, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#seeAlso"), ox.NamedNode(dataset_description)),
    ]
    if federation:
        triples.append(ox.Triple(service, _sd("feature"), _sd("BasicFederatedQuery")))
    for fmt in (*SOLUTION_FORMATS, *GRAPH_FORMATS):
        triples.append(ox.Triple(service, _sd("resultFormat"), ox.NamedNode(fmt.w3c)))
    for number, graph in enumerate(info.graphs):
        named, description = ox.BlankNode(f"named{number}"), ox.BlankNode(f"graph{number}")
        triples += [
            ox.Triple(dataset, _sd("namedGraph"), named),
            ox.Triple(named, _RDF_TYPE, _sd("NamedGraph")),
            ox.Triple(named, _sd("name"), ox.NamedNode(graph.iri)),
            ox.Triple(named, _sd("graph"), description),
            ox.Triple(description, _RDF_TYPE, _sd("Graph")),
            ox.Triple(description, ox.NamedNode(VOID + "triples"), _integer(graph.triples)),
        ]
    return triples


def serialise(triples: list[ox.Triple], result_format: Format) -> bytes:
    """The description in one of the graph formats."""
    return ox.serialize(triples, format=result_format.oxigraph, prefixes={"sd": SD, "void": VOID, "formats": W3C_FORMATS})
