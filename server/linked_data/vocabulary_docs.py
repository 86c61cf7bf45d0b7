"""Human documentation of the vocabulary and the shapes, generated from their Turtle files.



follows a term's IRI asks for the document and lands on the term's section: each section's
id is the term's local name. The same documents answer in RDF (their own files' triples).
"""

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import OWL, RDF, RDFS, SH, SKOS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS
from rdflib.term import Node

from server.linked_data.page_model import Term
from server.namespaces import BASE, ONTOLOGY_IRI, shorten
from server.rdf.display import display_path
from server.rdf.project_graphs import load_folder, read_turtle

SHAPES_IRI = BASE + "shapes"
_SKIPPED = {RDF.type, RDFS.label, SKOS.definition, RDFS.isDefinedBy, SKOS.example, RDFS.comment}


@dataclass
class TermDoc:
    """One documented term: its anchor, name, definition and other statements about it."""

    anchor: str
    iri: str
    label: str
    definition: str | None
    example: str | None
    facts: list[tuple[Term, list[Term]]] = field(default_factory=list)


@dataclass
class VocabularyDoc:
    """A documented vocabulary: its description and its terms, by kind."""

    iri: str
    title: str
    description: str
    metadata: list[tuple[str, str]]
    sections: list[tuple[str, list[TermDoc]]]
    graph: Graph = field(repr=False)
    turtle: bytes = field(repr=False)


def ontology_doc(ontology_dir: Path) -> VocabularyDoc:
    """The ontology's documentation: its own file's classes and properties; labels from every ontology file."""
    path = ontology_dir / "ilo-partnerships.ttl"
    own = read_turtle(path).graph
    labels = load_folder(ontology_dir)
    iri = URIRef(ONTOLOGY_IRI)
    kinds = (("Classes", OWL.Class), ("Object properties", OWL.ObjectProperty),
             ("Datatype properties", OWL.DatatypeProperty), ("Annotation properties", OWL.AnnotationProperty))
    sections = []
    for title, kind in kinds:
        terms = sorted(
            (s for s in own.subjects(RDF.type, kind) if isinstance(s, URIRef) and (s, RDFS.isDefinedBy, iri) in own),
            key=lambda s: _label(labels, s).lower(),
        )
        sections.append((title, [_term_doc(own, labels, s) for s in terms]))
    # The codelists have slash IRIs of their own (each resolves to its page); listed here too.
    schemes = sorted((s for s in labels.subjects(RDF.type, SKOS.ConceptScheme) if isinstance(s, URIRef)), key=str)
    sections.append(("Codelists", [_scheme_doc(labels, s) for s in schemes]))
    return VocabularyDoc(
        ONTOLOGY_IRI, str(own.value(iri, DCTERMS.title)), str(own.value(iri, DCTERMS.description)),
        _metadata(own, iri), sections, own, path.read_bytes(),
    )


def shapes_doc(shapes_dir: Path, ontology_dir: Path) -> VocabularyDoc:
    """The shapes' documentation: each node shape with its rules, and the shared property shapes."""
    shapes = load_folder(shapes_dir)
    labels = load_folder(ontology_dir) + shapes
    iri = URIRef(SHAPES_IRI)
    node_shapes = sorted((s for s in shapes.subjects(RDF.type, SH.NodeShape) if isinstance(s, URIRef)), key=str)
    property_shapes = sorted((s for s in shapes.subjects(RDF.type, SH.PropertyShape) if isinstance(s, URIRef)), key=str)
    sections = [
        ("Node shapes", [_shape_doc(shapes, labels, s) for s in node_shapes]),
        ("Shared property shapes", [_shape_doc(shapes, labels, s) for s in property_shapes]),
    ]
    turtle = b"\n".join(p.read_bytes() for p in sorted(shapes_dir.glob("*.ttl")))
    return VocabularyDoc(
        SHAPES_IRI, str(shapes.value(iri, RDFS.label)), str(shapes.value(iri, DCTERMS.description)),
        _metadata(shapes, iri), sections, shapes, turtle,
    )


def _metadata(graph: Graph, iri: URIRef) -> list[tuple[str, str]]:
    found = []
    for name, predicate in (("Version", OWL.versionInfo), ("Licence", DCTERMS.license), ("Created", DCTERMS.created),
                            ("Modified", DCTERMS.modified)):
        value = graph.value(iri, predicate)
        if value is not None:
            found.append((name, str(value)))
    return found


def _anchor(iri: URIRef) -> str:
    return str(iri).rsplit("#", 1)[-1]


def _label(labels: Graph, node: Node) -> str:
    label = labels.value(node, RDFS.label) or labels.value(node, SKOS.prefLabel)
    return str(label) if label is not None else shorten(str(node))


def _term(labels: Graph, node: Node) -> Term:
    if isinstance(node, URIRef):
        return Term(_label(labels, node), str(node), local=str(node).startswith(BASE))
    if isinstance(node, Literal):
        return Term(str(node))
    return Term("(a nested description)")


def _term_doc(graph: Graph, labels: Graph, subject: URIRef) -> TermDoc:
    facts: dict[URIRef, list[Term]] = {}
    for predicate, obj in sorted(graph.predicate_objects(subject), key=lambda po: (str(po[0]), str(po[1]))):
        if predicate in _SKIPPED or not isinstance(predicate, URIRef):
            continue
        facts.setdefault(predicate, []).append(_term(labels, obj))
    definition = graph.value(subject, SKOS.definition) or graph.value(subject, SH.message)
    example = graph.value(subject, SKOS.example)
    return TermDoc(
        _anchor(subject), str(subject), _label(labels, subject), None if definition is None else str(definition),
        None if example is None else str(example), [(_term(labels, p), values) for p, values in facts.items()],
    )


def _scheme_doc(labels: Graph, scheme: URIRef) -> TermDoc:
    concepts = sorted((_term(labels, c) for c in labels.subjects(SKOS.inScheme, scheme)), key=lambda t: t.text.lower())
    definition = labels.value(scheme, SKOS.definition) or labels.value(scheme, DCTERMS.description)
    return TermDoc(
        "codelist-" + str(scheme).rstrip("/").rsplit("/", 1)[-1], str(scheme), _label(labels, scheme),
        None if definition is None else str(definition), None, [(Term("concepts"), concepts)],
    )


def _shape_doc(shapes: Graph, labels: Graph, shape: URIRef) -> TermDoc:
    facts: list[tuple[Term, list[Term]]] = []
    for name, predicate in (("target class", SH.targetClass), ("targets subjects of", SH.targetSubjectsOf),
                            ("severity", SH.severity)):
        values = [_term(labels, o) for o in shapes.objects(shape, predicate)]
        if values:
            facts.append((Term(name), values))
    for rule in sorted(shapes.objects(shape, SH.property), key=lambda r: _path_text(shapes, shapes.value(r, SH.path))):
        path = _path_text(shapes, shapes.value(rule, SH.path))
        messages = [Term(str(m)) for m in shapes.objects(rule, SH.message)]
        if isinstance(rule, URIRef):
            # A shared property shape: named, and documented in its own section.
            messages.insert(0, Term(shorten(str(rule)), str(rule), local=True))
        facts.append((Term(f"rule on {path}"), messages))
    for constraint in shapes.objects(shape, SH.sparql):
        facts.append((Term("SPARQL rule"), [Term(str(m)) for m in shapes.objects(constraint, SH.message)]))
    message = shapes.value(shape, SH.message)
    path = shapes.value(shape, SH.path)
    definition = str(message) if message is not None else None
    if path is not None:
        facts.insert(0, (Term("path"), [Term(_path_text(shapes, path))]))
    return TermDoc(_anchor(shape), str(shape), shorten(str(shape)), definition, None, facts)


def _path_text(graph: Graph, path: Node | None) -> str:
    return display_path(graph, path) or "(no path)"


class VocabularyDocs:
    """The documentation of the ontology and the shapes, built on first request from their folders.

    Lazily: a server pointed at folders without them (a benchmark's data-only store, say)
    still starts, and answers 404 for the documents it does not have.
    """

    def __init__(self, ontology_dir: Path, shapes_dir: Path):
        self._ontology_dir, self._shapes_dir = ontology_dir, shapes_dir
        self._built: dict[str, VocabularyDoc | None] = {}

    def get(self, name: str) -> VocabularyDoc | None:
        """The document named 'ontology' or 'shapes', or None if its files are not there."""
        if name not in self._built:
            if name == "ontology":
                present = (self._ontology_dir / "ilo-partnerships.ttl").is_file()
                self._built[name] = ontology_doc(self._ontology_dir) if present else None
            else:
                present = any(self._shapes_dir.glob("*.ttl"))
                self._built[name] = shapes_doc(self._shapes_dir, self._ontology_dir) if present else None
        return self._built[name]
