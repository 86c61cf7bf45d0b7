"""Vocabulary lint: SPARQL questions over ontology/, shapes/ and data/ that must return nothing,
plus the ontology header and a consistency check by an OWL 2 RL reasoner (owlrl)."""

import re
from pathlib import Path

import owlrl
import pytest
from owlrl.Namespaces import ERRNS
from rdflib import Graph, URIRef

from server import __version__
from server.namespaces import ILOP, ONTOLOGY_IRI

PREFIXES = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""
TERM_KINDS = "owl:Class owl:ObjectProperty owl:DatatypeProperty owl:AnnotationProperty skos:Concept skos:ConceptScheme"


def rows(graph: Graph, query: str) -> list[tuple[str, ...]]:
    return sorted(tuple(str(v) for v in row) for row in graph.query(PREFIXES + query))


def test_the_vocabulary_declares_terms(ontology: Graph) -> None:
    assert len(rows(ontology, f"SELECT ?t WHERE {{ VALUES ?k {{ {TERM_KINDS} }} ?t a ?k }}")) > 150


@pytest.mark.parametrize(
    "what, pattern",
    [
        ("an English rdfs:label or skos:prefLabel",
         '{ ?t rdfs:label ?l } UNION { ?t skos:prefLabel ?l } FILTER(langMatches(lang(?l), "en"))'),
        ("a definition (skos:definition)", "?t skos:definition ?d"),
        ("rdfs:isDefinedBy", "?t rdfs:isDefinedBy ?v"),
    ],
)
def test_every_term_has(ontology: Graph, what: str, pattern: str) -> None:
    missing = rows(ontology, f"""
        SELECT DISTINCT ?t WHERE {{
            VALUES ?k {{ {TERM_KINDS} }} ?t a ?k . FILTER(isIRI(?t))
            FILTER NOT EXISTS {{ {pattern} }}
        }}""")
    assert missing == [], f"terms without {what}"


def test_our_terms_are_defined_by_our_ontology(ontology: Graph) -> None:
    wrong = rows(ontology, f"""
        SELECT ?t ?by WHERE {{ ?t rdfs:isDefinedBy ?by .
            FILTER(STRSTARTS(STR(?t), "{ILOP}") && ?by != <{ONTOLOGY_IRI}>) }}""")
    assert wrong == []


def test_every_class_of_ours_has_a_node_shape(ontology: Graph, shapes: Graph) -> None:
    classes = {c for (c,) in rows(ontology, f'SELECT ?c WHERE {{ ?c a owl:Class FILTER(STRSTARTS(STR(?c), "{ILOP}")) }}')}
    targeted = {c for (c,) in rows(shapes, "SELECT ?c WHERE { ?s sh:targetClass ?c }")}
    assert len(classes) >= 28
    assert sorted(classes - targeted) == []


def test_every_class_used_in_the_data_has_a_node_shape(data: Graph, shapes: Graph) -> None:
    used = {c for (c,) in rows(data, "SELECT DISTINCT ?c WHERE { ?x a ?c }")}
    targeted = {c for (c,) in rows(shapes, "SELECT ?c WHERE { ?s sh:targetClass ?c }")}
    assert used
    assert sorted(used - targeted) == []


def _declared(ontology: Graph) -> set[str]:
    return {t for (t,) in rows(ontology, f"SELECT ?t WHERE {{ VALUES ?k {{ {TERM_KINDS} }} ?t a ?k }}")}


# RDF, RDFS and OWL are the languages the vocabulary is written in, not terms it reuses.
_BUILT_IN = ("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2000/01/rdf-schema#",
             "http://www.w3.org/2002/07/owl#")


def test_every_predicate_in_the_data_is_declared(ontology: Graph, data: Graph) -> None:
    used = {p for (p,) in rows(data, "SELECT DISTINCT ?p WHERE { ?s ?p ?o }")}
    assert len(used) > 50
    assert sorted(p for p in used - _declared(ontology) if not p.startswith(_BUILT_IN)) == []


def test_every_class_in_the_data_is_declared(ontology: Graph, data: Graph) -> None:
    used = {c for (c,) in rows(data, "SELECT DISTINCT ?c WHERE { ?x a ?c }")}
    assert sorted(used - _declared(ontology)) == []


def test_every_term_of_ours_that_shapes_and_data_use_exists(ontology: Graph, shapes: Graph, data: Graph) -> None:
    # A misspelt ilop: term would otherwise pass silently: shapes on it would never fire.
    declared = _declared(ontology)
    used = set()
    for graph in (shapes, data):
        for triple in graph:
            used.update(str(t) for t in triple if isinstance(t, URIRef) and t.startswith(str(ILOP)))
    assert used
    assert sorted(used - declared) == []


def test_every_codelist_value_used_in_the_data_is_a_concept_we_define(ontology: Graph, data: Graph) -> None:
    used = {str(o) for o in data.objects() if str(o).startswith("https://w3id.org/ilo-partnerships/codelist/")}
    assert used
    assert sorted(used - _declared(ontology)) == []


def test_ontology_header(ontology: Graph) -> None:
    header = dict(rows(ontology, f"""
        SELECT ?p ?o WHERE {{ <{ONTOLOGY_IRI}> ?p ?o .
            VALUES ?p {{ dcterms:title dcterms:description dcterms:license dcterms:created
                         dcterms:modified owl:versionIRI owl:versionInfo }} }}"""))
    dcterms = {f"http://purl.org/dc/terms/{p}" for p in ("title", "description", "license", "created", "modified")}
    owl = {"http://www.w3.org/2002/07/owl#versionIRI", "http://www.w3.org/2002/07/owl#versionInfo"}
    assert set(header) == dcterms | owl
    assert header["http://www.w3.org/2002/07/owl#versionIRI"] == f"{ONTOLOGY_IRI}/{__version__}"
    assert header["http://www.w3.org/2002/07/owl#versionInfo"] == __version__


def test_namespace_is_written_once_in_the_code() -> None:
    # The namespace lives in server/namespaces.py; other modules import it from there.
    sources = sorted(Path(__file__).parent.parent.joinpath("server").glob("*.py"))
    assert sources
    offenders = [p.name for p in sources if p.name not in {"namespaces.py", "codes.py"}
                 and re.search(r"w3id\.org/ilo-partnerships/(ontology|id|codelist)", p.read_text())]
    assert offenders == []


def _reasoner_errors(graph: Graph) -> list[str]:
    closure = Graph()
    closure += graph
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(closure)
    return sorted(str(m) for m in closure.objects(None, ERRNS.error))


def test_vocabulary_and_data_are_consistent(ontology: Graph, data: Graph) -> None:
    assert _reasoner_errors(ontology + data) == []


def test_the_reasoner_finds_an_inconsistency(ontology: Graph, data: Graph) -> None:
    # Proves the check above can fail: a project typed as a person breaks a disjointness axiom.
    bad = ontology + data
    bad.parse(data="""
        <https://w3id.org/ilo-partnerships/id/project/sse-knowledge-base>
            a <https://w3id.org/ilo-partnerships/ontology#Person> .""", format="turtle")
    assert _reasoner_errors(bad) == [
        "Disjoint classes https://w3id.org/ilo-partnerships/ontology#Person and "
        "https://w3id.org/ilo-partnerships/ontology#Project have a common individual "
        "https://w3id.org/ilo-partnerships/id/project/sse-knowledge-base"
    ]
