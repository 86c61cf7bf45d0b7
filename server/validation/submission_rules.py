"""The rules that the shapes cannot say, reported as findings like the shapes' own.

A submission may not describe IRIs under a reserved namespace, import other documents, describe
an IRI without a type (or with only types no shape checks), describe what another accepted
submission describes, hold blank nodes that nothing named leads to, or hold a value with a
character that XML cannot carry (it would make every XML answer about it impossible to write).
No file, submitted or the project's own, may hold a typed value the engine cannot read as its
datatype (see server.rdf.engine_values): it would make every sum or comparison over it an error.
"""

from collections.abc import Sequence

from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from server.formats.xml_characters import non_xml_character
from server.namespaces import ILOSH, SUBMISSION_GRAPHS, shorten
from server.rdf.display import display_node
from server.rdf.engine_values import CHECKED_DATATYPES, form_of, unreadable
from server.rdf.parsing import ParsedDocument
from server.validation.locate import NodeLocator
from server.validation.report import Finding

# The constraint components named in reports of these rules: the submissions' rules, and the values' datatypes.
_RESERVED = ILOSH.ReservedNamespaceConstraintComponent
_READABLE = ILOSH.ReadableValueConstraintComponent


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


_NOT_XML_MESSAGE = (
    "The value of {predicate} holds {character}, a character that XML cannot carry (a control character or a "
    "noncharacter): the graph's answers in SPARQL XML, RDF/XML and IATI could not include it. Remove it (line breaks "
    "and tabs may stay)."
)


_UNREADABLE_MESSAGE = (
    "{value} is not a value of {datatype} that the graph can compute with: write it as {form}. Stored as it is, "
    "it would be kept as text, and every sum, comparison or date taken over it would fail (a currency's total "
    "would drop out of the answers)."
)


def checked_classes(shapes: Graph, ontology: Graph) -> frozenset[Node]:
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


def submission_rule_results(
    report: Graph, locators: list[tuple[ParsedDocument, NodeLocator]], reserved: Sequence[str], data: Graph,
    checked_classes: frozenset[Node], described_elsewhere: Sequence[tuple[str, str]] = (),
) -> list[tuple[Node, Finding]]:
    """The rules of submissions, which the shapes cannot say: a violation for each IRI under a reserved
    namespace that a document describes, for each owl:imports, for each IRI it describes that has no
    type (in the document or the stored graph) or only types no shape checks, for each IRI it describes
    that an accepted submission describes already, and for each blank node that no named resource of
    the document leads to. Whatever `reserved` is (the project's own files pass none), a violation for each
    typed value the engine cannot read as its datatype."""
    found = []
    for document, locator in locators:
        found += _results(report, document, locator, _unreadable_values(document.graph), _READABLE, "(datatype rules)")
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
        refusals += _non_xml_values(graph)
        refused = [(subject, message, None) for subject, message in refusals]
        found += _results(report, document, locator, refused, _RESERVED, "(submission rules)")
    return found


def _results(
    report: Graph, document: ParsedDocument, locator: NodeLocator,
    refusals: list[tuple[Node, str, tuple[URIRef, Literal] | None]], component: URIRef, shape: str,
) -> list[tuple[Node, Finding]]:
    """Each refusal (subject, message, and the statement's predicate and value if it is about one) as a result of
    the report and its finding."""
    found = []
    for subject, message, statement in refusals:
        result = BNode()
        for predicate, obj in (
            (RDF.type, SH.ValidationResult), (SH.focusNode, subject), (SH.resultSeverity, SH.Violation),
            (SH.resultMessage, Literal(message, lang="en")), (SH.sourceConstraintComponent, component),
        ):
            report.add((result, predicate, obj))
        if statement is None:
            path = value = None
            line, where = locator.line_of(subject), locator.where_of_statement(subject, None)
        else:
            report.add((result, SH.resultPath, statement[0]))
            report.add((result, SH.value, statement[1]))
            path, value = shorten(str(statement[0])), display_node(statement[1])
            line = locator.line_of_statement(subject, *statement)
            where = locator.where_of_statement(subject, *statement)
        finding = Finding(
            "Violation", display_node(subject), path, value, message, shape, shorten(str(component)), document.source,
            line, where=where,
        )
        found.append((result, finding))
    return found


def _unreadable_values(graph: Graph) -> list[tuple[Node, str, tuple[URIRef, Literal] | None]]:
    """Each statement whose typed value the engine cannot read as its datatype, with the form it takes."""
    typed = sorted((
        (s, p, o) for s, p, o in graph
        if isinstance(o, Literal) and o.datatype is not None and str(o.datatype) in CHECKED_DATATYPES
    ), key=lambda t: (str(t[0]), str(t[1]), str(t[2]), str(t[2].datatype)))
    refused = unreadable([(str(o), str(o.datatype)) for _, _, o in typed])
    found: list[tuple[Node, str, tuple[URIRef, Literal] | None]] = []
    for index in sorted(refused):
        subject, predicate, value = typed[index]
        text = str(value) if len(str(value)) <= 60 else str(value)[:60] + "…"
        message = _UNREADABLE_MESSAGE.format(
            value=display_node(Literal(text)), datatype=shorten(str(value.datatype)), form=form_of(str(value.datatype)),
        )
        found.append((subject, message, (predicate, value)))  # type: ignore[arg-type]
    return found


def _non_xml_values(graph: Graph) -> list[tuple[Node, str]]:
    """Each statement whose value holds a character XML cannot carry, as (subject, message), in a stable order."""
    found = []
    for subject, predicate, value in graph:
        if isinstance(value, Literal) and (character := non_xml_character(str(value))):
            found.append((subject, _NOT_XML_MESSAGE.format(predicate=shorten(str(predicate)), character=character)))
    return sorted(found, key=lambda pair: (str(pair[0]), pair[1]))


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
