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

# Named graphs of accepted submissions, one each: graph/submissions/{id}.
SUBMISSION_GRAPHS = f"{GRAPH}submissions/"
SUBMISSION = f"{ID}submission/"
SUBMITTER = f"{ID}submitter/"
# Every IRI the server mints for itself or describes: records, graphs, vocabulary, shapes, codes, and
# the dataset, its endpoint, dumps, queries and context. A submission may refer to them but never
# describe them (it must not speak for them).
RESERVED_NAMESPACES = (
    SUBMISSION, SUBMITTER, str(GRAPH), f"{BASE}ontology", f"{BASE}shapes", f"{BASE}codelist/", f"{BASE}dataset",
    f"{BASE}.well-known/", f"{BASE}sparql", f"{BASE}dumps", f"{BASE}queries", f"{BASE}context.jsonld",
)

# Other vocabularies, as plain strings (rdflib's namespace objects are for rdflib graphs only).
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SH = "http://www.w3.org/ns/shacl#"
DCTERMS = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
PROV = "http://www.w3.org/ns/prov#"
FOAF = "http://xmlns.com/foaf/0.1/"
VOID = "http://rdfs.org/ns/void#"
SD = "http://www.w3.org/ns/sparql-service-description#"
# W3C's IRIs of the formats themselves (https://www.w3.org/ns/formats/).
W3C_FORMATS = "http://www.w3.org/ns/formats/"
RDF_TYPE = RDF + "type"
RDFS_LABEL = RDFS + "label"

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
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "sh": SH,
    "dcterms": DCTERMS,
    "dcat": DCAT,
    "org": "http://www.w3.org/ns/org#",
    "prov": PROV,
    "schema": str(SCHEMA),
    "fibo": "https://spec.edmcouncil.org/fibo/ontology/FND/Agreements/Agreements/",
    "frapo": "http://purl.org/cerif/frapo/",
    "foaf": FOAF,
    "cv": "http://data.europa.eu/m8g/",
    "void": VOID,
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
