"""The project's namespaces, defined once.

Every IRI the project mints lives under BASE. The vocabulary uses hash IRIs (terms land on a
section of the ontology's page); data and codelists use slash IRIs, one per resource.
"""

from rdflib import Namespace

BASE = "https://w3id.org/ilo-partnerships/"

ONTOLOGY_IRI = BASE + "ontology"
ILOP = Namespace(ONTOLOGY_IRI + "#")
ILOSH = Namespace(BASE + "shapes#")
CODELIST = Namespace(BASE + "codelist/")
ID = Namespace(BASE + "id/")
# Named graphs of the store: one per source file, e.g. graph/data/ilo-news-2021-05-26.
GRAPH = Namespace(BASE + "graph/")

SCHEMA = Namespace("https://schema.org/")

# Prefixes used when printing IRIs to people, most specific first.
DISPLAY_PREFIXES: dict[str, str] = {
    "ilop": str(ILOP),
    "ilosh": str(ILOSH),
    **{
        prefix: f"{CODELIST}{scheme}/"
        for prefix, scheme in (
            ("theme", "theme"), ("role", "organisation-role"), ("status", "activity-status"),
            ("sector", "development-sector"), ("dac", "dac-sector"), ("otype", "output-type"),
            ("ostatus", "output-status"), ("etype", "event-type"), ("ctype", "contribution-type"),
            ("ccat", "convention-category"), ("qual", "quantity-qualifier"), ("evid", "evidence-level"),
            ("dtype", "document-type"),
        )
    },
    "cl": str(CODELIST),
    **{
        prefix: f"{ID}{kind}/"
        for prefix, kind in (
            ("agreement", "agreement"), ("component", "component"), ("contribution", "contribution"),
            ("convention", "convention"), ("country", "country"), ("cycle", "programme-cycle"),
            ("event", "event"), ("funding", "funding"), ("law", "law"), ("link", "link"),
            ("membership", "membership"), ("organisation", "organisation"), ("output", "output"),
            ("period", "period"), ("person", "person"), ("phase", "phase"), ("post", "post"),
            ("programme", "programme"), ("project", "project"), ("ratification", "ratification"),
            ("region", "region"), ("source", "source"), ("strategy", "strategy"), ("tally", "ratification-tally"),
            ("submission", "submission"), ("submitter", "submitter"),
        )
    },
    "id": str(ID),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "sh": "http://www.w3.org/ns/shacl#",
    "dcterms": "http://purl.org/dc/terms/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": str(SCHEMA),
    "fibo": "https://spec.edmcouncil.org/fibo/ontology/FND/Agreements/Agreements/",
    "frapo": "http://purl.org/cerif/frapo/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "cv": "http://data.europa.eu/m8g/",
    "void": "http://rdfs.org/ns/void#",
    "wd": "http://www.wikidata.org/entity/",
}


# Prefixes people commonly write in queries without declaring them, beyond the display prefixes:
# a query that uses one undeclared is told which IRI to declare.
WELL_KNOWN_PREFIXES: dict[str, str] = {
    **DISPLAY_PREFIXES,
    "dc": "http://purl.org/dc/elements/1.1/",
    "wdt": "http://www.wikidata.org/prop/direct/",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "gn": "https://www.geonames.org/ontology#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
}


def shorten(iri: str) -> str:
    """An IRI as a prefixed name where a display prefix fits, else in angle brackets."""
    for prefix, namespace in DISPLAY_PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return f"<{iri}>"
