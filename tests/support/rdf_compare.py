"""Comparing RDF graphs and datasets up to blank-node labels, fast (pyoxigraph's RDFC-1.0).

rdflib's isomorphic() takes minutes on graphs with hundreds of blank nodes (the shapes'
lists); canonical forms compare in milliseconds.
"""

import pyoxigraph as ox
from rdflib import Graph


def canonical_quads(quads: list[ox.Quad]) -> set[str]:
    """A dataset in canonical form (blank nodes relabelled by RDFC-1.0), as a set of N-Quads lines."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(str(dataset).splitlines())


def canonical(graph: Graph) -> set[str]:
    """An rdflib graph in canonical form, as a set of N-Triples lines."""
    data = graph.serialize(format="nt", encoding="utf-8")
    return canonical_quads(list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES)))
