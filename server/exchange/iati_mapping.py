"""IATI activities into the vocabulary, as the README's mapping table says, with the origin of every fact.

Each activity becomes a project (a component, when its parent activity is in the same file), its facts
taken from the elements listed in the table and nothing else. Every node carries prov:wasDerivedFrom
the file as a source document (its reporting organisation, its generated-datetime); every statement
records the element and line it came from, so a finding points back into the file.

IRIs: a project is id/project/iati-{identifier} unless the graph records the identifier on another
project (then that one is described, so an import updates it); an organisation is the one the graph
knows by its IATI identifier, else id/organisation/iati-{ref} (or iati-name-{hash} without a ref); a
country is id/country/{ISO code}. Organisations, countries and the source are described here only as
support: a description the graph holds already wins (server.exchange.inputs.refer_to_described).
"""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

import pyoxigraph as ox
from lxml import etree
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, ORG, PROV, RDF, RDFS, SKOS, XSD

from server.exchange.iati_reading import SUPPORTED_VERSIONS, XML_LANG, FileHeader, read_activities
from server.exchange.iati_schema import activity_errors
from server.exchange.support import Supporting, concept, decimal, language_tag, period, slug
from server.namespaces import CODELIST, ID, ILOP, SCHEMA
from server.rdf.origins import Origin, OriginGraph
from server.rdf.parsing import RdfInputError

ROLES = {"1": "funding", "2": "accountable", "3": "extending", "4": "implementing"}
STATUSES = {"1": "pipeline", "2": "implementation", "3": "finalisation", "4": "closed", "5": "cancelled", "6": "suspended"}
# IATI description types: 1 general, 2 objectives, 3 target groups, 4 other.
DESCRIPTIONS = {"1": DCTERMS.description, "2": ILOP.objectives, "3": ILOP.targetGroups, "4": SKOS.note}
PROJECT_PREFIX = f"{ID}project/iati-"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}", re.ASCII)


def project_iri(identifier: str) -> URIRef:
    """The IRI an activity gets when the graph records its identifier on no other project."""
    return URIRef(PROJECT_PREFIX + slug(identifier))


@dataclass
class Converted:
    """An IATI file in the vocabulary: the graph with origins, and what was described only in support."""

    graph: OriginGraph
    header: FileHeader | None
    supporting: set[URIRef] = field(default_factory=set)
    # The IATI 2.03 schema's complaints, activity by activity: (project IRI, where, line, message).
    schema_warnings: list[tuple[str, str, int | None, str]] = field(default_factory=list)


@dataclass
class _Activity:
    identifier: str
    iri: URIRef
    element_origin: Origin
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


def _web_address(url: str) -> URIRef | Literal:
    """An http(s) address as an IRI; anything else (or an address no IRI can hold) as a literal, which the shapes
    report at the document link."""
    if re.fullmatch(r"https?://\S+", url):
        try:
            return URIRef(ox.NamedNode(url).value)
        except ValueError:
            pass
    return Literal(url)


def where(element: etree._Element, attribute: str | None = None) -> Origin:
    """The element's path from the root (the activity named by its identifier) and line."""
    steps = []
    current: etree._Element | None = element
    while current is not None:
        parent = current.getparent()
        if current.tag == "iati-activity":
            identifier = (current.findtext("iati-identifier") or "").strip().replace("'", "")
            steps.append(f"iati-activity[iati-identifier='{identifier}']" if identifier else "iati-activity")
        elif parent is None:
            steps.append(str(current.tag))
        else:
            same = [c for c in parent if c.tag == current.tag]
            steps.append(f"{current.tag}[{same.index(current) + 1}]" if len(same) > 1 else str(current.tag))
        current = parent
    path = "/" + "/".join(reversed(steps)) + (f"/@{attribute}" if attribute else "")
    return Origin(path, element.sourceline)


class _Mapper:
    def __init__(self, source_name: str, known: Mapping[str, str]):
        self.out = OriginGraph()
        self.known = known
        self.source_name = source_name
        self.converted = Converted(self.out, None)
        self.support = Supporting(self.out)
        self.activities: dict[str, _Activity] = {}

    # ---------------------------------------------------------------- helpers

    def _narratives(self, element: etree._Element | None, default_lang: str) -> list[tuple[str, str, etree._Element]]:
        if element is None:
            return []
        found = []
        for narrative in element.findall("narrative"):
            text = " ".join((narrative.text or "").split())
            if text:
                written = narrative.get(XML_LANG) or default_lang
                language = language_tag(written)
                if language is None:
                    raise RdfInputError(
                        f"xml:lang={written!r} is not a language tag: write one such as en, fr or es-419",
                        source=self.source_name, line=narrative.sourceline,
                    )
                found.append((text, language, narrative))
        return found

    def _label(self, node: URIRef | BNode, element: etree._Element | None, lang: str, alternative=SKOS.altLabel) -> None:
        """The English narrative as rdfs:label (else the first, whose language the shapes then question), others as
        alternative names in their languages."""
        narratives = self._narratives(element, lang)
        if not narratives:
            return
        english = next((n for n in narratives if n[1] == "en"), narratives[0])
        self.out.add(node, RDFS.label, Literal(english[0], lang=english[1]), where(english[2]))
        for text, language, narrative in narratives:
            if narrative is not english[2]:
                self.out.add(node, alternative, Literal(text, lang=language), where(narrative))

    def _source(self, node: URIRef | BNode, source: URIRef, origin: Origin) -> None:
        self.out.add(node, PROV.wasDerivedFrom, source, origin)

    def _date(self, element: etree._Element | None, attribute: str = "iso-date") -> Literal | None:
        if element is None or element.get(attribute) is None:
            return None
        value = element.get(attribute, "").strip()
        return Literal(value, datatype=XSD.date) if _DATE.match(value) and len(value) == 10 else Literal(value)

    def organisation(self, element: etree._Element | None, lang: str, source: URIRef) -> URIRef | None:
        """The organisation an element names (by ref, else by name), described in support if the graph may lack it."""
        if element is None:
            return None
        ref = (element.get("ref") or "").strip()
        if ref and f"org:{ref}" in self.known:
            return URIRef(self.known[f"org:{ref}"])
        names = self._narratives(element, lang)
        if ref:
            iri = URIRef(f"{ID}organisation/iati-{slug(ref)}")
        elif names:
            iri = URIRef(f"{ID}organisation/iati-name-{hashlib.sha256(names[0][0].encode()).hexdigest()[:12]}")
        else:
            return None
        if self.support.first(iri):
            origin = where(element)
            self.out.node(iri, origin)
            self.out.add(iri, RDF.type, ORG.Organization, origin)
            if names:
                self._label(iri, element, lang)
            else:  # named only by its identifier, which is then its label
                self.out.add(iri, RDFS.label, Literal(ref, lang="en"), where(element, "ref"))
            if ref:
                self.out.add(iri, ILOP.iatiOrganisationIdentifier, Literal(ref), where(element, "ref"))
            kind = (element.get("type") or "").strip()
            if kind:
                self.out.add(iri, ILOP.organisationType, concept("iati-organisation-type", kind), where(element, "type"))
            self._source(iri, source, origin)
        return iri

    def source(self, activity: etree._Element, header: FileHeader, lang: str) -> URIRef:
        reporting = activity.find("reporting-org")
        ref = (reporting.get("ref") or "").strip() if reporting is not None else ""
        generated = header.generated or "undated"
        iri = URIRef(f"{ID}source/iati-{slug(ref or 'unknown')}-{slug(re.sub(r'[^0-9A-Za-z]', '', generated))}")
        if not self.support.first(iri):
            return iri
        origin = where(reporting if reporting is not None else activity)
        publisher = self.organisation(reporting, lang, iri)
        names = self._narratives(reporting, lang)
        who = names[0][0] if names else (ref or "an unnamed organisation")
        title = f"IATI activity file of {who}" + (f", generated {header.generated}" if header.generated else "")
        self.out.node(iri, origin)
        self.out.add(iri, RDF.type, ILOP.SourceDocument, origin)
        self.out.add(iri, RDFS.label, Literal(title, lang="en"), origin)
        self.out.add(iri, DCTERMS.title, Literal(title, lang="en"), origin)
        self.out.add(iri, ILOP.documentType, URIRef(f"{CODELIST}document-type/iati-activity-file"), origin)
        self.out.add(iri, ILOP.fileName, Literal(self.source_name), origin)
        if publisher is not None:
            self.out.add(iri, DCTERMS.publisher, publisher, origin)
        kind = (reporting.get("type") or "").strip() if reporting is not None else ""
        if kind:
            kind_concept = concept("iati-organisation-type", kind)
            self.out.add(iri, ILOP.reportingOrganisationType, kind_concept, where(reporting, "type"))
        if header.generated and _DATE.match(header.generated):
            self.out.add(iri, DCTERMS.issued, Literal(header.generated[:10], datatype=XSD.date), origin)
        return iri

    # ---------------------------------------------------------------- one activity

    def activity(self, header: FileHeader, activity: etree._Element) -> None:
        identifier = " ".join((activity.findtext("iati-identifier") or "").split())
        if not identifier:
            raise RdfInputError(
                "an <iati-activity> has no <iati-identifier>: every activity needs one to be imported",
                source=self.source_name, line=activity.sourceline,
            )
        if identifier in self.activities:
            raise RdfInputError(
                f"the activity {identifier} is in the file twice; keep one of them",
                source=self.source_name, line=activity.sourceline,
            )
        lang = (activity.get(XML_LANG) or "en").lower()
        currency = activity.get("default-currency")
        iri = URIRef(self.known.get(f"activity:{identifier}", str(project_iri(identifier))))
        origin = where(activity)
        record = self.activities[identifier] = _Activity(identifier, iri, origin)
        source = self.source(activity, header, lang)
        if header.version in SUPPORTED_VERSIONS:
            self.converted.schema_warnings += [
                (str(iri), origin.where + path, line, f"The IATI 2.03 schema: {message}")
                for line, path, message in activity_errors(activity, header.version)
            ]
        self.out.node(iri, origin)
        self.out.add(iri, ILOP.iatiIdentifier, Literal(identifier), where(activity.find("iati-identifier")))
        self._source(iri, source, origin)
        self._label(iri, activity.find("title"), lang)
        for description in activity.findall("description"):
            predicate = DESCRIPTIONS.get((description.get("type") or "1").strip(), SKOS.note)
            for text, language, narrative in self._narratives(description, lang):
                self.out.add(iri, predicate, Literal(text, lang=language), where(narrative))
        for participant in activity.findall("participating-org"):
            agent = self.organisation(participant, lang, source)
            role = ROLES.get((participant.get("role") or "").strip())
            if agent is None:
                continue
            association = self.out.part(iri, PROV.qualifiedAssociation, PROV.Association, where(participant))
            self.out.add(association, PROV.agent, agent, where(participant))
            self.out.add(association, PROV.hadRole, URIRef(f"{CODELIST}organisation-role/{role}") if role
                         else Literal((participant.get("role") or "").strip()), where(participant, "role"))
        status = activity.find("activity-status")
        if status is not None:
            self._status(iri, status, header, activity, source)
        self._dates(iri, activity)
        for place in activity.findall("recipient-country"):
            country = self.support.country((place.get("code") or "").strip().upper(), where(place, "code"))
            self.out.add(iri, DCTERMS.spatial, country, where(place, "code"))
            self._allocation(iri, place, country)
        for region in activity.findall("recipient-region"):
            if (region.get("vocabulary") or "1").strip() == "1":
                self._allocation(iri, region, concept("iati-region", region.get("code") or ""))
        for sector in activity.findall("sector"):
            vocabulary, code = (sector.get("vocabulary") or "1").strip(), (sector.get("code") or "").strip()
            if vocabulary == "1":
                self._allocation(iri, sector, concept("dac-sector", code))
            else:
                self._allocation(iri, sector, None, code, vocabulary, lang)
        for budget in activity.findall("budget"):
            self._budget(iri, budget, currency)
        for planned in activity.findall("planned-disbursement"):
            self._planned(iri, planned, currency, lang, source)
        for transaction in activity.findall("transaction"):
            self._transaction(iri, transaction, currency, lang, source)
        for link in activity.findall("document-link"):
            self._document(iri, link, lang)
        for result in activity.findall("result"):
            self._result(iri, result, lang)
        for related in activity.findall("related-activity"):
            ref, kind = (related.get("ref") or "").strip(), (related.get("type") or "").strip()
            if kind == "1":
                record.parents.append(ref)
            elif kind == "2":
                record.children.append(ref)
            elif ref:
                self.out.add(iri, DCTERMS.relation, URIRef(self.known.get(f"activity:{ref}", str(project_iri(ref)))),
                             where(related))

    def _status(self, iri, status, header, activity, source) -> None:
        code = (status.get("code") or "").strip()
        report = self.out.part(iri, ILOP.hasStatusReport, ILOP.StatusReport, where(status))
        self.out.add(report, ILOP.activityStatus, URIRef(f"{CODELIST}activity-status/{STATUSES[code]}")
                     if code in STATUSES else Literal(code), where(status, "code"))
        stamp = (activity.get("last-updated-datetime") or header.generated or "").strip()
        if _DATE.match(stamp):
            self.out.add(report, DCTERMS.date, Literal(stamp[:10], datatype=XSD.date), where(status))
        self._source(report, source, where(status))

    def _dates(self, iri, activity) -> None:
        dates: dict[str, etree._Element] = {}
        for date in activity.findall("activity-date"):
            dates.setdefault((date.get("type") or "").strip(), date)

        def value(kind: str) -> tuple[Literal | None, Origin | None]:
            element = dates.get(kind)
            return (self._date(element), where(element, "iso-date")) if element is not None else (None, None)

        for predicate, start_kind, end_kind in ((DCTERMS.temporal, "2", "4"), (ILOP.plannedPeriod, "1", "3")):
            (start, start_origin), (end, end_origin) = value(start_kind), value(end_kind)
            origin = start_origin or end_origin
            if origin is not None:
                period(self.out, iri, predicate, origin, start, end, start_origin, end_origin)

    def _allocation(self, iri, element, target: URIRef | None, code: str | None = None, vocabulary: str | None = None,
                    lang: str = "en") -> None:
        percentage = element.get("percentage")
        if target is not None and percentage is None and target.startswith(f"{ID}country/"):
            return  # a country without a share is said by dcterms:spatial alone
        allocation = self.out.part(iri, ILOP.hasAllocation, ILOP.Allocation, where(element))
        if target is not None:
            self.out.add(allocation, ILOP.allocatedTo, target, where(element, "code"))
        else:
            self.out.add(allocation, SKOS.notation, Literal(code or ""), where(element, "code"))
            self.out.add(allocation, ILOP.codeVocabulary, concept("iati-sector-vocabulary", vocabulary or ""),
                         where(element, "vocabulary"))
            self._label(allocation, element, lang)
        if percentage is not None:
            self.out.add(allocation, ILOP.percentage, decimal(percentage), where(element, "percentage"))

    def _money(self, owner, element, currency) -> None:
        value = element.find("value")
        if value is None:
            return
        amount = self.out.part(owner, SCHEMA.amount, SCHEMA.MonetaryAmount, where(value))
        self.out.add(amount, SCHEMA.value, decimal((value.text or "").strip()), where(value))
        chosen = (value.get("currency") or currency or "").strip()
        if chosen:
            self.out.add(amount, SCHEMA.currency, Literal(chosen), where(value, "currency" if value.get("currency") else None))

    def _span(self, node, element) -> None:
        """A budget's or planned disbursement's period, from its period-start and period-end."""
        start, end = element.find("period-start"), element.find("period-end")
        period(self.out, node, DCTERMS.temporal, where(element), self._date(start), self._date(end),
               where(start, "iso-date") if start is not None else None, where(end, "iso-date") if end is not None else None)

    def _budget(self, iri, budget, currency) -> None:
        node = self.out.part(iri, ILOP.hasBudget, ILOP.Budget, where(budget))
        kind = (budget.get("type") or "").strip()
        if kind:
            self.out.add(node, ILOP.budgetType, concept("iati-budget-type", kind), where(budget, "type"))
        self._span(node, budget)
        self._money(node, budget, currency)

    def _planned(self, iri, planned, currency, lang, source) -> None:
        node = self.out.part(iri, ILOP.hasPlannedDisbursement, ILOP.PlannedDisbursement, where(planned))
        self._span(node, planned)
        self._money(node, planned, currency)
        self._parties(node, planned, lang, source)

    def _parties(self, node, element, lang, source) -> None:
        for tag, predicate in (("provider-org", ILOP.provider), ("receiver-org", ILOP.receiver)):
            party = element.find(tag)
            agent = self.organisation(party, lang, source)
            if agent is not None:
                self.out.add(node, predicate, agent, where(party))

    def _transaction(self, iri, transaction, currency, lang, source) -> None:
        node = self.out.part(iri, ILOP.hasTransaction, ILOP.Transaction, where(transaction))
        kind = transaction.find("transaction-type")
        if kind is not None:
            self.out.add(node, ILOP.transactionType,
                         concept("iati-transaction-type", kind.get("code") or ""), where(kind, "code"))
        date = transaction.find("transaction-date")
        if date is not None:
            self.out.add(node, DCTERMS.date, self._date(date), where(date, "iso-date"))
        self._money(node, transaction, currency)
        self._parties(node, transaction, lang, source)
        for text, language, narrative in self._narratives(transaction.find("description"), lang):
            self.out.add(node, DCTERMS.description, Literal(text, lang=language), where(narrative))

    def _document(self, iri, link, lang) -> None:
        node = self.out.part(iri, ILOP.hasDocumentLink, ILOP.DocumentLink, where(link))
        url = (link.get("url") or "").strip()
        self.out.add(node, SCHEMA.url, _web_address(url), where(link, "url"))
        if link.get("format"):
            self.out.add(node, DCTERMS.format, Literal(link.get("format", "").strip()), where(link, "format"))
        for text, language, narrative in self._narratives(link.find("title"), lang):
            self.out.add(node, DCTERMS.title, Literal(text, lang=language), where(narrative))
        for category in link.findall("category"):
            code = (category.get("code") or "").strip()
            self.out.add(node, ILOP.documentCategory, concept("iati-document-category", code), where(category, "code"))
        for language in link.findall("language"):
            self.out.add(node, DCTERMS.language, Literal((language.get("code") or "").strip()), where(language, "code"))

    def _titled(self, node: BNode, element: etree._Element, lang: str) -> None:
        for child, predicate in (("title", DCTERMS.title), ("description", DCTERMS.description)):
            for text, language, narrative in self._narratives(element.find(child), lang):
                self.out.add(node, predicate, Literal(text, lang=language), where(narrative))

    def _result(self, iri, result, lang) -> None:
        node = self.out.part(iri, ILOP.hasResult, ILOP.Result, where(result))
        kind = (result.get("type") or "").strip()
        if kind:
            self.out.add(node, ILOP.resultType, concept("iati-result-type", kind), where(result, "type"))
        self._titled(node, result, lang)
        for indicator in result.findall("indicator"):
            measured = self.out.part(node, ILOP.hasIndicator, ILOP.Indicator, where(indicator))
            measure = (indicator.get("measure") or "").strip()
            if measure:
                self.out.add(measured, ILOP.indicatorMeasure, concept("iati-indicator-measure", measure),
                             where(indicator, "measure"))
            self._titled(measured, indicator, lang)

    # ---------------------------------------------------------------- the file as a whole

    def finish(self) -> Converted:
        """Type each activity: a component of its parent when both are in the file, else a project."""
        order: dict[str, int] = {}
        for identifier, record in self.activities.items():
            parent = next((p for p in record.parents if p in self.activities), None)
            if parent is None:
                parent = next((p for p, r in self.activities.items() if identifier in r.children), None)
            if parent is None:
                self.out.add(record.iri, RDF.type, ILOP.Project, record.element_origin)
                for ref in record.parents:
                    self.out.add(record.iri, DCTERMS.isPartOf, self._activity_iri(ref), record.element_origin)
            else:
                order[parent] = order.get(parent, 0) + 1
                self.out.add(record.iri, RDF.type, ILOP.ProjectComponent, record.element_origin)
                self.out.add(record.iri, ILOP.sequenceNumber, Literal(order[parent]), record.element_origin)
                self.out.add(self.activities[parent].iri, ILOP.hasComponent, record.iri, record.element_origin)
            for ref in record.children:
                if ref not in self.activities:
                    self.out.add(record.iri, DCTERMS.hasPart, self._activity_iri(ref), record.element_origin)
        return self.converted

    def _activity_iri(self, identifier: str) -> URIRef:
        if identifier in self.activities:
            return self.activities[identifier].iri
        return URIRef(self.known.get(f"activity:{identifier}", str(project_iri(identifier))))


def convert(stream: BinaryIO, source: str, known: Mapping[str, str]) -> Converted:
    """An IATI activity file in the vocabulary. known: identifiers the graph records ('org:REF' or 'activity:ID')
    with the IRIs that carry them. Raises RdfInputError for a file that cannot be read as IATI."""
    mapper = _Mapper(source, known)
    header = None
    for header, activity in read_activities(stream, source):
        mapper.activity(header, activity)
    mapper.converted.header = header
    converted = mapper.finish()
    converted.supporting = set(mapper.support.described)
    return converted
