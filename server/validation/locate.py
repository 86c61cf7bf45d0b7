"""Where in a submitted text a node is written, so a report can point at the line.

Turtle, TriG, N-Triples and N-Quads write IRIs as <…> or as prefixed names; JSON-LD and
RDF/XML write them inside quotes. Lines where a node starts a statement (its subject
position) are preferred over lines that only mention it. Blank nodes have no spelling of
their own and are located through the named node whose description contains them. A
finding about one value is placed on the line of its triple: the predicate's (or the
value's, in a list of values) within the node's description, which runs to the next line
that starts at the margin, where the conventional layout starts the next description.
"""

import re
from collections.abc import Iterable

from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from server.rdf.origins import OriginGraph
from server.rdf.parsing import ParsedDocument, line_of_offset, line_starts

# A full IRI in angle brackets, a prefixed name (without a final '.'), or a quoted string.
_TOKEN = re.compile(r'<[^<>"\s]*>|(?:[A-Za-z][\w.-]*)?:[\w\-.:%]*[\w\-:%]|"[^"\n]*"')


class NodeLocator:
    """Finds the line of a node in one parsed document."""

    def __init__(self, document: ParsedDocument):
        self._document = document
        self._subject_line: dict[str, int] = {}
        self._any_line: dict[str, int] = {}
        # Every token in order: its line, its text, and whether it starts at the margin.
        self._tokens: list[tuple[int, str, bool]] = []
        starts = line_starts(document.text)
        previous_line = 0
        for match in _TOKEN.finditer(document.text):
            token = match.group()
            line = line_of_offset(starts, match.start())
            self._tokens.append((line, token, match.start() == starts[line - 1]))
            self._any_line.setdefault(token, line)
            if line != previous_line and not document.text[starts[line - 1] : match.start()].strip():
                self._subject_line.setdefault(token, line)
            previous_line = line

    def _spellings(self, iri: str) -> Iterable[str]:
        yield f"<{iri}>"
        yield f'"{iri}"'
        for prefix, namespace in self._document.prefixes.items():
            if iri.startswith(namespace):
                yield f"{prefix}:{iri[len(namespace):]}"

    def line_of(self, node: Node) -> int | None:
        """The line where node is best seen in the text, or None if it cannot be placed."""
        if isinstance(node, BNode):
            owner = self.named_owner(node)
            return self.line_of(owner) if owner is not None else None
        if not isinstance(node, URIRef):
            return None
        spellings = list(self._spellings(str(node)))
        for table in (self._subject_line, self._any_line):
            lines = [table[s] for s in spellings if s in table]
            if lines:
                return min(lines)
        return None

    def line_of_statement(self, subject: Node, predicate: Node | None, value: Node | None) -> int | None:
        """The line of the triple (subject, predicate, value) as written, else the subject's line."""
        start = self.line_of(subject)
        if start is None or not isinstance(predicate, URIRef):
            return start
        names = set(self._spellings(str(predicate)))
        values: set[str] = set()
        if isinstance(value, URIRef):
            values = set(self._spellings(str(value)))
        elif isinstance(value, Literal):
            values = {f'"{value}"'}
        found = None
        for line, token, at_margin in self._tokens:
            if line < start:
                continue
            if at_margin and line > start:
                break
            if token in names:
                if not values:
                    return line
                found = found or line
            elif found is not None and token in values:
                return line
        return found or start

    def where_of_statement(self, subject: Node, predicate: Node | None, value: Node | None = None) -> str | None:
        """For a converted file, the element or cell a statement came from; written RDF has only lines."""
        return None

    def named_owner(self, node: BNode) -> URIRef | None:
        """The nearest IRI whose description contains this blank node, if any."""
        seen: set[Node] = set()
        frontier: list[Node] = [node]
        while frontier:
            current = frontier.pop(0)
            if current in seen:
                continue
            seen.add(current)
            for subject in self._document.graph.subjects(None, current):
                if isinstance(subject, URIRef):
                    return subject
                frontier.append(subject)
        return None


class OriginLocator(NodeLocator):
    """Finds where a node of a converted file (IATI, spreadsheet) came from: the origins its converter recorded."""

    def __init__(self, document: ParsedDocument, origins: OriginGraph):
        self._document = document
        self._origins = origins

    def line_of(self, node: Node) -> int | None:
        origin = self._origins.origin_of(node, None)
        return origin.line if origin is not None else None

    def line_of_statement(self, subject: Node, predicate: Node | None, value: Node | None) -> int | None:
        origin = self._origins.origin_of(subject, predicate, value)
        return origin.line if origin is not None else None

    def where_of_statement(self, subject: Node, predicate: Node | None, value: Node | None = None) -> str | None:
        origin = self._origins.origin_of(subject, predicate, value)
        return origin.where if origin is not None else None


def locator_for(document: ParsedDocument) -> NodeLocator:
    """The locator that fits how the document was read: by its text, or by its converter's origins."""
    return OriginLocator(document, document.origins) if document.origins is not None else NodeLocator(document)
