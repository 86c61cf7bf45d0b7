"""Literals attributed to a source document say what it says: checked against the documents' texts."""

import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SKOS

from server.namespaces import ID, ILOP
from server.settings import Settings

SOURCES = Path(__file__).parent / "fixtures" / "sources"
PROV = Namespace("http://www.w3.org/ns/prov#")
SCHEMA = Namespace("https://schema.org/")
DCTERMS = Namespace("http://purl.org/dc/terms/")
NAMES = ["ilo-brief-korea-2020-07", "ilo-news-2021-05-26"]
# Codes, not words of the text: ISO currency codes.
_CODES = {SCHEMA.currency}


def _text(name: str) -> str:
    """The source's text as prose: markdown links and escapes removed, whitespace collapsed."""
    text = (SOURCES / f"{name}.txt").read_text(encoding="utf-8")
    text = text.replace("](#)", "").replace("[", "").replace("\\", "")
    return re.sub(r"\s+", " ", text)


def _said(graph: Graph, name: str) -> list[tuple[URIRef, URIRef, Literal]]:
    """The literals of the nodes the data file derives from this source (and of their blank nodes)."""
    source = ID[f"source/{name}"]
    found = []
    for subject in set(graph.subjects(PROV.wasDerivedFrom, source)):
        for predicate, value in graph.predicate_objects(subject):
            if isinstance(value, Literal) and value.datatype is None and predicate not in _CODES:
                found.append((subject, predicate, value))
    return found


@pytest.fixture(scope="module")
def graphs(settings: Settings) -> dict[str, Graph]:
    return {name: Graph().parse(settings.data_dir / f"{name}.ttl") for name in NAMES}


def test_the_source_texts_and_their_statements_were_found(graphs: dict[str, Graph]) -> None:
    for name in NAMES:
        assert len(_text(name)) > 2000
        assert len(_said(graphs[name], name)) > 40


@pytest.mark.parametrize("name", NAMES)
def test_every_acronym_and_proper_spelling_attributed_to_a_source_is_written_so_in_it(
    graphs: dict[str, Graph], name: str,
) -> None:
    text = _text(name)
    unsourced = sorted({
        (str(subject).rsplit("/", 1)[-1], word) for subject, _, value in _said(graphs[name], name)
        for word in re.findall(r"\b[A-Z][A-Z0-9]{2,}(?:-[A-Za-z]+)?\b", str(value)) if word not in text
    })
    assert unsourced == []


@pytest.mark.parametrize("name", NAMES)
def test_quotations_and_notes_are_the_sources_own_words(graphs: dict[str, Graph], name: str) -> None:
    text = _text(name)
    quoted = [(s, str(v)) for s, p, v in _said(graphs[name], name) if p in (ILOP.rationale, SKOS.note)]
    assert quoted
    assert [(s, v) for s, v in quoted if v not in text and v.removeprefix("In its commitment").strip() not in text] == []


def test_the_facts_an_audit_found_missing_are_recorded(graphs: dict[str, Graph], ontology: Graph) -> None:
    news, brief = graphs["ilo-news-2021-05-26"], graphs["ilo-brief-korea-2020-07"]
    purposes = {str(news.value(ID[f"ratification/KR-{c}"], ILOP.rationale)) for c in ("C029", "C087", "C098")}
    assert purposes == {"In its commitment to promote freedom of association and elimination of forced labour."}
    assert "commitment to human-centered recovery from the COVID-19 crisis" in str(
        news.value(ID["agreement/ilo-moel-mou-2021"], SKOS.note))
    assert "cooperation with the ILO in the promotion of decent work" in str(
        news.value(ID["agreement/ilo-moel-mou-2021"], SKOS.note))
    sted = ID["project/sted-maghreb"]
    assert "productivity growth is accompanied by employment growth" in str(brief.value(sted, ILOP.rationale))
    assert "contributing to program-wide learning" in str(brief.value(sted, SKOS.note))
    sse = URIRef("https://w3id.org/ilo-partnerships/codelist/theme/social-and-solidarity-economy")
    assert str(ontology.value(sse, SKOS.definition)) + " " in _text("ilo-brief-korea-2020-07")
    assert ontology.value(sse, PROV.wasDerivedFrom) == ID["source/ilo-brief-korea-2020-07"]
    assert str(brief.value(ID["event/ilo-korea-tvet-forum"], DCTERMS.description)).endswith(
        "especially for more vulnerable groups.")
    assert "reducing PES operational costs through the automation of services and tasks" in str(
        brief.value(ID["project/pes-english-speaking-africa"], DCTERMS.description))
    # "These training materials ... have been provided to more than 40 port authorities": those of both phases.
    materials = ID["output/pdp-training-materials-all"]
    assert set(brief.objects(materials, DCTERMS.hasPart)) == {
        ID["output/pdp-training-materials"], ID["output/pdp-dry-bulk-best-practices"], ID["output/pdp-chief-instructors-manual"]}
    count = brief.value(materials, ILOP.recipientCount)
    assert (str(brief.value(count, SCHEMA.value)), str(brief.value(count, SCHEMA.unitText))) == (
        "40.0", "port authorities and institutes")
    assert brief.value(ID["output/pdp-training-materials"], ILOP.recipientCount) is None


def test_names_the_brief_uses_for_moel_are_identifications_recorded_with_their_evidence(graphs: dict[str, Graph]) -> None:
    brief = graphs["ilo-brief-korea-2020-07"]
    moel = ID["organisation/moel"]
    records = {
        str(brief.value(record, RDF.object)): str(brief.value(record, ILOP.evidenceLevel)).rsplit("/", 1)[-1]
        for record in brief.subjects(RDF.subject, moel) if brief.value(record, RDF.predicate) == SKOS.altLabel
    }
    assert records == {"Korean Ministry of Employment": "editorial", "Ministry of Labor of the Republic of Korea": "editorial"}
    assert {str(n) for n in brief.objects(moel, SKOS.altLabel)} == set(records)
