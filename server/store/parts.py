"""A graph's content cut into parts small enough for an engine to take as one update each.

Virtuoso 7.2 refuses an update whose template holds a few thousand triples (measured: "SP031: The length of
generated SQL text has exceeded 10000 lines" at 2,000 triples of typed literals, "SP030: memory exhausted" at
about 5,000), and takes the same triples in parts of a few hundred. A template's blank nodes are new nodes in each
update operation, so all the triples that share a blank node (directly or through others) go into one part.
"""

from collections.abc import Iterator

import pyoxigraph as ox

# Triples in a part. Measured on Virtuoso 7.2.5, 20,000 triples in parts of 250: 1.3 s; of 500: 1.8 s; of 1,000:
# 2.4 s (its cost per triple grows with the update's size); of 2,000: refused (SP031).
PART_TRIPLES = 250


def in_parts(ntriples: str, size: int = PART_TRIPLES) -> list[str]:
    """N-Triples in parts of at most `size` triples, each blank node's triples in one part (a part is larger only
    when more than `size` triples are linked by blank nodes). Each part is N-Triples; blank node labels are kept."""
    triples = list(ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES))
    root: dict[str, str] = {}

    def find(label: str) -> str:
        while root.setdefault(label, label) != label:
            root[label] = root[root[label]]  # halving the path keeps later look-ups short
            label = root[label]
        return label

    linked: list[list[str]] = []
    for triple in triples:
        labels = list(_blank_labels(triple))
        for label in labels[1:]:
            root[find(label)] = find(labels[0])
        linked.append(labels)
    groups: dict[str, list[ox.Quad]] = {}
    alone: list[list[ox.Quad]] = []
    for triple, labels in zip(triples, linked, strict=True):
        if labels:
            groups.setdefault(find(labels[0]), []).append(triple)
        else:
            alone.append([triple])
    parts: list[list[ox.Quad]] = [[]]
    for group in [*groups.values(), *alone]:
        if parts[-1] and len(parts[-1]) + len(group) > size:
            parts.append([])
        parts[-1].extend(group)
    return [(ox.serialize(part, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8") for part in parts if part]


def _blank_labels(term: object) -> Iterator[str]:
    """The labels of the blank nodes in a triple (or quad), those of its triple terms included."""
    if isinstance(term, ox.BlankNode):
        yield term.value
    elif isinstance(term, ox.Quad | ox.Triple):
        for part in (term.subject, term.object):
            yield from _blank_labels(part)
