"""The neighbourhood of some nodes in a store: the context a submission is validated in.

Validating a submission merged into the whole store took 0.9 s at 1M triples; validating it
with only the triples its shapes can reach took 14 ms at any size. The shapes look at a focus
node's own triples, at the nodes those point to (their types for sh:class, their triples for
sh:node and SPARQL constraints, a few steps along paths), and, through inverse paths, at
the nodes that point to it with a few predicates. So from the seeds (the IRIs a submission
mentions) the walk follows outgoing triples `depth` steps, incoming triples of the named
inverse predicates at each step, every blank node to its end (a blank node is part of its
owner's description), and takes the types of the nodes where it stops. Objects of rdf:type
(classes) are not followed: the validator holds the whole ontology anyway; nor are a concept
scheme's top concepts (skos:hasTopConcept), which no shape looks at from the scheme: followed,
a theme's DAC sector would bring in all 286 DAC codes. Only their types are taken, for sh:class.

A file is validated as what it would add to the graph, never mixed with an earlier copy of
itself: for the nodes the file describes (its subjects), what only accepted submissions say of
them is left out of the context — it would double a value the file gives again, or supply one
the file lacks — and the walk reports which submissions describe them, so that the report can
say so. What the bundled data says of them stays: a submission may add to it.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from server.namespaces import RDF_TYPE, SKOS, SUBMISSION_GRAPHS

_RDF_TYPE = ox.NamedNode(RDF_TYPE)
# Predicates whose objects the walk does not follow (see the module's notes); of TYPED_ONLY's, it takes the types.
TYPED_ONLY = frozenset({SKOS + "hasTopConcept"})
NOT_FOLLOWED = frozenset({RDF_TYPE, *TYPED_ONLY})
_NOT_FOLLOWED = frozenset(ox.NamedNode(p) for p in NOT_FOLLOWED)
_TYPED_ONLY = frozenset(ox.NamedNode(p) for p in TYPED_ONLY)
_DEFAULT = ox.DefaultGraph()
# Enough pairs to name every overlapping submission for a file of ordinary size.
MAX_DESCRIBED_ELSEWHERE = 1000


@dataclass(frozen=True)
class Context:
    """The triples around a file's nodes (N-Triples), and the (IRI, submission graph) pairs where an
    accepted submission other than the excluded one describes a node the file describes too."""

    ntriples: bytes
    described_elsewhere: tuple[tuple[str, str], ...] = ()


class _Collector:
    """The triples collected so far. Iterative, and capped on every triple: a stored structure of any
    depth (an RDF list of a hundred thousand items is a chain of as many blank nodes) costs at most
    max_triples, never a recursion per link."""

    def __init__(self, store: ox.Store, max_triples: int, excluded: ox.NamedNode | None, own: set[ox.NamedNode]):
        self.store = store
        self.max_triples = max_triples
        self.excluded = excluded
        self.own = own
        self.triples: set[ox.Triple] = set()
        self.described: set[ox.NamedNode | ox.BlankNode] = set()
        self.elsewhere: set[tuple[str, str]] = set()
        self.typed_only: list[ox.NamedNode] = []

    @property
    def full(self) -> bool:
        return len(self.triples) >= self.max_triples

    def add(self, quads: Iterable[ox.Quad], reached: list[ox.NamedNode], follow: bool = True) -> None:
        """Take the quads, and the descriptions of the blank nodes they lead to, to their ends."""
        blanks: list[ox.BlankNode] = []
        self._take(quads, reached, follow, blanks)
        while blanks and not self.full:
            node = blanks.pop()
            self._take(self.store.quads_for_pattern(node, None, None, _DEFAULT), reached, True, blanks)

    def _take(self, quads: Iterable[ox.Quad], reached: list[ox.NamedNode], follow: bool, blanks: list[ox.BlankNode]) -> None:
        for quad in quads:
            if self.full:
                return
            if (self.excluded is not None or quad.subject in self.own) and not self._kept(quad):
                continue
            self.triples.add(ox.Triple(quad.subject, quad.predicate, quad.object))
            for node in (quad.subject, quad.object):
                if isinstance(node, ox.BlankNode) and node not in self.described:
                    self.described.add(node)
                    blanks.append(node)
            if follow and isinstance(quad.object, ox.NamedNode) and quad.predicate not in _NOT_FOLLOWED:
                reached.append(quad.object)
            elif isinstance(quad.object, ox.NamedNode) and quad.predicate in _TYPED_ONLY:
                self.typed_only.append(quad.object)

    def _kept(self, quad: ox.Quad) -> bool:
        """Whether the triple belongs in the context: asserted by a named graph other than the excluded
        one and, for a node the file describes, by one that is not an accepted submission."""
        graphs = {
            q.graph_name for q in self.store.quads_for_pattern(quad.subject, quad.predicate, quad.object, None)
            if isinstance(q.graph_name, ox.NamedNode) and q.graph_name != self.excluded
        }
        if quad.subject not in self.own:
            return bool(graphs)
        submissions = {g for g in graphs if g.value.startswith(SUBMISSION_GRAPHS)}
        for graph in submissions:
            if len(self.elsewhere) < MAX_DESCRIBED_ELSEWHERE:
                self.elsewhere.add((quad.subject.value, graph.value))  # type: ignore[union-attr]
        return bool(graphs - submissions)


def walk(
    store: ox.Store, seeds: Iterable[str], inverse_predicates: Iterable[str], depth: int, max_triples: int,
    excluded_graph: str | None = None, own_subjects: Iterable[str] = (),
) -> Context:
    """The triples of the default graph around the seed IRIs (see the module's notes).

    With excluded_graph, triples that only that named graph asserts are left out: the context
    of a replacement is the graph without the submission it replaces. own_subjects: the IRIs
    the file describes, whose stored descriptions by submissions are left out and reported.
    """
    own = {ox.NamedNode(s) for s in own_subjects}
    collector = _Collector(store, max_triples, ox.NamedNode(excluded_graph) if excluded_graph else None, own)
    inverse = [ox.NamedNode(p) for p in inverse_predicates]
    frontier = [ox.NamedNode(s) for s in seeds]
    for _ in range(depth):
        reached: list[ox.NamedNode] = []
        for node in frontier:
            if node in collector.described or collector.full:
                continue
            collector.described.add(node)
            collector.add(store.quads_for_pattern(node, None, None, _DEFAULT), reached)
            for predicate in inverse:
                incoming = list(store.quads_for_pattern(None, predicate, node, _DEFAULT))
                collector.add(incoming, reached, follow=False)
                reached.extend(q.subject for q in incoming if isinstance(q.subject, ox.NamedNode))
        frontier = reached
    for node in [*frontier, *collector.typed_only]:
        if node not in collector.described:
            collector.described.add(node)
            collector.add(store.quads_for_pattern(node, _RDF_TYPE, None, _DEFAULT), [], follow=False)
    ntriples = ox.serialize(sorted(collector.triples, key=str), format=ox.RdfFormat.N_TRIPLES) or b""
    return Context(ntriples, tuple(sorted(collector.elsewhere)))
