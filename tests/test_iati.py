"""IATI activity files in: the mapping into the vocabulary, findings at the element and line, the refusals of
files that cannot be read, submissions that update what an import stored before, and the command line's
import in parts. The files are written for these tests from the IATI standard (tests/fixtures/iati/)."""

import io
import json
import re
from pathlib import Path

import httpx
import pytest
from lxml import etree
from rdflib import RDFS, Graph, Literal, URIRef
from rdflib.compare import graph_diff, to_isomorphic

from server.exchange.iati_batches import batches
from server.exchange.iati_writing import NotWritableError, schema_errors, write_activities, write_all_activities
from server.exchange.inputs import read_input
from server.formats.registry import IATI
from server.rdf.parsing import RdfInputError
from server.rdf.project_graphs import load_folder
from server.settings import Settings
from server.submissions.plan import DataValidator
from tests.support.problems import problem
from tests.support.servers import FIXTURES, SubmissionServer, run_cli, state
from tests.support.xml_characters import codepoint_id

IATI_FIXTURES = FIXTURES / "iati"
ACTIVITIES = IATI_FIXTURES / "activities-2.03.xml"
MISTAKES = IATI_FIXTURES / "activities-mistakes.xml"
PROJECT = "https://w3id.org/ilo-partnerships/id/project/iati-XM-DAC-41302-TEST-001"
COMPONENT = "https://w3id.org/ilo-partnerships/id/project/iati-XM-DAC-41302-TEST-001-A"
PREFIXES = """
PREFIX ilop: <https://w3id.org/ilo-partnerships/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX schema: <https://schema.org/>
"""
XML = {"Content-Type": "application/xml"}


def test_fixtures_were_found() -> None:
    assert ACTIVITIES.is_file() and MISTAKES.is_file()


def convert(path: Path, validator: DataValidator | None = None) -> Graph:
    known = validator.known_identifiers() if validator else {}
    return read_input(path.read_bytes(), IATI, path.name, known=known).graph


def rows(graph: Graph, query: str) -> list[tuple[str, ...]]:
    return sorted(tuple(str(v) for v in row) for row in graph.query(PREFIXES + query))


@pytest.fixture(scope="module")
def activities(validator_with_data: DataValidator) -> Graph:
    return convert(ACTIVITIES, validator_with_data)


def test_titles_and_descriptions_keep_their_languages(activities: Graph) -> None:
    query = f"SELECT ?p ?v (LANG(?v) AS ?l) WHERE {{ <{PROJECT}> ?p ?v FILTER(isLiteral(?v) && LANG(?v) != '') }}"
    assert rows(activities, query) == [
        ("http://purl.org/dc/terms/description",
         "Aide les jeunes du Cambodge et de la RDP lao à trouver un emploi décent.", "fr"),
        ("http://purl.org/dc/terms/description", "Helps young people in Cambodia and Lao PDR find decent jobs.", "en"),
        ("http://www.w3.org/2000/01/rdf-schema#label", "Decent work for young people in the Mekong", "en"),
        ("http://www.w3.org/2004/02/skos/core#altLabel", "Travail décent pour les jeunes du Mékong", "fr"),
        ("https://w3id.org/ilo-partnerships/ontology#objectives", "Ten thousand young people trained by 2028.", "en"),
        ("https://w3id.org/ilo-partnerships/ontology#targetGroups", "Young women and men aged 15 to 24.", "en"),
    ]


def test_organisations_resolve_to_those_the_graph_knows_by_identifier(activities: Graph) -> None:
    assert rows(activities, f"""SELECT ?agent ?role WHERE {{
        <{PROJECT}> prov:qualifiedAssociation [ prov:agent ?agent ; prov:hadRole ?role ] }}""") == [
        ("https://w3id.org/ilo-partnerships/id/organisation/iati-KH-MOLVT-1",
         "https://w3id.org/ilo-partnerships/codelist/organisation-role/accountable"),
        ("https://w3id.org/ilo-partnerships/id/organisation/iati-name-6eed4b3ff4bb",
         "https://w3id.org/ilo-partnerships/codelist/organisation-role/implementing"),
        ("https://w3id.org/ilo-partnerships/id/organisation/ilo",
         "https://w3id.org/ilo-partnerships/codelist/organisation-role/implementing"),
        ("https://w3id.org/ilo-partnerships/id/organisation/koica",
         "https://w3id.org/ilo-partnerships/codelist/organisation-role/funding"),
    ]
    # A new organisation is described with its identifier and type; a known one is only referred to.
    assert rows(activities, """SELECT ?o ?label ?id ?type WHERE {
        ?o ilop:iatiOrganisationIdentifier ?id ; rdfs:label ?label ; ilop:organisationType ?type }""") == [
        ("https://w3id.org/ilo-partnerships/id/organisation/iati-KH-MOLVT-1", "Ministry of Labour and Vocational Training",
         "KH-MOLVT-1", "https://w3id.org/ilo-partnerships/codelist/iati-organisation-type/10"),
    ]


def test_status_and_dates_planned_and_actual(activities: Graph) -> None:
    assert rows(activities, f"""SELECT ?status ?date WHERE {{
        <{PROJECT}> ilop:hasStatusReport [ ilop:activityStatus ?status ; dcterms:date ?date ] }}""") == [
        ("https://w3id.org/ilo-partnerships/codelist/activity-status/implementation", "2026-11-29"),
    ]
    assert rows(activities, f"""SELECT ?p ?start ?end WHERE {{
        <{PROJECT}> ?p ?period . ?period dcat:startDate ?start OPTIONAL {{ ?period dcat:endDate ?end }} }}""") == [
        ("http://purl.org/dc/terms/temporal", "2025-03-15", "None"),
        ("https://w3id.org/ilo-partnerships/ontology#plannedPeriod", "2025-01-01", "2027-12-31"),
    ]


def test_countries_regions_and_sectors_with_their_shares(activities: Graph) -> None:
    assert rows(activities, f"SELECT ?c WHERE {{ <{PROJECT}> dcterms:spatial ?c }}") == [
        ("https://w3id.org/ilo-partnerships/id/country/KH",), ("https://w3id.org/ilo-partnerships/id/country/LA",),
    ]
    assert rows(activities, f"""SELECT ?to ?code ?vocabulary ?share WHERE {{
        <{PROJECT}> ilop:hasAllocation ?a . ?a ilop:percentage ?share
        OPTIONAL {{ ?a ilop:allocatedTo ?to }} OPTIONAL {{ ?a skos:notation ?code ; ilop:codeVocabulary ?vocabulary }} }}""") == [
        ("None", "EMP-YOUTH", "https://w3id.org/ilo-partnerships/codelist/iati-sector-vocabulary/99", "100"),
        ("https://w3id.org/ilo-partnerships/codelist/dac-sector/11330", "None", "None", "30"),
        ("https://w3id.org/ilo-partnerships/codelist/dac-sector/16020", "None", "None", "70"),
        ("https://w3id.org/ilo-partnerships/codelist/iati-region/798", "None", "None", "100"),
        ("https://w3id.org/ilo-partnerships/id/country/KH", "None", "None", "60"),
        ("https://w3id.org/ilo-partnerships/id/country/LA", "None", "None", "40"),
    ]


def test_money_in_two_currencies(activities: Graph) -> None:
    assert rows(activities, f"""SELECT ?kind ?type ?date ?value ?currency ?provider ?receiver WHERE {{
        VALUES ?p {{ ilop:hasBudget ilop:hasPlannedDisbursement ilop:hasTransaction }}
        <{PROJECT}> ?p ?flow . ?flow a ?kind ; schema:amount [ schema:value ?value ; schema:currency ?currency ] .
        OPTIONAL {{ ?flow ilop:transactionType|ilop:budgetType ?type }}
        OPTIONAL {{ ?flow dcterms:date|dcterms:temporal/dcat:startDate ?date }}
        OPTIONAL {{ ?flow ilop:provider ?provider }} OPTIONAL {{ ?flow ilop:receiver ?receiver }} }}""") == [
        ("https://w3id.org/ilo-partnerships/ontology#Budget", "https://w3id.org/ilo-partnerships/codelist/iati-budget-type/1",
         "2025-01-01", "1500000", "USD", "None", "None"),
        ("https://w3id.org/ilo-partnerships/ontology#Budget", "https://w3id.org/ilo-partnerships/codelist/iati-budget-type/1",
         "2026-01-01", "1200000.50", "USD", "None", "None"),
        ("https://w3id.org/ilo-partnerships/ontology#PlannedDisbursement", "None", "2025-04-01", "400000", "USD",
         "https://w3id.org/ilo-partnerships/id/organisation/koica", "https://w3id.org/ilo-partnerships/id/organisation/ilo"),
        ("https://w3id.org/ilo-partnerships/ontology#Transaction",
         "https://w3id.org/ilo-partnerships/codelist/iati-transaction-type/2", "2025-02-01", "2700000", "USD",
         "https://w3id.org/ilo-partnerships/id/organisation/koica", "https://w3id.org/ilo-partnerships/id/organisation/ilo"),
        ("https://w3id.org/ilo-partnerships/ontology#Transaction",
         "https://w3id.org/ilo-partnerships/codelist/iati-transaction-type/3", "2025-05-10", "540000000", "KRW",
         "https://w3id.org/ilo-partnerships/id/organisation/ilo",
         "https://w3id.org/ilo-partnerships/id/organisation/iati-name-6eed4b3ff4bb"),
    ]


def test_document_links_and_related_activities(activities: Graph) -> None:
    assert rows(activities, f"""SELECT ?url ?title ?format ?category ?language WHERE {{
        <{PROJECT}> ilop:hasDocumentLink [ schema:url ?url ; dcterms:title ?title ; dcterms:format ?format ;
            ilop:documentCategory ?category ; dcterms:language ?language ] }}""") == [
        ("https://www.ilo.org/example/mekong-youth-brief.pdf", "Project brief", "application/pdf",
         "https://w3id.org/ilo-partnerships/codelist/iati-document-category/A02", "en"),
    ]
    # The child activity in the same file is a component of its parent; a sibling is a link.
    assert rows(activities, f"SELECT ?c ?n WHERE {{ <{PROJECT}> ilop:hasComponent ?c . ?c a ilop:ProjectComponent ; "
                            "ilop:sequenceNumber ?n }") == [(COMPONENT, "1")]
    assert rows(activities, f"SELECT ?r WHERE {{ <{PROJECT}> dcterms:relation ?r }}") == [
        ("https://w3id.org/ilo-partnerships/id/project/iati-XM-DAC-41302-OTHER-9",),
    ]


def test_results_with_their_indicators(activities: Graph) -> None:
    assert rows(activities, f"""SELECT ?type ?title ?description ?measure ?indicator WHERE {{
        <{PROJECT}> ilop:hasResult ?r . ?r ilop:resultType ?type ; dcterms:title ?title ; dcterms:description ?description ;
            ilop:hasIndicator [ ilop:indicatorMeasure ?measure ; dcterms:title ?indicator ] }}""") == [
        ("https://w3id.org/ilo-partnerships/codelist/iati-result-type/2", "More young people in decent jobs",
         "Young people trained find jobs within six months.",
         "https://w3id.org/ilo-partnerships/codelist/iati-indicator-measure/1",
         "Number of young people employed six months after training"),
        ("https://w3id.org/ilo-partnerships/codelist/iati-result-type/2", "More young people in decent jobs",
         "Young people trained find jobs within six months.",
         "https://w3id.org/ilo-partnerships/codelist/iati-indicator-measure/2", "Share of them who are women"),
    ]


def test_every_imported_fact_names_the_file_it_comes_from(activities: Graph) -> None:
    unsourced = rows(activities, """SELECT ?s WHERE { ?s a ?class FILTER(isIRI(?s))
        FILTER(?class NOT IN (ilop:SourceDocument)) FILTER NOT EXISTS { ?s prov:wasDerivedFrom ?source } }""")
    assert unsourced == []
    assert rows(activities, """SELECT ?s ?source WHERE { ?s prov:wasDerivedFrom ?source FILTER(isIRI(?s)) }""") == [
        ("https://w3id.org/ilo-partnerships/id/country/KH", "https://w3id.org/ilo-partnerships/id/source/iso-3166"),
        ("https://w3id.org/ilo-partnerships/id/country/LA", "https://w3id.org/ilo-partnerships/id/source/iso-3166"),
        ("https://w3id.org/ilo-partnerships/id/organisation/iati-KH-MOLVT-1", SOURCE),
        ("https://w3id.org/ilo-partnerships/id/organisation/iati-name-6eed4b3ff4bb", SOURCE),
        (PROJECT, SOURCE),
        (COMPONENT, SOURCE),
    ]
    assert rows(activities, f"""SELECT ?name ?issued ?publisher ?title WHERE {{
        <{SOURCE}> ilop:fileName ?name ; dcterms:issued ?issued ; dcterms:publisher ?publisher ; dcterms:title ?title }}""") == [
        ("activities-2.03.xml", "2026-11-30", "https://w3id.org/ilo-partnerships/id/organisation/ilo",
         "IATI activity file of International Labour Organization, generated 2026-11-30T09:00:00Z"),
    ]
    assert rows(activities, f"SELECT ?id WHERE {{ <{PROJECT}> ilop:iatiIdentifier ?id }}") == [("XM-DAC-41302-TEST-001",)]


SOURCE = "https://w3id.org/ilo-partnerships/id/source/iati-XM-DAC-41302-20261130T090000Z"


def test_the_example_file_conforms_in_the_context_of_the_graph(validator_with_data: DataValidator) -> None:
    document = read_input(ACTIVITIES.read_bytes(), IATI, ACTIVITIES.name, known=validator_with_data.known_identifiers())
    report = validator_with_data.validate([document])
    assert [(f.severity, f.line, f.where, f.path) for f in report.findings] == [
        ("Warning", 5, "/iati-activities/iati-activity[iati-identifier='XM-DAC-41302-TEST-001']", "dcterms:subject"),
    ]
    assert report.conforms


ACTIVITY = "/iati-activities/iati-activity[iati-identifier='XM-DAC-41302-MISTAKES-1']"
PLANTED = [
    ("Warning", 5, ACTIVITY, "dcterms:subject", "A project should have at least one theme"),
    ("Violation", 8, f"{ACTIVITY}/title/narrative", "rdfs:label", "Needs exactly one English name"),
    ("Violation", 9, f"{ACTIVITY}/participating-org/@role", "prov:hadRole", "A role assignment needs exactly one prov:hadRole"),
    # The file has no description, which the IATI schema requires before the participating organisations: a warning
    # (the mapping does not need it), placed where the schema noticed.
    ("Warning", 9, f"{ACTIVITY}/participating-org", None,
     "The IATI 2.03 schema: Element 'participating-org': This element is not expected. Expected is ( description )."),
    ("Violation", 11, f"{ACTIVITY}/activity-date/@iso-date", "dcat:startDate", "A period takes at most one dcat:startDate"),
    ("Violation", 12, f"{ACTIVITY}/recipient-country/@code", "dcterms:spatial", "dcterms:spatial must point to a country"),
    ("Violation", 13, f"{ACTIVITY}/sector[1]/@percentage", "ilop:percentage", "An allocation takes at most one ilop:percentage"),
    ("Violation", 14, f"{ACTIVITY}/sector[2]/@code", "ilop:allocatedTo", "An allocation goes to one country"),
    ("Violation", 18, f"{ACTIVITY}/budget/value", "schema:currency", "An amount needs exactly one currency"),
    ("Violation", 21, f"{ACTIVITY}/transaction/transaction-type/@code", "ilop:transactionType",
     "A transaction needs exactly one ilop:transactionType"),
    ("Violation", 23, f"{ACTIVITY}/transaction/value", "schema:value", "An amount cannot be negative."),
]


def test_each_planted_mistake_is_reported_at_its_element_and_line(validator_with_data: DataValidator) -> None:
    document = read_input(MISTAKES.read_bytes(), IATI, MISTAKES.name, known=validator_with_data.known_identifiers())
    report = validator_with_data.validate([document])
    found = [(f.severity, f.line, f.where, f.path, f.message) for f in report.findings]
    assert [f[:4] for f in found] == [p[:4] for p in PLANTED]
    assert all(message.startswith(p[4]) for (*_, message), p in zip(found, PLANTED, strict=True))


HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
UNREADABLE = {
    "entity declarations": (
        HEAD + '<!DOCTYPE iati-activities [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        '<iati-activities version="2.03"><iati-activity><iati-identifier>&b;</iati-identifier></iati-activity></iati-activities>',
        3, "the XML declares a document type"),
    "another root": (HEAD + '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n', 2,
                     "the root element is <{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF>, not <iati-activities>"),
    "unknown version": (HEAD + '<iati-activities version="3.0"/>\n', 2, "iati-activities/@version is '3.0'"),
    "no identifier": (HEAD + '<iati-activities version="2.03">\n <iati-activity>\n  <title/>\n </iati-activity>\n'
                      '</iati-activities>\n', 3, "an <iati-activity> has no <iati-identifier>"),
    "not well-formed": (HEAD + '<iati-activities version="2.03">\n <iati-activity>\n</iati-activities>\n', 4,
                        "the XML cannot be read: "),
}


@pytest.mark.parametrize("name", UNREADABLE)
def test_a_file_that_cannot_be_read_as_iati_is_refused_with_the_place(name: str) -> None:
    text, line, message = UNREADABLE[name]
    with pytest.raises(RdfInputError) as refused:
        read_input(text.encode(), IATI, "bad.xml")
    assert refused.value.message.startswith(message)
    assert refused.value.line == line


# Amounts that Python's Decimal reads but XML Schema's decimal (and the IATI schema) does not: each stays the text it
# is, reported at its element. "1e99999999" (10 bytes) used to become a decimal of 100 million digits.
NOT_DECIMALS = ["1e99999999", "1.5E6", "NaN", "Infinity", "1_500_000", "\u0661\u0665", "1,500,000"]


@pytest.mark.parametrize("value", NOT_DECIMALS)
def test_an_amount_that_is_no_xsd_decimal_is_reported_at_its_element_as_written(
    value: str, validator_with_data: DataValidator,
) -> None:
    text = ACTIVITIES.read_text(encoding="utf-8")
    assert text.count('value-date="2025-01-01">1500000<') == 1
    text = text.replace('value-date="2025-01-01">1500000<', f'value-date="2025-01-01">{value}<')
    document = read_input(text.encode(), IATI, ACTIVITIES.name, known=validator_with_data.known_identifiers())
    assert max(len(str(o)) for o in document.graph.objects()) < len(text)
    report = validator_with_data.validate([document])
    assert [(f.severity, f.line, f.path, f.value, f.message) for f in report.findings if f.severity == "Violation"] == [
        ("Violation", 51, "schema:value", json.dumps(value, ensure_ascii=False),
         "An amount needs exactly one schema:value, an xsd:decimal such as 1000000.0."),
    ]


@pytest.mark.parametrize("version", ["2.01", "2.02", "2.03"])
def test_versions_2_01_to_2_03_are_read_alike(version: str, validator_with_data: DataValidator, activities: Graph) -> None:
    text = ACTIVITIES.read_text(encoding="utf-8").replace('version="2.03"', f'version="{version}"')
    document = read_input(text.encode(), IATI, ACTIVITIES.name, known=validator_with_data.known_identifiers())
    _, only_here, only_there = graph_diff(to_isomorphic(document.graph), to_isomorphic(activities))
    assert (list(only_here), list(only_there), document.notices) == ([], [], ())


def test_version_1_files_are_read_with_a_notice(validator_with_data: DataValidator) -> None:
    text = ACTIVITIES.read_text(encoding="utf-8").replace('version="2.03"', 'version="1.05"')
    document = read_input(text.encode(), IATI, "old.xml", known=validator_with_data.known_identifiers())
    report = validator_with_data.validate([document])
    assert report.conforms
    assert report.notices == [
        "The file is IATI version 1.05, which the IATI retired in 2016; it was read with the 2.0x mapping, so elements "
        "and codes that changed since may be missed. Publish it as 2.03 if you can.",
    ]


def many_activities(count: int) -> bytes:
    """An IATI file of count independent activities (the fixture's parent, renumbered)."""
    tree = etree.parse(str(ACTIVITIES))
    root = tree.getroot()
    parent, child = list(root)
    root.remove(child)
    for related in parent.findall("related-activity"):
        parent.remove(related)
    for number in range(2, count + 1):
        copy = etree.fromstring(etree.tostring(parent))
        copy.find("iati-identifier").text = f"XM-DAC-41302-TEST-{number:03d}"
        copy.find("title/narrative").text = f"Decent work for young people in the Mekong, part {number}"
        root.append(copy)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def test_batches_keep_parents_with_their_children_and_stay_under_the_limit() -> None:
    data = ACTIVITIES.read_bytes() + b""
    (only,) = list(batches(io.BytesIO(data), "a.xml", 1000))  # the child follows its parent, whatever the limit
    assert re.findall(rb"<iati-identifier>([^<]+)", only) == [b"XM-DAC-41302-TEST-001", b"XM-DAC-41302-TEST-001-A"]
    parts = list(batches(io.BytesIO(many_activities(6)), "many.xml", 10_000))
    assert len(parts) == 3 and all(len(p) <= 10_000 for p in parts)
    identifiers = [i for p in parts for i in re.findall(rb"<iati-identifier>([^<]+)", p)]
    assert identifiers == [b"XM-DAC-41302-TEST-001"] + [f"XM-DAC-41302-TEST-{n:03d}".encode() for n in range(2, 7)]
    assert all(p.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03" '
                            b'generated-datetime="2026-11-30T09:00:00Z">') for p in parts)


def test_import_export_import_keeps_what_the_mapping_table_keeps(settings: Settings, validator_with_data: DataValidator) -> None:
    known = validator_with_data.known_identifiers()
    first = read_input(ACTIVITIES.read_bytes(), IATI, ACTIVITIES.name, known=known).graph
    # The graph as the server holds it: the bundled data names the organisations the file refers to.
    written = write_activities(load_folder(settings.data_dir) + first, [URIRef(PROJECT), URIRef(COMPONENT)],
                               "2026-11-30T09:00:00Z")
    assert schema_errors(written) == []
    again = read_input(written, IATI, ACTIVITIES.name, known=known).graph
    _, only_first, only_again = graph_diff(to_isomorphic(first), to_isomorphic(again))
    assert (sorted(only_first), sorted(only_again)) == ([], [])
    assert len(first) == 193


def test_a_project_without_iati_data_is_not_written(settings: Settings) -> None:
    with pytest.raises(NotWritableError) as refused:
        write_activities(load_folder(settings.data_dir), [URIRef("https://w3id.org/ilo-partnerships/id/project/sted-maghreb")],
                         "2026-11-30T09:00:00Z")
    assert refused.value.reasons == [
        "the project has no IATI identifier (ilop:iatiIdentifier)",
        "its source is not an IATI file whose reporting organisation has an IATI identifier and type",
        "the project has no day-precise start or end date (IATI dates are days)",
    ]


@pytest.fixture(scope="module")
def graph(settings: Settings, activities: Graph) -> Graph:
    """The example file's activities in the graph as the server holds it (with the organisations they refer to)."""
    return load_folder(settings.data_dir) + activities


def _with_title(graph: Graph, project: str, suffix: str) -> Graph:
    """A copy of the graph in which the project's English title ends with `suffix`."""
    changed = Graph() + graph
    title = next(t for t in changed.objects(URIRef(project), RDFS.label) if isinstance(t, Literal) and t.language == "en")
    changed.remove((URIRef(project), RDFS.label, title))
    changed.add((URIRef(project), RDFS.label, Literal(str(title) + suffix, lang="en")))
    return changed


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x0b", "\x1f", "\ufffe", "\uffff"], ids=codepoint_id)
def test_a_project_holding_a_character_xml_cannot_carry_is_left_out_with_the_reason(graph: Graph, character: str) -> None:
    reason = f"its rdfs:label holds U+{ord(character):04X}, a character XML cannot carry"
    with pytest.raises(NotWritableError) as refused:
        write_activities(_with_title(graph, PROJECT, character), [URIRef(PROJECT)], "2026-11-30T09:00:00Z")
    assert refused.value.reasons == [reason]
    # In the file of every project, the others are still written; with none left, there is no file to give.
    document, left_out = write_all_activities(_with_title(graph, PROJECT, character), "2026-11-30T09:00:00Z")
    assert document is not None and schema_errors(document) == []
    assert re.findall(rb"<iati-identifier>([^<]+)", document) == [b"XM-DAC-41302-TEST-001-A"]
    assert left_out == [(URIRef(PROJECT), [reason])]
    neither = _with_title(_with_title(graph, PROJECT, character), COMPONENT, character)
    assert write_all_activities(neither, "2026-11-30T09:00:00Z") == (
        None, [(URIRef(PROJECT), [reason]), (URIRef(COMPONENT), [reason])])


def test_a_carriage_return_in_a_value_comes_back_from_the_iati_file(graph: Graph) -> None:
    written = write_activities(_with_title(graph, PROJECT, "\r\nsecond line"), [URIRef(PROJECT)], "2026-11-30T09:00:00Z")
    assert schema_errors(written) == []
    titles = [n.text for n in etree.fromstring(written).iterfind("iati-activity/title/narrative")]
    assert titles[0] == "Decent work for young people in the Mekong\r\nsecond line"


def test_the_schema_check_reports_what_is_wrong() -> None:
    errors = schema_errors(b'<iati-activities version="2.03"><iati-activity><title/></iati-activity></iati-activities>')
    assert errors and errors[0].startswith("line 1: Element 'title': This element is not expected. Expected is ")


# ---------------------------------------------------------------- through a server


@pytest.fixture
def server(clean: SubmissionServer) -> SubmissionServer:
    """The shared submission server (embedded store), without submissions."""
    return clean


def submit(server: SubmissionServer, data: bytes, who: str = "alice") -> httpx.Response:
    headers = {**XML, **server.auth(who), "Content-Disposition": 'attachment; filename="mekong.xml"'}
    return httpx.post(server.url + "/submissions", content=data, headers=headers, timeout=120)


def label(server: SubmissionServer, identifier: str) -> list[str]:
    query = PREFIXES + f'SELECT ?l WHERE {{ ?p ilop:iatiIdentifier "{identifier}" ; rdfs:label ?l }}'
    response = httpx.post(server.url + "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    return [row["l"]["value"] for row in response.json()["results"]["bindings"]]


def test_validate_reports_the_element_and_line(server: SubmissionServer) -> None:
    response = httpx.post(server.url + "/validate", content=MISTAKES.read_bytes(), headers=XML, timeout=120)
    assert response.status_code == 200
    assert [(f["severity"], f["line"], f["where"], f["path"]) for f in response.json()["results"]] == [p[:4] for p in PLANTED]
    page = httpx.post(server.url + "/validate", content=MISTAKES.read_bytes(), headers={**XML, "Accept": "text/html"},
                      timeout=120)
    assert page.status_code == 200
    assert f"<code>{ACTIVITY}/transaction/value</code>".replace("'", "&#39;") in page.text
    assert '<li id="L23" value="23" class="marked violation">' in page.text


def test_a_project_the_data_does_not_allow_is_not_exported(server: SubmissionServer) -> None:
    response = httpx.get(server.url + "/id/project/sted-maghreb", headers={"Accept": "application/xml"})
    assert response.status_code == 406
    assert response.json()["detail"].startswith(
        "<https://w3id.org/ilo-partnerships/id/project/sted-maghreb> cannot be written as an IATI activity: the project "
        "has no IATI identifier (ilop:iatiIdentifier); "
    )


def test_an_unreadable_file_is_a_400_with_its_line(server: SubmissionServer) -> None:
    before = state(server)
    text, line, message = UNREADABLE["entity declarations"]
    response = submit(server, text.encode())
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"mekong.xml:{line}: {message}")
    assert state(server) == before


def test_an_import_is_stored_queried_and_updated_in_place(server: SubmissionServer) -> None:
    data = ACTIVITIES.read_bytes()
    created = submit(server, data)
    assert created.status_code == 201, created.text
    assert created.headers["submission-outcome"] == "created"
    assert label(server, "XM-DAC-41302-TEST-001") == ["Decent work for young people in the Mekong"]
    assert label(server, "XM-DAC-41302-TEST-001-A") == ["Youth employment services in Cambodia"]
    again = submit(server, data)
    outcome = (again.status_code, again.headers["submission-outcome"], again.json()["id"])
    assert outcome == (200, "unchanged", created.json()["id"])
    # The publisher's next file: the same activities, one title changed. It replaces the submission, not adds one.
    changed = submit(server, data.replace(b"Decent work for young people in the Mekong", b"Decent work for youth in the Mekong"))
    outcome = (changed.status_code, changed.headers["submission-outcome"], changed.json()["id"])
    assert outcome == (200, "replaced", created.json()["id"])
    assert label(server, "XM-DAC-41302-TEST-001") == ["Decent work for youth in the Mekong"]
    assert [s["id"] for s in httpx.get(server.url + "/submissions").json()["submissions"]] == [created.json()["id"]]
    # And out again as IATI, valid against the schema.
    exported = httpx.get(server.url + "/id/project/iati-XM-DAC-41302-TEST-001", params={"format": "iati"})
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/xml; charset=utf-8"
    assert schema_errors(exported.content) == []
    assert b"<narrative>Decent work for youth in the Mekong</narrative>" in exported.content
    assert re.findall(rb'<related-activity ref="([^"]+)" type="(\d)"/>', exported.content) == [
        (b"XM-DAC-41302-TEST-001-A", b"2"), (b"XM-DAC-41302-OTHER-9", b"3"),
    ]
    # The dumps too: every project with IATI data, as one file.
    dump = httpx.get(server.url + "/dumps", params={"format": "iati"}, timeout=60)
    assert dump.status_code == 200 and dump.headers["omitted-projects"] == "0"
    assert schema_errors(dump.content) == []
    assert re.findall(rb"<iati-identifier>([^<]+)", dump.content) == [b"XM-DAC-41302-TEST-001", b"XM-DAC-41302-TEST-001-A"]
    assert problem(httpx.get(server.url + "/dumps", params={"format": "yaml"})) == (
        400, "Unknown format 'yaml' for /dumps; use html or iati.")
    # Someone else's file about the same activities is refused, saying whose they are.
    before = state(server)
    other = submit(server, data, who="bob")
    assert other.status_code == 409
    assert f"held already by {created.json()['id']} by alice" in other.json()["detail"]
    assert state(server) == before
    # /validate checks such a file as POST /submissions would act on it: as the replacement.
    checked = httpx.post(server.url + "/validate", content=data, headers=XML, timeout=120).json()
    assert checked["conforms"] and checked["notices"][0] == (
        f"Checked as the replacement of submission {created.json()['id']} (by alice): its stored content is left out "
        "of the context."
    )
    assert httpx.delete(server.url + f"/submissions/{created.json()['id']}", headers=server.auth("alice")).status_code == 204


def test_the_command_line_imports_a_file_in_parts_and_again_changes_nothing(server: SubmissionServer, tmp_path: Path) -> None:
    path = tmp_path / "portfolio.xml"
    path.write_bytes(many_activities(6))
    command = ("import", "iati", str(path), "--server", server.url, "--token", server.tokens["bob"], "--batch-bytes", "10000")
    first = run_cli(*command, timeout=300)
    assert first.returncode == 0, first.stderr
    assert [line.split(":")[0] for line in first.stdout.splitlines()] == ["accepted"] * 3
    assert len(label(server, "XM-DAC-41302-TEST-004")) == 1
    before = state(server)
    second = run_cli(*command, timeout=300)
    assert second.returncode == 0, second.stderr
    assert [line.split(":")[0] for line in second.stdout.splitlines()] == ["submitted already"] * 3
    assert state(server) == before
