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

from collections.abc import Sequence

import pyoxigraph as ox
from pyshacl.graph_abstraction import DataGraph
from pyshacl.pytypes import SHACLExecutor
from pyshacl.shapes_graph import ShapesGraph
from pyshacl.validator import Validator as ShaclRunner
from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from server.namespaces import shorten
from server.rdf.display import display_node, display_path
from server.rdf.parsing import ParsedDocument, add_quads
from server.rdf.project_graphs import load_folder
from server.settings import Settings
from server.validation.locate import NodeLocator, locator_for
from server.validation.pyshacl_speedups import FrozenGraph, PreparedQueryGraph
from server.validation.report import Finding, Report
from server.validation.submission_rules import checked_classes, submission_rule_results

# Predicates along which shapes look at a node's incoming triples: the inverse paths of the
# shapes, and rdf:subject, by which link evidence records (rdf:Statement) point at a node.
_EXTRA_INVERSE = (str(RDF.subject),)
# Steps of outgoing triples the context follows from the nodes a document mentions; the
# longest path in the shapes (signatory, post held, unit, unit of) needs four.
CONTEXT_DEPTH = 4

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
_TYPE_CONSTRAINTS = {SH.ClassConstraintComponent, SH.OrConstraintComponent, SH.NodeConstraintComponent}


class Validator:
    """Validates documents against fixed shapes and ontology, in the context of given triples.

    One validation at a time per instance: the harvested shapes are pyshacl objects with
    caches of their own (the server runs one instance per worker process).
    """

    def __init__(self, shapes: Graph, ontology: Graph):
        self._shapes = shapes = FrozenGraph(shapes)
        # Harvested once: pyshacl.validate would rebuild the shapes (some with long sh:in
        # lists) on every call.
        self._shapes_graph = ShapesGraph(shapes)
        self._top_shapes = list(self._shapes_graph.shapes)
        self._ontology = ontology
        # A context taken from the store already holds the codelists and terms around the
        # documents' nodes; what the walk may not reach is the class hierarchy for sh:class.
        self._class_axioms = Graph()
        self._class_axioms += ontology.triples((None, RDFS.subClassOf, None))
        self._checked_classes = checked_classes(shapes, ontology)
        inverse = {str(p) for p in shapes.objects(None, SH.inversePath) if isinstance(p, URIRef)}
        self.inverse_predicates: tuple[str, ...] = tuple(sorted(inverse | set(_EXTRA_INVERSE)))

    @classmethod
    def from_settings(cls, settings: Settings) -> "Validator":
        """The validator of the project's shapes and ontology."""
        return cls(load_folder(settings.shapes_dir), load_folder(settings.ontology_dir))

    def validate(
        self, documents: Sequence[ParsedDocument], context: bytes | None = None, reserved: Sequence[str] = (),
        described_elsewhere: Sequence[tuple[str, str]] = (),
    ) -> Report:
        """Validate the union of the documents, in the context of the given triples (N-Triples) if any.

        With a context, only findings about nodes the documents mention are kept: the context
        is a slice of a graph that conforms, cut off where the walk stopped. IRIs under a
        reserved namespace may not be described (be the subject of a triple) at all, nor IRIs
        an accepted submission describes (described_elsewhere: (IRI, submission graph) pairs).
        """
        data = PreparedQueryGraph()
        for document in documents:
            data += document.graph
        triples = len(data)
        # With a context, only the documents' own nodes are focus nodes: the context's nodes
        # would be checked only for their findings to be discarded.
        focus = _mentioned_nodes(data) if context is not None else None
        if context is not None:
            # Read straight into the data graph: the context comes from our own store.
            add_quads(data, ox.parse(context, format=ox.RdfFormat.N_TRIPLES), "(context)")
            data += self._class_axioms
        else:
            # Without context, the whole ontology: pyshacl's own ont_graph mix-in copies only
            # class axioms, and the shapes also need the codelists (skos:inScheme).
            data += self._ontology
        report_graph = self._run(data, focus)
        locators = [(d, locator_for(d)) for d in documents]
        # Only the report's own results: nested sh:detail results are ValidationResults too.
        results = list(report_graph.objects(None, SH.result))
        found = [(r, self._finding(report_graph, r, locators, data, context is not None)) for r in results]
        if context is not None:
            found = [(r, f) for r, f in found if f.file is not None]
        found = _without_consequences(found)
        found += submission_rule_results(
            report_graph, locators, reserved, data, self._checked_classes, described_elsewhere
        )
        findings = sorted([f for _, f in found] + [f for d in documents for f in _read_findings(d)], key=_order)
        conforms = not any(f.severity == "Violation" for f in findings)
        turtle = _report_turtle(report_graph, conforms, [r for r, _ in found])
        return Report(conforms, findings, [d.source for d in documents], triples, turtle)

    def _run(self, data: Graph, focus: set[Node] | None) -> Graph:
        """pyshacl's validation loop over the harvested shapes, on the given focus nodes only.

        pyshacl's own focus_nodes option cannot serve: it drops blank-node focus nodes and
        also filters the value nodes of nested sh:node/sh:or shapes, so literal values would
        go unchecked. Here the filter applies to the top-level targets alone.
        """
        target = DataGraph.from_rdflib(data)
        executor = SHACLExecutor(allow_warnings=True)
        conforms, results = True, []
        for shape in self._top_shapes:
            nodes = shape.focus_nodes(target)
            if focus is not None:
                nodes = {n for n in nodes if n in focus}
            if not nodes:
                continue
            shape_conforms, shape_results = shape.validate(executor, target, focus=list(nodes))
            conforms = conforms and shape_conforms
            results.extend(shape_results)
        report_graph, _ = ShaclRunner.create_validation_report(self._shapes_graph, conforms, results)
        return report_graph

    @staticmethod
    def described(documents: Sequence[ParsedDocument]) -> list[str]:
        """The IRIs the documents describe (are subjects in them), other than what a converter described only in
        support: those are fetched like any other node, so that the stored description, where there is one, stands
        (see server.exchange.inputs.refer_to_described)."""
        return sorted({str(s) for d in documents for s in d.graph.subjects() if isinstance(s, URIRef)
                       and str(s) not in d.supporting})

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
        file, line, within, where = None, None, None, None
        for document, locator in _placing(locators, focus, path):
            if focus is not None and (focus, None, None) in document.graph or (None, None, focus) in document.graph:
                file, line = document.source, locator.line_of_statement(focus, path, value)
                where = locator.where_of_statement(focus, path, value)
                if isinstance(focus, BNode):
                    owner = locator.named_owner(focus)
                    within = shorten(str(owner)) if owner is not None else None
                break
        return Finding(
            severity=SEVERITIES.get(report.value(result, SH.resultSeverity), "Violation"),
            focus=display_node(focus),
            path=display_path(self._shapes if path is None else report, path),
            value=None if value is None else display_node(value),
            message=" ".join(messages) or "(no message)",
            shape=self._shape_name(source_shape),
            constraint=shorten(str(constraint)),
            file=file,
            line=line,
            within=within,
            where=where,
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


# Comparisons that a value of the wrong datatype fails only because it is not a number or date.
_COMPARISONS = {shorten(str(SH[name])) for name in (
    "MinInclusiveConstraintComponent", "MaxInclusiveConstraintComponent",
    "MinExclusiveConstraintComponent", "MaxExclusiveConstraintComponent",
)}


def _without_consequences(found: list[tuple[Node, Finding]]) -> list[tuple[Node, Finding]]:
    """The findings without those that only follow from another: a value of the wrong datatype is reported
    once, for its datatype, not again as "negative" or "too large" by a comparison it cannot take part in."""
    mistyped = {(f.focus, f.path, f.value) for _, f in found if f.constraint == "sh:DatatypeConstraintComponent"}
    return [(r, f) for r, f in found if not (f.constraint in _COMPARISONS and (f.focus, f.path, f.value) in mistyped)]


def _mentioned_nodes(graph: Graph) -> set[Node]:
    """The IRIs and blank nodes a graph mentions as subject or object."""
    nodes: set[Node] = set()
    for subject, _, obj in graph:
        nodes.add(subject)
        if isinstance(obj, (URIRef, BNode)):
            nodes.add(obj)
    return nodes


def _read_findings(document: ParsedDocument) -> list[Finding]:
    """What reading the document found (a converted file's own schema), as warnings beside the shapes' findings.

    Warnings, not violations: files in use often stray from their schema in ways the mapping does not depend on,
    and the shapes check everything the graph keeps. They are not in the SHACL (Turtle) report, which is the shapes'.
    """
    return [
        Finding("Warning", display_node(URIRef(focus)), None, None, message, "(the format's schema)", "xsd:schema",
                document.source, line, None, where)
        for focus, where, line, message in document.warnings
    ]


def _placing(
    locators: list[tuple[ParsedDocument, NodeLocator]], focus: Node | None, path: Node | None
) -> list[tuple[ParsedDocument, NodeLocator]]:
    """The documents in the order a finding is placed in them: first one that states the property, then one that
    types the node (its main description), then the rest; a node several files describe is placed where it is
    described, not in the first file that mentions it."""
    def rank(pair: tuple[ParsedDocument, NodeLocator]) -> int:
        graph = pair[0].graph
        if isinstance(path, URIRef) and (focus, path, None) in graph:
            return 0
        return 1 if (focus, RDF.type, None) in graph else 2
    return sorted(locators, key=rank)


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
