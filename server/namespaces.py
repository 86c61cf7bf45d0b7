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
    "theme": str(CODELIST) + "theme/",
    "role": str(CODELIST) + "organisation-role/",
    "status": str(CODELIST) + "activity-status/",
    "cl": str(CODELIST),
    "organisation": str(ID) + "organisation/",
    "person": str(ID) + "person/",
    "project": str(ID) + "project/",
    "component": str(ID) + "component/",
    "phase": str(ID) + "phase/",
    "output": str(ID) + "output/",
    "event": str(ID) + "event/",
    "country": str(ID) + "country/",
    "source": str(ID) + "source/",
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
}


def shorten(iri: str) -> str:
    """An IRI as a prefixed name where a display prefix fits, else in angle brackets."""
    for prefix, namespace in DISPLAY_PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return f"<{iri}>"
