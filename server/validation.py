"""Validation of RDF against the project's shapes, with findings a person can act on.

Only our own shapes are used, never shapes that arrive with the data (pyshacl, given no
shapes graph, would take them from the data). The ontology is mixed into the data graph for
its class hierarchy; no RDFS inference is run, so rdfs:range cannot make a wrong value
look right.
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
from server.namespaces import shorten
from server.parsing import ParsedDocument
from server.project_graphs import load_folder
from server.settings import Settings

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
    """The outcome of validating some documents."""

    conforms: bool
    findings: list[Finding]
    files: list[str]
    triples: int
    report_graph: Graph = field(repr=False)

    def count(self, severity: str) -> int:
        """How many findings have this severity."""
        return sum(1 for f in self.findings if f.severity == severity)


class Validator:
    """Validates documents against fixed shapes and ontology, optionally with context data."""

    def __init__(self, shapes: Graph, ontology: Graph, context: Graph | None = None):
        self._shapes = shapes
        self._ontology = ontology
        self._context = context

    @classmethod
    def from_settings(cls, settings: Settings, *, with_data: bool = False) -> "Validator":
        """The validator of the project's shapes and ontology, with the bundled data if asked."""
        context = load_folder(settings.data_dir) if with_data else None
        return cls(load_folder(settings.shapes_dir), load_folder(settings.ontology_dir), context)

    def validate(self, documents: Sequence[ParsedDocument]) -> Report:
        """Validate the union of the documents (and the context data, if any)."""
        data = _PreparedQueryGraph()
        for document in documents:
            data += document.graph
        triples = len(data)
        if self._context is not None:
            # The context conforms on its own, so every finding stems from the documents.
            # (pyshacl's focus_nodes option would be faster, but it also filters the value
            # nodes of nested sh:or/sh:node shapes, so literal values go unchecked.)
            data += self._context
        # The whole ontology goes into the data graph: pyshacl's own ont_graph mix-in copies
        # only class axioms, and the shapes also need the codelists (skos:inScheme).
        data += self._ontology
        conforms, report_graph, _ = pyshacl.validate(
            data,
            shacl_graph=self._shapes,
            inference=None,
            allow_warnings=True,
        )
        locators = [(d, NodeLocator(d)) for d in documents]
        # Only the report's own results: nested sh:detail results are ValidationResults too.
        results = report_graph.objects(None, SH.result)
        findings = [self._finding(report_graph, r, locators, data) for r in results]
        findings.sort(key=lambda f: (f.file or "~", f.line or 0, f.focus, f.severity, f.path or "", f.message))
        return Report(bool(conforms), findings, [d.source for d in documents], triples, report_graph)

    def _finding(
        self, report: Graph, result: Node, locators: list[tuple[ParsedDocument, NodeLocator]], data: Graph
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
