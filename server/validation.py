"""Validation of RDF against the project's shapes, with findings a person can act on.

Only our own shapes are used, never shapes that arrive with the data (pyshacl, given no
shapes graph, would take them from the data). The ontology is mixed into the data graph for
its class hierarchy; no RDFS inference is run, so rdfs:range cannot make a wrong value
look right.

Documents are validated with context: the triples around the nodes they mention, taken from
the stored graph (or the bundled data) by context_walk, so that references to existing
partners, countries and projects resolve. The context is a slice, so its own nodes may look
incomplete; findings are therefore kept only for nodes the documents mention.
"""

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pyshacl
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from server.locate import NodeLocator
from server.namespaces import ILOSH, shorten
from server.parsing import ParsedDocument
from server.project_graphs import load_folder
from server.settings import Settings

# Predicates along which shapes look at a node's incoming triples: the inverse paths of the
# shapes, and rdf:subject, by which link evidence records (rdf:Statement) point at a node.
_EXTRA_INVERSE = (str(RDF.subject),)
# The constraint component named in reports of the reserved-namespace rule.
_RESERVED = ILOSH.ReservedNamespaceConstraintComponent
# Steps of outgoing triples the context follows from the nodes a document mentions; the
# longest path in the shapes (signatory, post held, unit, unit of) needs four.
CONTEXT_DEPTH = 4

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
_TYPE_CONSTRAINTS = {SH.ClassConstraintComponent, SH.OrConstraintComponent, SH.NodeConstraintComponent}

# rdflib's SPARQL parser breaks when first used from several threads at once (rdflib
# issue 1282), so preparing queries is serialised.
_PREPARE_LOCK = threading.Lock()


@lru_cache(maxsize=512)
def _prepared(text: str) -> Query:
    with _PREPARE_LOCK:
        return prepareQuery(text)


class _PreparedQueryGraph(Graph):
    """A graph that parses each distinct SPARQL text once.

    pyshacl evaluates a SPARQL constraint by handing rdflib the query text with $this bound
    through initBindings, once per focus node; rdflib would parse the text every time (about
    40 ms each), which dominated validation time.
    """

    def query(  # type: ignore[override]
        self,
        query_object: str | Query,
        processor: str = "sparql",
        result: str = "sparql",
        initNs: Mapping[str, Any] | None = None,  # noqa: N803 (rdflib's name)
        initBindings: Mapping[str, Node] | None = None,  # noqa: N803
        use_store_provided: bool = True,
        **kwargs: Any,
    ) -> Any:
        if isinstance(query_object, str) and not initNs:
            query_object = _prepared(query_object)
        return super().query(query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs)


@dataclass(frozen=True)
class Finding:
    """One result of validation: which node, which property, which rule, and where."""

    severity: str
    focus: str
    path: str | None
    value: str | None
    message: str
    shape: str
    constraint: str
    file: str | None = None
    line: int | None = None
    within: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Finding":
        """A finding from its JSON form (as_dict), as a server's report gives it."""
        return cls(
            data["severity"], data["focusNode"], data.get("path"), data.get("value"), data["message"], data["shape"],
            data["constraint"], data.get("file"), data.get("line"), data.get("within"),
        )

    def as_dict(self) -> dict[str, object]:
        """The finding as plain JSON-ready data."""
        return {
            "severity": self.severity,
            "focusNode": self.focus,
            "path": self.path,
            "value": self.value,
            "message": self.message,
            "shape": self.shape,
            "constraint": self.constraint,
            "file": self.file,
            "line": self.line,
            "within": self.within,
        }


@dataclass
class Report:
    """The outcome of validating some documents (plain data: it crosses process boundaries)."""

    conforms: bool
    findings: list[Finding]
    files: list[str]
    triples: int
    report_turtle: str = field(repr=False)

    def count(self, severity: str) -> int:
        """How many findings have this severity."""
        return sum(1 for f in self.findings if f.severity == severity)


class Validator:
    """Validates documents against fixed shapes and ontology, in the context of given triples."""

    def __init__(self, shapes: Graph, ontology: Graph):
        self._shapes = shapes
        self._ontology = ontology
        inverse = {str(p) for p in shapes.objects(None, SH.inversePath) if isinstance(p, URIRef)}
        self.inverse_predicates: tuple[str, ...] = tuple(sorted(inverse | set(_EXTRA_INVERSE)))

    @classmethod
    def from_settings(cls, settings: Settings) -> "Validator":
        """The validator of the project's shapes and ontology."""
        return cls(load_folder(settings.shapes_dir), load_folder(settings.ontology_dir))

    def validate(
        self, documents: Sequence[ParsedDocument], context: Graph | None = None, reserved: Sequence[str] = ()
    ) -> Report:
        """Validate the union of the documents, in the context of the given triples if any.

        With a context, only findings about nodes the documents mention are kept: the context
        is a slice of a graph that conforms, cut off where the walk stopped. IRIs under a
        reserved namespace may not be described (be the subject of a triple) at all.
        """
        data = _PreparedQueryGraph()
        for document in documents:
            data += document.graph
        triples = len(data)
        if context is not None:
            # (pyshacl's focus_nodes option would be faster, but it also filters the value
            # nodes of nested sh:or/sh:node shapes, so literal values go unchecked.)
            data += context
        # The whole ontology goes into the data graph: pyshacl's own ont_graph mix-in copies
        # only class axioms, and the shapes also need the codelists (skos:inScheme).
        data += self._ontology
        _, report_graph, _ = pyshacl.validate(
            data,
            shacl_graph=self._shapes,
            inference=None,
            allow_warnings=True,
            # The data graph is built afresh for each call, so pyshacl need not copy it
            # (the copy took three quarters of the time of a small submission's validation).
            inplace=True,
        )
        locators = [(d, NodeLocator(d)) for d in documents]
        # Only the report's own results: nested sh:detail results are ValidationResults too.
        results = list(report_graph.objects(None, SH.result))
        found = [(r, self._finding(report_graph, r, locators, data, context is not None)) for r in results]
        if context is not None:
            found = [(r, f) for r, f in found if f.file is not None]
        found += _reserved_results(report_graph, locators, reserved)
        found.sort(key=lambda rf: _order(rf[1]))
        findings = [f for _, f in found]
        conforms = not any(f.severity == "Violation" for f in findings)
        turtle = _report_turtle(report_graph, conforms, [r for r, _ in found])
        return Report(conforms, findings, [d.source for d in documents], triples, turtle)

    def seeds(self, documents: Sequence[ParsedDocument]) -> list[str]:
        """The IRIs the documents mention as subject or object: where the context walk starts."""
        iris: set[str] = set()
        for document in documents:
            for subject, _, obj in document.graph:
                iris.update(str(n) for n in (subject, obj) if isinstance(n, URIRef))
        return sorted(iris)

    def _finding(
        self, report: Graph, result: Node, locators: list[tuple[ParsedDocument, NodeLocator]], data: Graph,
        with_context: bool,
    ) -> Finding:
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        source_shape = report.value(result, SH.sourceShape)
        messages = [str(m) for m in report.objects(result, SH.resultMessage)]
        constraint = report.value(result, SH.sourceConstraintComponent)
        if isinstance(value, URIRef) and constraint in _TYPE_CONSTRAINTS and (value, None, None) not in data:
            # The usual cause is a reference to something described elsewhere.
            messages.append(
                f"({shorten(str(value))} is described neither in the input nor in the graph it is "
                "validated against; a reference to something new needs its description.)"
                if with_context else
                f"({shorten(str(value))} is not described in the data validated; if it is part of the "
                "bundled data, validate together with it: --with-data.)"
            )
        file, line, within = None, None, None
        for document, locator in locators:
            if focus is not None and (focus, None, None) in document.graph or (None, None, focus) in document.graph:
                file, line = document.source, locator.line_of(focus)
                if isinstance(focus, BNode):
                    owner = locator.named_owner(focus)
                    within = shorten(str(owner)) if owner is not None else None
                break
        return Finding(
            severity=SEVERITIES.get(report.value(result, SH.resultSeverity), "Violation"),
            focus=_display(focus),
            path=_display_path(self._shapes if path is None else report, path),
            value=None if value is None else _display(value),
            message=" ".join(messages) or "(no message)",
            shape=self._shape_name(source_shape),
            constraint=shorten(str(constraint)),
            file=file,
            line=line,
            within=within,
        )

    def _shape_name(self, shape: Node | None) -> str:
        """A named node shape for a result: the shape itself, or the one that uses it."""
        seen: set[Node] = set()
        while isinstance(shape, BNode) and shape not in seen:
            seen.add(shape)
            parent = next(self._shapes.subjects(None, shape), None)
            if parent is None:
                break
            shape = parent
        return "(anonymous shape)" if shape is None or isinstance(shape, BNode) else shorten(str(shape))


_RESERVED_MESSAGE = (
    "{iri} is in a namespace the graph keeps for its own records, vocabulary and codes, so a submission "
    "may not describe it; refer to it, or describe your own resources under another IRI."
)


def _reserved_results(
    report: Graph, locators: list[tuple[ParsedDocument, NodeLocator]], reserved: Sequence[str]
) -> list[tuple[Node, Finding]]:
    """A violation for each IRI under a reserved namespace that a document describes."""
    found = []
    for document, locator in locators:
        subjects = {s for s in document.graph.subjects() if isinstance(s, URIRef) and str(s).startswith(tuple(reserved))}
        for subject in sorted(subjects):
            message = _RESERVED_MESSAGE.format(iri=shorten(str(subject)))
            result = BNode()
            for predicate, obj in (
                (RDF.type, SH.ValidationResult), (SH.focusNode, subject), (SH.resultSeverity, SH.Violation),
                (SH.resultMessage, Literal(message, lang="en")), (SH.sourceConstraintComponent, _RESERVED),
            ):
                report.add((result, predicate, obj))
            finding = Finding(
                "Violation", _display(subject), None, None, message, "(submission rules)", shorten(str(_RESERVED)),
                document.source, locator.line_of(subject),
            )
            found.append((result, finding))
    return found


def _order(finding: Finding) -> tuple[str, int, str, str, str, str]:
    return (finding.file or "~", finding.line or 0, finding.focus, finding.severity, finding.path or "", finding.message)


def _report_turtle(report: Graph, conforms: bool, results: list[Node]) -> str:
    """The SHACL report in Turtle, holding only the kept results, each with what it refers to."""
    kept = Graph()
    for prefix, namespace in report.namespaces():
        kept.bind(prefix, namespace, override=True)
    node = BNode()
    kept.add((node, RDF.type, SH.ValidationReport))
    kept.add((node, SH.conforms, Literal(conforms)))
    pending = list(results)
    for result in results:
        kept.add((node, SH.result, result))
    seen: set[Node] = set()
    while pending:
        subject = pending.pop()
        if subject in seen:
            continue
        seen.add(subject)
        for _, predicate, obj in report.triples((subject, None, None)):
            kept.add((subject, predicate, obj))
            if isinstance(obj, BNode):
                pending.append(obj)
    return kept.serialize(format="turtle")


def _display(node: Node | None) -> str:
    if node is None:
        return "(none)"
    if isinstance(node, URIRef):
        return shorten(str(node))
    if isinstance(node, BNode):
        return "[]"
    if isinstance(node, Literal):
        text = json.dumps(str(node), ensure_ascii=False)
        if node.language:
            return f"{text}@{node.language}"
        return f"{text}^^{shorten(str(node.datatype))}" if node.datatype else text
    return str(node)


def _display_path(graph: Graph, path: Node | None) -> str | None:
    """A SHACL property path in SPARQL notation, such as ^ilop:hasComponent."""
    if path is None:
        return None
    if isinstance(path, URIRef):
        return shorten(str(path))
    inverse = graph.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + (_display_path(graph, inverse) or "?")
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return "|".join(_display_path(graph, p) or "?" for p in Collection(graph, alternatives))
    if graph.value(path, RDF.first) is not None:
        return "/".join(_display_path(graph, p) or "?" for p in Collection(graph, path))
    return "[]"
