"""The rules of submissions that the shapes cannot say, reported as findings like the shapes' own.

A submission may not describe IRIs under a reserved namespace, import other documents, describe
an IRI without a type (or with only types no shape checks), describe what another accepted
submission describes, hold blank nodes that nothing named leads to, or hold a value with a
character that XML cannot carry (it would make every XML answer about it impossible to write).
"""

from collections.abc import Sequence

from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from server.formats.xml_characters import non_xml_character
from server.namespaces import ILOSH, SUBMISSION_GRAPHS, shorten
from server.rdf.display import display_node
from server.rdf.parsing import ParsedDocument
from server.validation.locate import NodeLocator
from server.validation.report import Finding

# The constraint component named in reports of these rules.
_RESERVED = ILOSH.ReservedNamespaceConstraintComponent


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
        refusals += _non_xml_values(graph)
        for subject, message in refusals:
            result = BNode()
            for predicate, obj in (
                (RDF.type, SH.ValidationResult), (SH.focusNode, subject), (SH.resultSeverity, SH.Violation),
                (SH.resultMessage, Literal(message, lang="en")), (SH.sourceConstraintComponent, _RESERVED),
            ):
                report.add((result, predicate, obj))
            finding = Finding(
                "Violation", display_node(subject), None, None, message, "(submission rules)", shorten(str(_RESERVED)),
                document.source, locator.line_of(subject), where=locator.where_of_statement(subject, None),
            )
            found.append((result, finding))
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
