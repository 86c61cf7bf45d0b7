"""What the graph says about one of its IRIs: the data of its page and of its RDF representations.

An IRI the project mints (under the data base, settings.data_base) is served at the same
path on this server. Its description is symmetric: the triples it is the subject of (with
the blank nodes they lead to) and the triples that point at it. On its page each fact names
where it comes from: the named graph it is stored in (one per source file or submission) and
the source documents its subject is derived from (prov:wasDerivedFrom) in that graph.
"""

from collections import defaultdict
from datetime import UTC, datetime

import pyoxigraph as ox
from rdflib import URIRef

from server.exchange.iati_writing import construct_query, write_activities, write_all_activities
from server.linked_data.link_targets import target_of
from server.linked_data.page_model import EntityView, Fact, Term
from server.namespaces import BASE, CODELIST, DISPLAY_PREFIXES, ID, RDF_TYPE, shorten
from server.rdf.parsing import graph_of_ntriples
from server.sparql.service import SparqlService

_LABELS = "<http://www.w3.org/2000/01/rdf-schema#label>|<http://www.w3.org/2004/02/skos/core#prefLabel>"
_DERIVED = "<http://www.w3.org/ns/prov#wasDerivedFrom>"
# A page lists at most this many incoming links (a country may be pointed at by thousands).
MAX_INCOMING = 500
# Blank nodes followed from an entity, for its RDF description and its page.
_NESTING = 3


class EntityService:
    """Describes the IRIs of the graph, by asking the store through the SPARQL service."""

    def __init__(self, sparql: SparqlService, data_base: str = BASE):
        self._sparql = sparql
        self._base = data_base

    def iri_for_path(self, path: str) -> str | None:
        """The IRI a request path on this server stands for, or None if it is not a valid IRI."""
        iri = self._base + path.lstrip("/")
        try:
            ox.NamedNode(iri)
        except ValueError:
            return None
        return iri

    def local_path(self, iri: str) -> str | None:
        """The path on this server of one of our IRIs (without its fragment), or None for others."""
        if not iri.startswith(self._base):
            return None
        return "/" + iri[len(self._base):]

    async def triples(self, iri: str) -> bytes | None:
        """The entity's symmetric description as N-Triples, or None if the graph does not mention it."""
        node = str(ox.NamedNode(iri))
        template = f"{node} ?p ?o ."
        # Built from the inside out: each level follows a blank node of the level above it.
        inner = ""
        for depth in range(_NESTING, 0, -1):
            above = "?o" if depth == 1 else f"?o{depth - 1}"
            inner = f"OPTIONAL {{ FILTER(isBlank({above})) {above} ?p{depth} ?o{depth} {inner} }}"
            template += f" {above} ?p{depth} ?o{depth} ."
        text = (
            f"CONSTRUCT {{ {template} ?s ?q {node} }} WHERE {{ {{ {node} ?p ?o {inner} }} UNION {{ ?s ?q {node} }} }}"
        )
        answer = await self._sparql.construct(text)
        return answer or None

    async def iati(self, iri: str) -> bytes | None:
        """The project as an IATI activity file (2.03, checked against the schema), or None if the graph does not
        mention it; NotWritableError with the reasons if its data does not make a valid activity."""
        answer = await self._sparql.construct(construct_query(iri))
        if not answer:
            return None
        return write_activities(graph_of_ntriples(answer, "(store)"), [URIRef(iri)], _now())

    async def iati_all(self) -> tuple[bytes | None, list[tuple[str, list[str]]]]:
        """Every project with an IATI identifier whose data makes a valid activity, as one IATI file (None if there
        is none); and the others, each with the reasons it is left out."""
        answer = await self._sparql.construct(construct_query())
        document, refused = write_all_activities(graph_of_ntriples(answer or b"", "(store)"), _now())
        return document, [(str(p), reasons) for p, reasons in refused]

    async def view(self, iri: str) -> EntityView | None:
        """The entity's page data, or None if the graph does not mention it."""
        node = str(ox.NamedNode(iri))
        out = await self._sparql.select(
            "SELECT ?g ?p ?o ?p1 ?o1 ?src WHERE { GRAPH ?g { "
            f"{node} ?p ?o OPTIONAL {{ FILTER(isBlank(?o)) ?o ?p1 ?o1 }} OPTIONAL {{ {node} {_DERIVED} ?src }} }} }}"
        )
        incoming = await self._sparql.select(
            f"SELECT ?s ?q ?owner ?r WHERE {{ ?s ?q {node} OPTIONAL {{ FILTER(isBlank(?s)) ?owner ?r ?s }} }} "
            f"ORDER BY ?q ?s LIMIT {MAX_INCOMING}"
        )
        out_rows, in_rows = out["results"]["bindings"], incoming["results"]["bindings"]
        if not out_rows and not in_rows:
            return None
        total = len(in_rows)
        if total == MAX_INCOMING:
            count = await self._sparql.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?q {node} }}")
            total = int(count["results"]["bindings"][0]["n"]["value"])
        labels = await self._labels(_iris(out_rows + in_rows) | {iri})
        return self._build(iri, out_rows, in_rows, total, labels)

    async def suggestions(self, iri: str) -> list[Term]:
        """Described IRIs in the same folder as an unknown one (for a helpful 404), by label."""
        folder = iri.rsplit("/", 1)[0] + "/"
        # Only the folders the project mints (each query is cached per version of the data, so
        # made-up folders cannot make every 404 a fresh scan).
        known = {ns for ns in DISPLAY_PREFIXES.values() if ns.startswith((str(ID), str(CODELIST)))}
        if folder.replace(self._base, BASE, 1) not in known:
            return []
        prefix = ox.Literal(folder)
        answer = await self._sparql.select(
            f"SELECT DISTINCT ?s WHERE {{ ?s a ?type FILTER(isIRI(?s) && STRSTARTS(STR(?s), {prefix})) }} "
            "ORDER BY ?s LIMIT 50"
        )
        iris = [row["s"]["value"] for row in answer["results"]["bindings"]]
        labels = await self._labels(set(iris))
        return [self._term_for_iri(i, labels) for i in iris]

    async def _labels(self, iris: set[str]) -> dict[str, str]:
        if not iris:
            return {}
        values = " ".join(str(ox.NamedNode(i)) for i in sorted(iris))
        answer = await self._sparql.select(
            f"SELECT ?x (SAMPLE(?l) AS ?label) WHERE {{ VALUES ?x {{ {values} }} ?x {_LABELS} ?l "
            # COALESCE: Virtuoso gives no LANG at all (not "") for a literal without a language.
            'FILTER(COALESCE(LANG(?l), "") = "" || LANGMATCHES(LANG(?l), "en")) } GROUP BY ?x'
        )
        return {row["x"]["value"]: row["label"]["value"] for row in answer["results"]["bindings"]}

    def _build(
        self, iri: str, out_rows: list[dict], in_rows: list[dict], total: int, labels: dict[str, str]
    ) -> EntityView:
        facts: dict[tuple[str, str, str], Fact] = {}
        nested_seen: set[tuple[str, ...]] = set()
        for row in out_rows:
            key = (row["p"]["value"], _key(row["o"]), "")
            fact = facts.get(key)
            if fact is None:
                fact = facts[key] = Fact(self._term(row["p"], labels), self._term(row["o"], labels))
            graph = Term(row["g"]["value"].removeprefix(self._base), row["g"]["value"])
            if graph not in fact.graphs:
                fact.graphs.append(graph)
            if "src" in row:
                source = self._term(row["src"], labels)
                if source not in fact.sources:
                    fact.sources.append(source)
            if "p1" in row:
                # The same nested triple comes once per graph and source row; shown once.
                inner = (*key[:2], row["p1"]["value"], _key(row["o1"]))
                if inner not in nested_seen:
                    fact.nested.append(Fact(self._term(row["p1"], labels), self._term(row["o1"], labels)))
                    nested_seen.add(inner)
        ordered = sorted(facts.values(), key=lambda f: (f.predicate.iri != RDF_TYPE, f.predicate.text, f.value.text))
        types = [f.value for f in ordered if f.predicate.iri == RDF_TYPE]
        external = [f.value for f in ordered if f.value.iri and not f.value.local and f.predicate.iri != RDF_TYPE]
        incoming = []
        for row in in_rows:
            subject = row["s"]
            if subject["type"] == "bnode" and "owner" in row:
                owner = self._term(row["owner"], labels)
                via = self._term(row["r"], labels)
                value = Term(owner.text, owner.iri, owner.local, note=f"through {via.text}")
            else:
                value = self._term(subject, labels)
            incoming.append(Fact(self._term(row["q"], labels), value))
        return EntityView(iri, labels.get(iri, shorten(iri)), types, [f for f in ordered if f.predicate.iri != RDF_TYPE],
                          incoming, total, _unique(external))

    def _term(self, binding: dict, labels: dict[str, str]) -> Term:
        kind, value = binding["type"], binding["value"]
        if kind == "uri":
            return self._term_for_iri(value, labels)
        if kind == "bnode":
            return Term("(a nested description)")
        note = f"@{binding['xml:lang']}" if "xml:lang" in binding else None
        if "datatype" in binding:
            note = shorten(binding["datatype"])
        return Term(value, note=note)

    def _term_for_iri(self, iri: str, labels: dict[str, str]) -> Term:
        target = target_of(iri)
        text = labels.get(iri) or (target.display(iri) if target else shorten(iri))
        return Term(text, iri, local=self.local_path(iri) is not None)


def _key(binding: dict) -> str:
    return f"{binding['type']} {binding['value']} {binding.get('xml:lang', '')} {binding.get('datatype', '')}"


def _iris(rows: list[dict]) -> set[str]:
    return {b["value"] for row in rows for b in row.values() if b["type"] == "uri"}


def _unique(terms: list[Term]) -> list[Term]:
    seen: dict[str | None, Term] = {}
    for term in terms:
        seen.setdefault(term.iri, term)
    return list(seen.values())


def group_by_predicate(facts: list[Fact]) -> list[tuple[Term, list[Fact]]]:
    """Facts grouped under their predicate, in the order given (for the page's table)."""
    groups: dict[str | None, list[Fact]] = defaultdict(list)
    predicates: dict[str | None, Term] = {}
    for fact in facts:
        groups[fact.predicate.iri].append(fact)
        predicates.setdefault(fact.predicate.iri, fact.predicate)
    return [(predicates[k], v) for k, v in groups.items()]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
