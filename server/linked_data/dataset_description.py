"""The dataset's description of itself, in VoID and DCAT, computed from the store.

Counts (triples, entities, classes and properties, their partitions, the links into each
other graph) are asked of the store through the SPARQL service when the description is
asked for, so they are always those of the data served; answers are cached per version of
the data like any query's.
"""

from dataclasses import dataclass

import pyoxigraph as ox

from server.linked_data.link_targets import LINK_TARGETS
from server.namespaces import BASE, DCAT, DCTERMS, DISPLAY_PREFIXES, FOAF, ONTOLOGY_IRI, RDF_TYPE, VOID, XSD
from server.sparql.service import SparqlService
from server.store.dumps import DumpFile
from server.store.embedded import StoreInfo

DATASET_IRI = BASE + "dataset"
LICENCE = "https://creativecommons.org/licenses/by/4.0/"
PUBLISHER = BASE + "id/organisation/ilo-partnerships-kg"
SHAPES_IRI = BASE + "shapes"
# Resources a newcomer can start from: the partner country, the 2021 MoU, a project, a theme.
EXAMPLES = (
    BASE + "id/country/KR", BASE + "id/agreement/ilo-moel-mou-2021", BASE + "id/organisation/koica",
    BASE + "codelist/theme/social-and-solidarity-economy",
)
# The predicates that link to other graphs (an evidence record's rdf:object names a link's
# target too, but is not itself a link).
LINK_PREDICATES = (
    "http://www.w3.org/2002/07/owl#sameAs", "http://www.w3.org/2000/01/rdf-schema#seeAlso",
    "http://www.w3.org/2004/02/skos/core#exactMatch", "http://www.w3.org/2004/02/skos/core#closeMatch",
)


@dataclass(frozen=True)
class Linkset:
    """The links of one predicate into one other graph, and how many there are."""

    target: str
    predicate: str
    triples: int

    @property
    def iri(self) -> str:
        return f"{DATASET_IRI}#linkset-{self.target}-{self.predicate.rsplit('#', 1)[-1]}"


class DatasetDescriber:
    """Builds the VoID/DCAT description of the data the store holds."""

    def __init__(self, sparql: SparqlService):
        self._sparql = sparql

    async def linksets(self) -> list[Linkset]:
        """The links into each known other graph, by predicate, counted in the store."""
        found = []
        for target in LINK_TARGETS:
            answer = await self._rows(
                f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ VALUES ?p {{ {' '.join(f'<{p}>' for p in LINK_PREDICATES)} }} ?s ?p ?o "
                f"FILTER(isIRI(?o) && STRSTARTS(STR(?o), {ox.Literal(target.namespace)})) }} GROUP BY ?p ORDER BY ?p"
            )
            found += [Linkset(target.name, row["p"]["value"], int(row["n"]["value"])) for row in answer]
        return found

    async def describe(self, site: str, info: StoreInfo, dumps: list[DumpFile], linksets: list[Linkset]) -> list[ox.Triple]:
        """The description, with the SPARQL endpoint and dumps at `site` (this server's root URL) and the
        linksets counted by linksets()."""
        totals = (await self._rows(
            "SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties) "
            "(COUNT(DISTINCT ?o) AS ?objects) WHERE { ?s ?p ?o }"
        ))[0]
        # Entities are the typed resources with an IRI; a class partition counts every instance
        # (prov:Association and dcterms:PeriodOfTime, say, have only blank-node instances).
        entities = (await self._rows("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c FILTER(isIRI(?s)) }"))[0]["n"]
        classes = await self._rows("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY ?c")
        properties = await self._rows("SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p")
        sources = await self._rows(
            f"SELECT ?d WHERE {{ ?d a <{ONTOLOGY_IRI}#SourceDocument> }} ORDER BY ?d"
        )
        d = _Builder()
        dataset = ox.NamedNode(DATASET_IRI)
        d.add(dataset, RDF_TYPE, ox.NamedNode(VOID + "Dataset"))
        d.add(dataset, RDF_TYPE, ox.NamedNode(DCAT + "Dataset"))
        d.add(dataset, DCTERMS + "title", ox.Literal("ILO partnerships knowledge graph", language="en"))
        d.add(dataset, DCTERMS + "description", ox.Literal(
            "The ILO's development-cooperation partnerships, starting with the Republic of Korea: partners, "
            "agreements, programmes, projects and their components, countries, funding, contributions and "
            "ratifications, each fact with its source; linked to Wikidata, GeoNames, the EU country authority "
            "and NORMLEX.", language="en"))
        d.add(dataset, DCTERMS + "license", ox.NamedNode(LICENCE))
        d.add(dataset, DCTERMS + "publisher", ox.NamedNode(PUBLISHER))
        d.add(dataset, DCTERMS + "modified", ox.Literal(
            info.last_modified.isoformat(timespec="seconds"), datatype=ox.NamedNode(XSD + "dateTime")))
        d.add(dataset, DCTERMS + "conformsTo", ox.NamedNode(SHAPES_IRI))
        for row in sources:
            d.add(dataset, DCTERMS + "source", ox.NamedNode(row["d"]["value"]))
        endpoint = ox.NamedNode(site + "sparql")
        d.add(dataset, VOID + "sparqlEndpoint", endpoint)
        d.add(endpoint, RDF_TYPE, ox.NamedNode(DCAT + "DataService"))
        d.add(endpoint, DCAT + "endpointURL", endpoint)
        d.add(endpoint, DCAT + "servesDataset", dataset)
        d.add(endpoint, DCTERMS + "title", ox.Literal("SPARQL 1.1 query endpoint", language="en"))
        d.add(dataset, VOID + "uriSpace", ox.Literal(BASE + "id/"))
        d.add(dataset, VOID + "rootResource", ox.NamedNode(BASE + "id/programme/ilo-korea-partnership-programme"))
        for example in EXAMPLES:
            d.add(dataset, VOID + "exampleResource", ox.NamedNode(example))
        for name in (ONTOLOGY_IRI, *_vocabularies([r["p"]["value"] for r in properties] + [r["c"]["value"] for r in classes])):
            d.add(dataset, VOID + "vocabulary", ox.NamedNode(name))
        # Blank nodes named by their place, so that the same data is described in the same bytes
        # (the description's ETag is strong).
        for number, dump in enumerate(dumps):
            url = ox.NamedNode(site + "dumps/" + dump.name)
            if dump.encoding is not None:
                d.add(dataset, VOID + "dataDump", url)
            distribution = ox.BlankNode(f"distribution{number}")
            d.add(dataset, DCAT + "distribution", distribution)
            d.add(distribution, RDF_TYPE, ox.NamedNode(DCAT + "Distribution"))
            d.add(distribution, DCTERMS + "title", ox.Literal(dump.title, language="en"))
            d.add(distribution, DCAT + "downloadURL", url)
            d.add(distribution, DCAT + "mediaType", ox.NamedNode(_iana(dump.media_type)))
            if dump.encoding is not None:
                d.add(distribution, DCAT + "compressFormat", ox.NamedNode(_iana("application/gzip")))
        for name, value in (("triples", totals["triples"]), ("distinctSubjects", totals["subjects"]),
                            ("properties", totals["properties"]), ("distinctObjects", totals["objects"]),
                            ("entities", entities), ("classes", {"value": str(len(classes))})):
            d.add(dataset, VOID + name, _integer(value["value"]))
        for number, row in enumerate(classes):
            partition = ox.BlankNode(f"class{number}")
            d.add(dataset, VOID + "classPartition", partition)
            d.add(partition, VOID + "class", ox.NamedNode(row["c"]["value"]))
            d.add(partition, VOID + "entities", _integer(row["n"]["value"]))
        for number, row in enumerate(properties):
            partition = ox.BlankNode(f"property{number}")
            d.add(dataset, VOID + "propertyPartition", partition)
            d.add(partition, VOID + "property", ox.NamedNode(row["p"]["value"]))
            d.add(partition, VOID + "triples", _integer(row["n"]["value"]))
        for target in LINK_TARGETS:
            other = ox.NamedNode(f"{DATASET_IRI}#{target.name}")
            d.add(other, RDF_TYPE, ox.NamedNode(VOID + "Dataset"))
            d.add(other, DCTERMS + "title", ox.Literal(target.title, language="en"))
            d.add(other, FOAF + "homepage", ox.NamedNode(target.homepage))
            d.add(other, VOID + "uriSpace", ox.Literal(target.namespace))
        for linkset in linksets:
            node = ox.NamedNode(linkset.iri)
            d.add(dataset, VOID + "subset", node)
            d.add(node, RDF_TYPE, ox.NamedNode(VOID + "Linkset"))
            d.add(node, VOID + "subjectsTarget", dataset)
            d.add(node, VOID + "objectsTarget", ox.NamedNode(f"{DATASET_IRI}#{linkset.target}"))
            d.add(node, VOID + "linkPredicate", ox.NamedNode(linkset.predicate))
            d.add(node, VOID + "triples", _integer(str(linkset.triples)))
        return d.triples

    async def _rows(self, text: str) -> list[dict]:
        return (await self._sparql.select(text))["results"]["bindings"]


class _Builder:
    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(self, subject: ox.NamedNode | ox.BlankNode, predicate: str, obj: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
        self.triples.append(ox.Triple(subject, ox.NamedNode(predicate), obj))


def _integer(value: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + "integer"))


def _iana(media_type: str) -> str:
    return f"http://www.iana.org/assignments/media-types/{media_type}"


def _vocabularies(terms: list[str]) -> list[str]:
    """The known vocabularies (namespaces with a display prefix, not our own data) the terms come from."""
    skipped = (BASE + "id/", BASE + "codelist/", ONTOLOGY_IRI, *(t.namespace for t in LINK_TARGETS))
    namespaces = sorted({ns for ns in DISPLAY_PREFIXES.values() if not ns.startswith(skipped)})
    used = {ns for ns in namespaces for term in terms if term.startswith(ns)}
    return sorted(used)
