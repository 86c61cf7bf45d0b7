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

import pyoxigraph as ox
from pyshacl.graph_abstraction import DataGraph
from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper
from pyshacl.pytypes import SHACLExecutor
from pyshacl.shapes_graph import ShapesGraph
from pyshacl.validator import Validator as ShaclRunner
from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from server.locate import NodeLocator
from server.namespaces import ILOSH, shorten
from server.parsing import ParsedDocument, add_quads
from server.project_graphs import load_folder
from server.settings import Settings
from server.submission_records import SUBMISSION_GRAPHS

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


def _remember_sparql_checks() -> None:
    """Make pyshacl check each SPARQL constraint's text once, not once per focus node.

    pyshacl runs five regular expressions over the text of a SPARQL-based constraint every
    time it binds $this (a third of a small submission's validation time). The check depends
    only on the text and which variables may be pre-bound, so its outcome is remembered;
    a text that fails still raises every time.
    """
    check = SPARQLQueryHelper.check_invalid_sparql
    if getattr(check, "remembered", False):
        return
    passed: set[tuple[str, bool, frozenset[str]]] = set()

    def remembered(self: SPARQLQueryHelper, sparql_text: str, valuenode: Any = None, extravars: Any = None) -> bool:
        key = (sparql_text, valuenode is not None, frozenset(extravars or ()))
        if key not in passed:
            check(self, sparql_text, valuenode=valuenode, extravars=extravars)
            passed.add(key)
        return True

    remembered.remembered = True  # type: ignore[attr-defined]
    SPARQLQueryHelper.check_invalid_sparql = remembered  # type: ignore[method-assign]


class _FrozenGraph(Graph):
    """A graph that is not changed after it is built, so its answers can be remembered.

    pyshacl reads the shapes graph again each time it checks a constraint (for sh:in, it walks
    the whole list: 250 country codes), per shape evaluation, per call.
    """

    def __init__(self, source: Graph):
        super().__init__()
        self._answers: dict[tuple[Any, Any, Any], list[Any]] = {}
        for prefix, namespace in source.namespaces():
            self.bind(prefix, namespace, override=True)
        self += source
        self._answers.clear()

    def triples(self, triple: tuple[Any, Any, Any]):  # type: ignore[no-untyped-def, override]
        if not all(t is None or isinstance(t, Node) for t in triple):
            # A property path in predicate position: rdflib evaluates it with other calls.
            yield from super().triples(triple)
            return
        answer = self._answers.get(triple)
        if answer is None:
            answer = self._answers[triple] = list(super().triples(triple))
        yield from answer

    def items(self, list: Node):  # type: ignore[no-untyped-def, override]  # noqa: A002 (rdflib's name)
        key = (list, RDF.rest, RDF.nil)  # not a triple pattern: the key of a whole list's items
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = [*super().items(list)]
        yield from answer


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
    # What the report says besides its findings: that the file is stored already, what it replaces.
    notices: list[str] = field(default_factory=list)

    def count(self, severity: str) -> int:
        """How many findings have this severity."""
        return sum(1 for f in self.findings if f.severity == severity)


class Validator:
    """Validates documents against fixed shapes and ontology, in the context of given triples.

    One validation at a time per instance: the harvested shapes are pyshacl objects with
    caches of their own (the server runs one instance per worker process).
    """

    def __init__(self, shapes: Graph, ontology: Graph):
        _remember_sparql_checks()
        self._shapes = shapes = _FrozenGraph(shapes)
        # Harvested once: pyshacl.validate would rebuild the shapes (some with long sh:in
        # lists) on every call.
        self._shapes_graph = ShapesGraph(shapes)
        self._top_shapes = list(self._shapes_graph.shapes)
        self._ontology = ontology
        # A context taken from the store already holds the codelists and terms around the
        # documents' nodes; what the walk may not reach is the class hierarchy for sh:class.
        self._class_axioms = Graph()
        self._class_axioms += ontology.triples((None, RDFS.subClassOf, None))
        self._checked_classes = _checked_classes(shapes, ontology)
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
        data = _PreparedQueryGraph()
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
        locators = [(d, NodeLocator(d)) for d in documents]
        # Only the report's own results: nested sh:detail results are ValidationResults too.
        results = list(report_graph.objects(None, SH.result))
        found = [(r, self._finding(report_graph, r, locators, data, context is not None)) for r in results]
        if context is not None:
            found = [(r, f) for r, f in found if f.file is not None]
        found = _without_consequences(found)
        found += _submission_rule_results(
            report_graph, locators, reserved, data, self._checked_classes, described_elsewhere
        )
        found.sort(key=lambda rf: _order(rf[1]))
        findings = [f for _, f in found]
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
        """The IRIs the documents describe (are subjects in them)."""
        return sorted({str(s) for d in documents for s in d.graph.subjects() if isinstance(s, URIRef)})

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
                file, line = document.source, locator.line_of_statement(focus, path, value)
                if isinstance(focus, BNode):
                    owner = locator.named_owner(focus)
                    within = shorten(str(owner)) if owner is not None else None
                break
        return Finding(
            severity=SEVERITIES.get(report.value(result, SH.resultSeverity), "Violation"),
            focus=_display(focus),
            path=display_path(self._shapes if path is None else report, path),
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


_IMPORTS_MESSAGE = (
    "owl:imports <{iri}>: a submission may not import other documents (the server fetches nothing, so the "
    "import would only pretend); put the triples you need in the submission itself."
)


_BLANK_ROOT_MESSAGE = (
    "A blank node ([ … ] or _:b) that no named resource of the file points at: nothing could refer to it, "
    "replace it or withdraw it alone. Name it with an IRI, or describe it inside the resource it belongs to."
)


_UNCHECKED_CLASS_MESSAGE = (
    "{iri} is typed only with {classes}, which no shape of the graph checks: use a class of the vocabulary "
    "(ilop:Project, org:Organization…), or the resource would enter the graph unchecked."
)


_DESCRIBED_ELSEWHERE_MESSAGE = (
    "{iri} is described already by submission {id}: a second submission would add a second description to "
    "it, not change it. To change it, check and send this file as the replacement of {id} (replaces={id} "
    "on /validate, PUT /submissions/{id}, --replaces {id}); to add to it, describe only new resources and "
    "refer to {iri}."
)


_UNTYPED_MESSAGE = (
    "{iri} has no rdf:type, so no rule of the graph applies to it: say what it is with a class of the "
    "vocabulary (a ilop:Project, an org:Organization…)."
)


def _checked_classes(shapes: Graph, ontology: Graph) -> frozenset[Node]:
    """The classes some shape targets (sh:targetClass, or a shape that is itself a class), and their subclasses."""
    checked = set(shapes.objects(None, SH.targetClass))
    checked |= {s for s in shapes.subjects(RDF.type, SH.NodeShape) if (s, RDF.type, RDFS.Class) in shapes
                or (s, RDF.type, OWL.Class) in shapes}
    pending = list(checked)
    while pending:
        for subclass in ontology.subjects(RDFS.subClassOf, pending.pop()):
            if subclass not in checked:
                checked.add(subclass)
                pending.append(subclass)
    return frozenset(checked)


def _submission_rule_results(
    report: Graph, locators: list[tuple[ParsedDocument, NodeLocator]], reserved: Sequence[str], data: Graph,
    checked_classes: frozenset[Node], described_elsewhere: Sequence[tuple[str, str]] = (),
) -> list[tuple[Node, Finding]]:
    """The rules of submissions, which the shapes cannot say: a violation for each IRI under a reserved
    namespace that a document describes, for each owl:imports, for each IRI it describes that has no
    type (in the document or the stored graph) or only types no shape checks, for each IRI it describes
    that an accepted submission describes already, and for each blank node that no named resource of
    the document leads to."""
    found = []
    if not reserved:
        return found
    for document, locator in locators:
        graph = document.graph
        subjects = {s for s in graph.subjects() if isinstance(s, URIRef) and str(s).startswith(tuple(reserved))}
        refusals = [(subject, _RESERVED_MESSAGE.format(iri=shorten(str(subject)))) for subject in sorted(subjects)]
        refusals += [(subject, _IMPORTS_MESSAGE.format(iri=target))
                     for subject, target in sorted(graph.subject_objects(OWL.imports))]
        described = {s for s in graph.subjects() if isinstance(s, URIRef)} - subjects
        for subject in sorted(described):
            types = set(data.objects(subject, RDF.type))
            if not types:
                refusals.append((subject, _UNTYPED_MESSAGE.format(iri=shorten(str(subject)))))
            elif not types & checked_classes:
                classes = ", ".join(sorted(shorten(str(t)) for t in types))
                refusals.append((subject, _UNCHECKED_CLASS_MESSAGE.format(iri=shorten(str(subject)), classes=classes)))
        refusals += [
            (URIRef(iri), _DESCRIBED_ELSEWHERE_MESSAGE.format(iri=shorten(iri), id=submission.removeprefix(SUBMISSION_GRAPHS)))
            for iri, submission in described_elsewhere if (URIRef(iri), None, None) in graph
        ]
        refusals += [(root, _BLANK_ROOT_MESSAGE) for root in sorted(_blank_roots(graph))]
        for subject, message in refusals:
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


def _blank_roots(graph: Graph) -> set[BNode]:
    """Blank nodes that no named resource leads to (through other blank nodes or directly), cycles included."""
    reached: set[Node] = set()
    pending = [s for s in set(graph.subjects()) if not isinstance(s, BNode)]
    while pending:
        for obj in graph.objects(pending.pop(), None):
            if isinstance(obj, BNode) and obj not in reached:
                reached.add(obj)
                pending.append(obj)
    return {s for s in set(graph.subjects()) if isinstance(s, BNode)} - reached


def _mentioned_nodes(graph: Graph) -> set[Node]:
    """The IRIs and blank nodes a graph mentions as subject or object."""
    nodes: set[Node] = set()
    for subject, _, obj in graph:
        nodes.add(subject)
        if isinstance(obj, (URIRef, BNode)):
            nodes.add(obj)
    return nodes


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


def display_path(graph: Graph, path: Node | None) -> str | None:
    """A SHACL property path in SPARQL notation, such as ^ilop:hasComponent."""
    if path is None:
        return None
    if isinstance(path, URIRef):
        return shorten(str(path))
    inverse = graph.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + (display_path(graph, inverse) or "?")
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return "|".join(display_path(graph, p) or "?" for p in Collection(graph, alternatives))
    if graph.value(path, RDF.first) is not None:
        return "/".join(display_path(graph, p) or "?" for p in Collection(graph, path))
    return "[]"
