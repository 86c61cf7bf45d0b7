"""Fact tests: questions over the bundled data with the exact answers the sources give, and
checks that every fact is sourced and every identifier is one the reference verified."""

from pathlib import Path

import pycountry
import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, PROV, RDF

from server.namespaces import ID
from server.rdf.project_graphs import read_turtle, turtle_files
from server.settings import Settings

PREFIXES = """
PREFIX ilop: <https://w3id.org/ilo-partnerships/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX schema: <https://schema.org/>
PREFIX organisation: <https://w3id.org/ilo-partnerships/id/organisation/>
PREFIX project: <https://w3id.org/ilo-partnerships/id/project/>
PREFIX country: <https://w3id.org/ilo-partnerships/id/country/>
PREFIX role: <https://w3id.org/ilo-partnerships/codelist/organisation-role/>
PREFIX ccat: <https://w3id.org/ilo-partnerships/codelist/convention-category/>
"""

# Each data file holds what one source document states.
FILE_SOURCES = {
    "ilo-news-2021-05-26.ttl": "ilo-news-2021-05-26",
    "ilo-brief-korea-2020-07.ttl": "ilo-brief-korea-2020-07",
    "identifiers-reference.ttl": "identifiers-reference",
    "un-m49-regions.ttl": "un-m49",
    "eu-country-authority.ttl": "eu-country-authority",
    "normlex.ttl": "normlex",
    "iso-3166.ttl": "iso-3166",
}


def select(store: ox.Store, query: str) -> list[tuple[str | None, ...]]:
    result = store.query(PREFIXES + query)
    return [tuple(None if term is None else term.value for term in row) for row in result]


def test_countries_of_each_component_of_the_sse_knowledge_base_project(store: ox.Store) -> None:
    assert select(store, """
        SELECT ?number ?code WHERE {
            project:sse-knowledge-base ilop:hasComponent ?component .
            ?component ilop:sequenceNumber ?number ; dcterms:spatial/ilop:iso3166Alpha2 ?code .
        } ORDER BY ?number ?code""") == [
        ("1", "KG"), ("1", "KH"), ("1", "LA"), ("1", "MN"), ("1", "TH"), ("1", "VN"),
        ("2", "CR"), ("2", "IT"), ("2", "KR"), ("2", "TR"), ("2", "TZ"),
    ]


def test_signatories_and_date_of_the_2021_mou(store: ox.Store) -> None:
    assert select(store, """
        SELECT ?date ?name ?post ?organisation WHERE {
            ?mou a ilop:MemorandumOfUnderstanding ; ilop:signingDate ?date ; ilop:signatory ?person .
            ?person rdfs:label ?name .
            ?p org:heldBy ?person ; rdfs:label ?post ; org:postIn/org:unitOf/rdfs:label ?organisation .
        } ORDER BY ?name""") == [
        ("2021-05-06", "Noh Kil Jun", "Director-General of the Bureau of International Cooperation in MOEL",
         "Ministry of Employment and Labour"),
        ("2021-05-06", "Rie Vejs-Kjeldgaard", "Director of the Department of Partnership and Field Support (ILO PARDEV)",
         "International Labour Organization"),
    ]


def test_the_mou_parties_projects_and_cycle(store: ox.Store) -> None:
    assert select(store, """
        SELECT ?party ?project ?count ?cycle WHERE {
            ?mou a ilop:MemorandumOfUnderstanding ; ilop:party/rdfs:label ?party ;
                 ilop:coversProject/rdfs:label ?project ; ilop:statedProjectCount ?count ;
                 ilop:partOfCycle/rdfs:label ?cycle .
        } ORDER BY ?party""") == [
        ("International Labour Organization", "Strengthening the Social and Solidarity Economy (SSE) Knowledge Base", "7",
         "ILO/Korea Partnership Programme 2021-2023"),
        ("Ministry of Employment and Labour", "Strengthening the Social and Solidarity Economy (SSE) Knowledge Base", "7",
         "ILO/Korea Partnership Programme 2021-2023"),
    ]


def test_the_projects_koica_funds_and_the_amount(store: ox.Store) -> None:
    assert select(store, """
        SELECT ?project ?value ?currency WHERE {
            ?funding schema:funder organisation:koica ; schema:fundedItem/rdfs:label ?project ;
                     schema:amount [ schema:value ?value ; schema:currency ?currency ] .
        }""") == [("Aligning Skills Strategically with Sector Development Algeria, Morocco and Tunisia", "1000000", "USD")]


def test_the_roles_of_each_organisation_in_the_projects(store: ox.Store) -> None:
    assert select(store, """
        SELECT ?organisation ?role ?project WHERE {
            ?p a ilop:Project ; prov:qualifiedAssociation [ prov:agent ?a ; prov:hadRole/skos:prefLabel ?role ] .
            BIND(STRAFTER(STR(?a), "/id/") AS ?organisation) BIND(STRAFTER(STR(?p), "/project/") AS ?project)
        } ORDER BY ?organisation ?role ?project""") == [
        ("country/KR", "funding", "portworker-development"),
        ("organisation/ilo", "implementing", "asean-tvet"),
        ("organisation/ilo", "implementing", "osh-framework-myanmar-lao"),
        ("organisation/ilo", "implementing", "pes-english-speaking-africa"),
        ("organisation/ilo", "implementing", "sse-policy-asia"),
        ("organisation/itc-ilo", "partner", "osh-msmes"),
        ("organisation/koica", "funding", "sted-maghreb"),
        ("organisation/koreatech", "partner", "pes-english-speaking-africa"),
        ("organisation/ksepa", "partner", "sse-policy-asia"),
        ("organisation/moel", "funding", "asean-tvet"),
        ("organisation/moel", "funding", "pes-english-speaking-africa"),
        ("organisation/moel", "funding", "sse-policy-asia"),
        ("organisation/mofa", "funding", "sted-maghreb"),
    ]


def test_every_project_with_its_period_and_countries(store: ox.Store) -> None:
    periods = select(store, """
        SELECT ?project ?start ?end WHERE {
            ?p a ilop:Project . BIND(STRAFTER(STR(?p), "/project/") AS ?project)
            OPTIONAL { ?p dcterms:temporal/dcat:startDate ?start }
            OPTIONAL { ?p dcterms:temporal/dcat:endDate ?end }
        } ORDER BY ?project""")
    assert periods == [
        ("asean-tvet", None, None), ("osh-framework-myanmar-lao", None, None), ("osh-msmes", None, None),
        ("pes-english-speaking-africa", None, None), ("portworker-development", "2014", None),
        ("spf-asean", None, None), ("sse-knowledge-base", "2021", "2023"), ("sse-policy-asia", "2019", None),
        ("sted-maghreb", "2019-11", None),
    ]
    places: dict[str, set[str]] = {}
    for project, place in select(store, """
        SELECT ?project ?place WHERE {
            ?p a ilop:Project ; dcterms:spatial ?s . BIND(STRAFTER(STR(?p), "/project/") AS ?project)
            OPTIONAL { ?s ilop:iso3166Alpha2 ?code } BIND(COALESCE(?code, STRAFTER(STR(?s), "/id/")) AS ?place)
        }"""):
        places.setdefault(project, set()).add(place)
    assert places == {
        "asean-tvet": {"organisation/asean"},
        "osh-framework-myanmar-lao": {"LA", "MM"},
        "pes-english-speaking-africa": {"MW", "NA"},
        "spf-asean": {"organisation/asean"},
        "sse-policy-asia": {"CN", "ID", "JP", "KR", "MY", "PH"},
        "sted-maghreb": {"DZ", "MA", "TN"},
    }


def test_contributions_of_the_republic_of_korea(store: ox.Store) -> None:
    assert select(store, """
        SELECT ?type ?value ?currency ?qualifier ?start ?end WHERE {
            ?c a ilop:Contribution ; ilop:contributor country:KR ; ilop:recipient organisation:ilo ;
               ilop:contributionType/skos:prefLabel ?type ;
               schema:amount ?amount ; dcterms:temporal [ dcat:startDate ?start ; dcat:endDate ?end ] .
            ?amount schema:value ?value ; schema:currency ?currency .
            OPTIONAL { ?amount ilop:quantityQualifier/skos:prefLabel ?qualifier }
        } ORDER BY ?type""") == [
        ("assessed contribution", "37600000", "USD", None, "2016", "2019"),
        ("voluntary contribution", "9700000", "USD", "more than", "2016", "2019"),
    ]


def test_ratifications_by_the_republic_of_korea(store: ox.Store) -> None:
    assert select(store, """
        SELECT ?code ?category ?date ?inForce WHERE {
            ?r ilop:ratifyingCountry country:KR ; ilop:ratifiedConvention ?c .
            ?c schema:legislationIdentifier ?code ; ilop:conventionCategory/skos:prefLabel ?category .
            OPTIONAL { ?r ilop:ratificationDate ?date } OPTIONAL { ?r ilop:entryIntoForceDate ?inForce }
        } ORDER BY ?code""") == [
        ("C029", "fundamental convention", "2021-04-20", "2022-04-20"),
        ("C087", "fundamental convention", "2021-04-20", "2022-04-20"),
        ("C098", "fundamental convention", "2021-04-20", "2022-04-20"),
        ("C100", "fundamental convention", None, None),
        ("C111", "fundamental convention", None, None),
        ("C138", "fundamental convention", None, None),
        ("C155", "fundamental convention", "2008", None),
        ("C182", "fundamental convention", None, None),
        ("C187", "fundamental convention", "2008", None),
    ]


def test_the_ratification_tally_of_july_2020(store: ox.Store) -> None:
    assert select(store, """
        SELECT ?date ?total ?fundamental ?governance ?technical WHERE {
            ?t a ilop:RatificationTally ; ilop:ratifyingCountry country:KR ; dcterms:date ?date ;
               ilop:ratifiedTotal ?total ; ilop:ratifiedFundamental ?fundamental ;
               ilop:ratifiedGovernance ?governance ; ilop:ratifiedTechnical ?technical .
        }""") == [("2020-07", "29", "4", "3", "22")]


def test_programme_and_its_cycles(store: ox.Store) -> None:
    assert select(store, """
        SELECT ?cycle ?start ?end WHERE {
            ?c ilop:cycleOf/rdfs:label "ILO/Korea Partnership Programme"@en ; rdfs:label ?cycle ;
               dcterms:temporal [ dcat:startDate ?start ; dcat:endDate ?end ] .
        } ORDER BY ?start""") == [
        ("ILO/Korea Partnership Programme 2018-2020", "2018", "2020"),
        ("ILO/Korea Partnership Programme 2021-2023", "2021", "2023"),
    ]
    assert select(store, """
        SELECT ?start ?interval ?guide WHERE {
            ?p a ilop:PartnershipProgramme ; dcterms:temporal/dcat:startDate ?start ;
               ilop:renewalInterval ?interval ; ilop:guidedBy/skos:altLabel ?guide .
        }""") == [("2004", "P3Y", "ROAP")]


def test_korea_is_an_ilo_member_since_1991(store: ox.Store) -> None:
    assert select(store, """
        SELECT ?since WHERE { [] a org:Membership ; org:member country:KR ;
            org:organization organisation:ilo ; org:memberDuring/dcat:startDate ?since }""") == [("1991",)]


def test_outputs_and_events_of_the_projects(store: ox.Store) -> None:
    assert select(store, """
        SELECT ?project (COUNT(DISTINCT ?output) AS ?outputs) (COUNT(DISTINCT ?event) AS ?events) WHERE {
            ?p a ilop:Project . BIND(STRAFTER(STR(?p), "/project/") AS ?project)
            OPTIONAL { ?p (ilop:hasComponent|ilop:hasPhase)?/ilop:hasOutput ?output }
            OPTIONAL { ?p (ilop:hasComponent|ilop:hasPhase)?/ilop:hasEvent ?event }
        } GROUP BY ?project ORDER BY ?project""") == [
        ("asean-tvet", "0", "1"), ("osh-framework-myanmar-lao", "2", "2"), ("osh-msmes", "3", "0"),
        ("pes-english-speaking-africa", "3", "0"), ("portworker-development", "4", "1"), ("spf-asean", "1", "0"),
        ("sse-knowledge-base", "2", "1"), ("sse-policy-asia", "1", "0"), ("sted-maghreb", "0", "0"),
    ]
    assert select(store, """
        SELECT ?output ?event ?year WHERE { ?o ilop:presentedAt ?e ; rdfs:label ?output .
            ?e rdfs:label ?event ; schema:startDate ?year }""") == [
        ("Manual on cooperative statistics", "21st ICLS", "2023")]


def test_asean_members(store: ox.Store) -> None:
    assert [code for (code,) in select(store, """
        SELECT ?code WHERE { organisation:asean ilop:memberCountry/ilop:iso3166Alpha2 ?code } ORDER BY ?code""")] == [
        "BN", "ID", "KH", "LA", "MM", "MY", "PH", "SG", "TH", "VN"]


def test_source_documents_are_described(store: ox.Store) -> None:
    assert select(store, """
        SELECT ?title ?publisher ?issued WHERE {
            ?d a ilop:SourceDocument ; dcterms:title ?title ; dcterms:publisher/rdfs:label ?publisher .
            OPTIONAL { ?d dcterms:issued ?issued }
        } ORDER BY ?title""") == [
        ("Country authority table", "Publications Office of the European Union", None),
        ("ISO 3166-1: Codes for the representation of names of countries and their subdivisions, Part 1: Country codes",
         "International Organization for Standardization", None),
        ("MoU signed between ILO and Korea’s Ministry of Employment and Labour to promote SSE on a global scale",
         "International Labour Organization", "2021-05-26"),
        ("NORMLEX: Information System on International Labour Standards", "International Labour Organization", None),
        ("Reference: vocabularies, codelists and identifiers", "ILO partnerships knowledge graph project", None),
        ("Republic of Korea ILO Cooperation", "ILO Department of Partnerships and Field Support", "2020-07"),
        ("Standard country or area codes for statistical use (M49)", "United Nations Statistics Division", None),
    ]


# ---------------------------------------------------------------- provenance and identifiers


def test_every_data_file_is_mapped_to_its_source(settings: Settings) -> None:
    files = {p.name for p in turtle_files(settings.data_dir)}
    assert files == set(FILE_SOURCES) | {"sources.ttl"}


@pytest.mark.parametrize("name, source", sorted(FILE_SOURCES.items()))
def test_every_subject_of_a_file_derives_from_its_source(settings: Settings, name: str, source: str) -> None:
    graph = read_turtle(settings.data_dir / name).graph
    subjects = {s for s in graph.subjects() if isinstance(s, URIRef)}
    assert subjects
    unsourced = sorted(str(s) for s in subjects if (s, PROV.wasDerivedFrom, ID[f"source/{source}"]) not in graph)
    assert unsourced == []


def test_sources_file_describes_only_source_documents(settings: Settings) -> None:
    graph = read_turtle(settings.data_dir / "sources.ttl").graph
    types = {o for s in graph.subjects() for o in graph.objects(s, RDF.type)}
    assert types == {URIRef("https://w3id.org/ilo-partnerships/ontology#SourceDocument")}


def test_country_codes_are_those_of_iso_3166(store: ox.Store) -> None:
    countries = select(store, """
        SELECT ?a2 ?a3 ?num WHERE { ?c a ilop:Country ; ilop:iso3166Alpha2 ?a2 ; ilop:iso3166Alpha3 ?a3 ; ilop:m49Code ?num }""")
    assert len(countries) == 27
    for a2, a3, num in countries:
        official = pycountry.countries.get(alpha_2=a2)
        assert (a2, official.alpha_3, official.numeric) == (a2, a3, num)


# The links of identifiers.md: only [V], [V2] and [S] ones, each with its level.
# Each link typed by what it says: a Wikidata item is the same thing (owl:sameAs); a GeoNames feature
# and a concept of the EU authority table are matches (skos:exactMatch). Its evidence says how it was
# obtained: an address built from a code by the publisher's pattern is not "verified in two sources".
EXPECTED_LINKS = {
    ("organisation/ilo", "sameAs", "http://www.wikidata.org/entity/Q54129", "two-sources"),
    ("organisation/asean", "sameAs", "http://www.wikidata.org/entity/Q7768", "two-sources"),
    ("country/KR", "sameAs", "http://www.wikidata.org/entity/Q884", "two-sources"),
    ("country/NA", "sameAs", "http://www.wikidata.org/entity/Q1030", "two-sources"),
    ("country/VN", "sameAs", "http://www.wikidata.org/entity/Q881", "two-sources"),
    *{(f"country/{c}", "sameAs", f"http://www.wikidata.org/entity/{q}", "single-source") for c, q in [
        ("DZ", "Q262"), ("MA", "Q1028"), ("TN", "Q948"), ("MM", "Q836"), ("LA", "Q819"), ("MW", "Q1020"),
        ("MN", "Q711"), ("KH", "Q424"), ("TH", "Q869"), ("KG", "Q813"), ("IT", "Q38"), ("TR", "Q43"),
        ("CR", "Q800"), ("TZ", "Q924"), ("CH", "Q39")]},
    *{(f"country/{c}", "exactMatch", f"http://sws.geonames.org/{g}/", "two-sources") for c, g in [
        ("KR", "1835841"), ("DZ", "2589581"), ("MA", "2542007"), ("TN", "2464461"), ("MM", "1327865"),
        ("LA", "1655842"), ("NA", "3355338"), ("MW", "927384"), ("MN", "2029969"), ("VN", "1562822"),
        ("KH", "1831722"), ("TH", "1605651"), ("KG", "1527747"), ("IT", "3175395"), ("TR", "298795"),
        ("CR", "3624060"), ("TZ", "149590"), ("CH", "2658434")]},
    # The EU country authority's codes are the ISO 3166-1 alpha-3 codes (checked against ISO below).
    *{(f"country/{a2}", "exactMatch", "http://publications.europa.eu/resource/authority/country/"
       + pycountry.countries.get(alpha_2=a2).alpha_3, "publisher-pattern")
      for a2 in "BN CH CM CN CO CR DZ ID IT JP KG KH KR LA MA MM MN MW MY NA PH SG TH TN TR TZ VN".split()},
}


def test_links_are_exactly_the_verified_ones_with_their_evidence(store: ox.Store) -> None:
    links = select(store, """
        SELECT ?s ?kind ?target ?level WHERE {
            VALUES ?p { owl:sameAs skos:exactMatch skos:closeMatch }
            ?x ?p ?target . BIND(STRAFTER(STR(?x), "/id/") AS ?s) BIND(REPLACE(STR(?p), "^.*[#/]", "") AS ?kind)
            FILTER(!STRSTARTS(STR(?target), "https://w3id.org/ilo-partnerships/"))
            OPTIONAL { [] rdf:subject ?x ; rdf:predicate ?p ; rdf:object ?target ;
                          ilop:evidenceLevel ?l . BIND(STRAFTER(STR(?l), "evidence-level/") AS ?level) }
        }""")
    assert len(links) == len(EXPECTED_LINKS)
    assert set(links) == EXPECTED_LINKS


def test_conventions_link_to_their_normlex_pages_with_evidence(store: ox.Store) -> None:
    links = select(store, """
        SELECT ?code ?page ?level WHERE {
            ?c schema:legislationIdentifier ?code ; rdfs:seeAlso ?page .
            [] rdf:subject ?c ; rdf:predicate rdfs:seeAlso ; rdf:object ?page ;
               ilop:evidenceLevel ?l . BIND(STRAFTER(STR(?l), "evidence-level/") AS ?level)
        } ORDER BY ?code""")
    codes = ["C029", "C081", "C087", "C098", "C100", "C105", "C111", "C122", "C129", "C138", "C144", "C155", "C182", "C187"]
    page = "https://normlex.ilo.org/dyn/nrmlx_en/f?p=NORMLEXPUB:12100:0::NO::P12100_ILO_CODE:"
    assert links == [(code, page + code, "publisher-pattern") for code in codes]


def test_no_link_for_organisations_the_reference_could_not_verify(data: Graph) -> None:
    unverified = ["moel", "mofa", "koica", "ksepa", "koreatech", "itc-ilo"]
    assert [o for o in unverified if (ID[f"organisation/{o}"], OWL.sameAs, None) in data] == []


def test_iati_identifiers_with_evidence(store: ox.Store) -> None:
    assert select(store, """
        SELECT ?org ?id ?level WHERE {
            ?o ilop:iatiOrganisationIdentifier ?id . ?o skos:altLabel ?org . FILTER(STRLEN(?org) <= 5)
            [] rdf:subject ?o ; rdf:predicate ilop:iatiOrganisationIdentifier ; rdf:object ?id ;
               ilop:evidenceLevel ?l . BIND(STRAFTER(STR(?l), "evidence-level/") AS ?level)
        } ORDER BY ?org""") == [("ILO", "XM-DAC-41302", "two-sources"), ("KOICA", "KR-GOV-051", "single-source")]


def test_data_directory_holds_only_turtle(settings: Settings) -> None:
    everything = sorted(p.name for p in Path(settings.data_dir).iterdir())
    assert everything and all(name.endswith(".ttl") for name in everything)


def test_convention_categories_carry_their_dates_so_july_2020_counts_the_briefs_four(store: ox.Store) -> None:
    # The brief (July 2020): "four Fundamental" conventions. C155 and C187, ratified in 2008, became
    # fundamental only in 2022; C029, C087 and C098 were ratified in 2021.
    assert select(store, """
        SELECT (COUNT(DISTINCT ?c) AS ?fundamental) WHERE {
            ?r ilop:ratifyingCountry country:KR ; ilop:ratifiedConvention ?c .
            ?c ilop:conventionCategory ccat:fundamental .
            OPTIONAL { ?c ilop:categorySince ?since } OPTIONAL { ?r ilop:ratificationDate ?date }
            FILTER (!BOUND(?since) || STR(?since) <= "2020-07")
            FILTER (!BOUND(?date) || STR(?date) <= "2020-07")
        }""") == [("4",)]
    assert select(store, """
        SELECT ?code ?since WHERE { ?c schema:legislationIdentifier ?code ; ilop:categorySince ?since } ORDER BY ?code
        """) == [("C155", "2022"), ("C187", "2022")]
