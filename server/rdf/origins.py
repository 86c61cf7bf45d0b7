"""Where each fact of a converted document came from: the element and line of an XML file, the cell of a sheet.

IATI files and spreadsheets become RDF before they are validated; a finding about the RDF is only
useful if it points back at what the person wrote. A converter records, for each node it makes and
each (node, property) it writes, an Origin; the report then names the element path or cell, and the line.
"""

from dataclasses import dataclass, field

from rdflib import RDF, BNode, Graph
from rdflib.term import Node


@dataclass(frozen=True)
class Origin:
    """A place in the original file: a line (where lines mean something) and a path to it a person can follow."""

    where: str
    line: int | None = None


@dataclass
class OriginGraph:
    """An RDF graph being built from another format, with the origin of every node and statement."""

    graph: Graph = field(default_factory=Graph)
    # By (node, None), (node, property) and (node, property, value): where the node, the property, the statement is.
    origins: dict[tuple[Node, ...], Origin] = field(default_factory=dict)

    def node(self, node: Node, origin: Origin) -> Node:
        """Record where a node is described (its first description wins) and return it."""
        self.origins.setdefault((node, None), origin)
        return node

    def add(self, subject: Node, predicate: Node, value: Node, origin: Origin) -> None:
        """Add a statement, recording where its value was written."""
        self.graph.add((subject, predicate, value))
        self.origins.setdefault((subject, predicate, value), origin)
        self.origins.setdefault((subject, predicate), origin)
        self.origins.setdefault((subject, None), origin)

    def part(self, owner: Node, predicate: Node, kind: Node, origin: Origin) -> BNode:
        """A new blank node of the class kind that owner has by predicate, all written at origin."""
        node = self.node(BNode(), origin)
        self.add(owner, predicate, node, origin)
        self.add(node, RDF.type, kind, origin)
        return node  # type: ignore[return-value]

    def origin_of(self, subject: Node, predicate: Node | None, value: Node | None = None) -> Origin | None:
        """Where a statement was written (or, failing that, the property, or the subject)."""
        return (self.origins.get((subject, predicate, value)) or self.origins.get((subject, predicate))
                or self.origins.get((subject, None)))
