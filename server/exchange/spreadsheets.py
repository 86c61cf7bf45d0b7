"""Spreadsheets in: the sheets of the template (projects, partners and roles, countries, funding) into the
vocabulary, each fact with its sheet, row and column.

The sheets and their columns are defined once, here (SHEETS); `ilo-kg template` writes them, with what the
shapes require of each column (see template), and the same definitions read the filled-in files back. A
workbook (XLSX, read by openpyxl) holds the four sheets; a CSV file holds one, named by its header row.
Rows whose first cell starts with '#' are notes (the template's explanations and examples) and are skipped.

IRIs: a project is id/project/{id}, its id given in the sheet; an organisation is one the graph knows by its
id (id/organisation/{id}) or IATI identifier, else described from its name in support; a country is
id/country/{ISO code}. Every row names its source document, one the graph holds (its id under id/source/).
"""

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, ORG, PROV, RDF, RDFS, XSD

from server.exchange.support import Supporting, decimal, period, slug
from server.namespaces import CODELIST, ID, ILOP, SCHEMA
from server.rdf.origins import Origin, OriginGraph
from server.rdf.parsing import RdfInputError

# An IATI organisation identifier (as the shapes check it): told apart from an organisation's id in the graph.
_IATI_ORGANISATION = re.compile(r"[A-Z]{2}-[A-Z0-9]+-[A-Za-z0-9._-]+")
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?", re.ASCII)
_DATATYPES = {4: XSD.gYear, 7: XSD.gYearMonth, 10: XSD.date}
# Largest uncompressed content of a workbook, against a small file that unpacks into gigabytes.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
# The rows a worksheet holds (ECMA-376; Excel's and LibreOffice's limit).
MAX_SHEET_ROWS = 1_048_576


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its header, what it holds, and what the template says of it."""

    header: str
    kind: str  # id, text, date, code, codes, decimal, organisation, country, currency, source
    example: str
    # The class and property whose shape says whether the column is required, and its message.
    node_class: URIRef | None = None
    path: URIRef | None = None
    scheme: str | None = None  # the codelist a code column takes its values from
    required: bool = False  # required by the sheet's own structure (ids, references), whatever the shapes say
    note: str = ""
    # When the shapes require the column only for some rows (those that describe its node): which rows.
    condition: str = ""


_PROJECT = Column("project", "id", "green-jobs-cambodia", required=True,
                  note="the id of a project of this file's projects sheet, or of one the graph holds")
_SOURCE = Column("source", "source", "ilo-brief-korea-2020-07", ILOP.Project, PROV.wasDerivedFrom,
                 note="the id of a source document the graph holds (…/id/source/{id}): the document these facts come from")

SHEETS: dict[str, tuple[Column, ...]] = {
    "projects": (
        Column("id", "id", "green-jobs-cambodia", required=True,
               note="a new project's id: lower-case letters, digits and hyphens; its IRI is …/id/project/{id}"),
        Column("name", "text", "Green jobs for young people in Cambodia", ILOP.Project, RDFS.label, note="in English"),
        Column("description", "text", "Trains young people for jobs in renewable energy.", ILOP.Project,
               DCTERMS.description, note="in English"),
        Column("start", "date", "2024-03", DCTERMS.PeriodOfTime, DCAT.startDate, note="a year, year-month or date"),
        Column("end", "date", "2026-12", DCTERMS.PeriodOfTime, DCAT.endDate, note="a year, year-month or date"),
        Column("status", "code", "implementation", ILOP.StatusReport, ILOP.activityStatus, "activity-status",
               condition="with a status date"),
        Column("status date", "date", "2026-11", ILOP.StatusReport, DCTERMS.date, note="when the status held",
               condition="with a status"),
        Column("themes", "codes", "skills-development; decent-work", ILOP.Project, DCTERMS.subject, "theme",
               note="separated by ';'"),
        Column("iati identifier", "text", "", ILOP.Project, ILOP.iatiIdentifier,
               note="the project's IATI activity identifier, if it is published to IATI"),
        _SOURCE,
    ),
    "partners": (
        _PROJECT,
        Column("organisation", "organisation", "koica", required=True,
               note="the id of an organisation the graph holds (…/id/organisation/{id}), or an IATI organisation "
                    "identifier such as KR-GOV-051"),
        Column("organisation name", "text", "", ORG.Organization, RDFS.label, note="its name in English",
               condition="for an organisation the graph does not hold yet"),
        Column("role", "code", "funding", ILOP.Project, None, "organisation-role", required=True),
        _SOURCE,
    ),
    "countries": (
        _PROJECT,
        Column("country", "country", "KH", required=True, note="an ISO 3166-1 alpha-2 code"),
        Column("percentage", "decimal", "100", ILOP.Allocation, ILOP.percentage,
               note="the share of the project for this country, if known"),
        _SOURCE,
    ),
    "funding": (
        _PROJECT,
        Column("funder", "organisation", "koica", ILOP.Funding, SCHEMA.funder,
               note="as the partners sheet's organisation column"),
        Column("funder name", "text", "", ORG.Organization, RDFS.label, note="its name in English",
               condition="for a funder the graph does not hold yet"),
        Column("name", "text", "KOICA support to green jobs in Cambodia", ILOP.Funding, RDFS.label, note="in English"),
        Column("amount", "decimal", "1500000", SCHEMA.MonetaryAmount, SCHEMA.value, note="a number, without separators",
               condition="with a currency"),
        Column("currency", "currency", "USD", SCHEMA.MonetaryAmount, SCHEMA.currency, note="an ISO 4217 code",
               condition="with an amount"),
        Column("start", "date", "2024", DCTERMS.PeriodOfTime, DCAT.startDate, note="a year, year-month or date"),
        Column("end", "date", "2026", DCTERMS.PeriodOfTime, DCAT.endDate, note="a year, year-month or date"),
        _SOURCE,
    ),
}


def sheet_of_header(header: list[str]) -> str | None:
    """The sheet whose columns a header row names (a CSV file holds one sheet)."""
    names = [h.strip().lower() for h in header]
    return next((sheet for sheet, columns in SHEETS.items() if names[: len(columns)] == [c.header for c in columns]), None)


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _Converter:
    def __init__(self, source_name: str, known: Mapping[str, str], text_lines: bool):
        self.out = OriginGraph()
        self.support = Supporting(self.out)
        self.known = known
        self.source_name = source_name
        self.text_lines = text_lines  # a CSV file: a row is a line of the text the report shows
        self.funding_numbers: dict[str, int] = {}

    def origin(self, sheet: str, row: int, column: int | None = None) -> Origin:
        cell = f"{_letter(column)}{row}" if column is not None else f"{row}:{row}"
        return Origin(f"{sheet}!{cell}", row if self.text_lines else None)

    def sheet(self, name: str, rows: Iterator[tuple[int, list[str]]]) -> None:
        columns = SHEETS[name]
        for number, cells in rows:
            values = {c.header: (cells[i].strip() if i < len(cells) and cells[i] is not None else "")
                      for i, c in enumerate(columns)}
            if not any(values.values()):
                continue
            at = {c.header: self.origin(name, number, i) for i, c in enumerate(columns)}
            getattr(self, f"_{name}")(values, at, self.origin(name, number))

    # ---------------------------------------------------------------- references

    def _project(self, value: str, origin: Origin) -> URIRef:
        if not _ID.fullmatch(value):
            raise RdfInputError(
                f"{origin.where}: {value!r} is not a project id (lower-case letters, digits and hyphens)",
                source=self.source_name, line=origin.line,
            )
        return URIRef(f"{ID}project/{value}")

    def _source(self, value: str, origin: Origin) -> URIRef | None:
        return URIRef(f"{ID}source/{slug(value)}") if value else None

    def _organisation(self, value: str, name: str, origin: Origin, name_origin: Origin, source: URIRef | None) -> URIRef | None:
        if not value:
            return None
        if _IATI_ORGANISATION.fullmatch(value):
            if f"org:{value}" in self.known:
                return URIRef(self.known[f"org:{value}"])
            iri = URIRef(f"{ID}organisation/iati-{slug(value)}")
        else:
            iri = URIRef(f"{ID}organisation/{slug(value)}")
        if name and self.support.first(iri):
            self.out.node(iri, name_origin)
            self.out.add(iri, RDF.type, ORG.Organization, name_origin)
            self.out.add(iri, RDFS.label, Literal(name, lang="en"), name_origin)
            if _IATI_ORGANISATION.fullmatch(value):
                self.out.add(iri, ILOP.iatiOrganisationIdentifier, Literal(value), origin)
            if source is not None:
                self.out.add(iri, PROV.wasDerivedFrom, source, origin)
        return iri

    @staticmethod
    def _date(value: str) -> Literal:
        return Literal(value, datatype=_DATATYPES[len(value)]) if _DATE.fullmatch(value) else Literal(value)

    def _period(self, owner: URIRef, values: dict[str, str], at: dict[str, Origin]) -> None:
        start, end = (self._date(values[h]) if values[h] else None for h in ("start", "end"))
        period(self.out, owner, DCTERMS.temporal, at["start"] if values["start"] else at["end"], start, end,
               at["start"], at["end"])

    def _derived(self, node: URIRef | BNode, values: dict[str, str], at: dict[str, Origin]) -> URIRef | None:
        source = self._source(values["source"], at["source"])
        if source is not None:
            self.out.add(node, PROV.wasDerivedFrom, source, at["source"])
        return source

    # ---------------------------------------------------------------- the sheets

    def _expect(self, node: URIRef | BNode, cells: dict[URIRef, Origin]) -> None:
        """Where a value of the node belongs, written or not: a finding about a missing value names its cell."""
        for predicate, origin in cells.items():
            self.out.origins.setdefault((node, predicate), origin)

    def _projects(self, values: dict[str, str], at: dict[str, Origin], row: Origin) -> None:
        project = self.out.node(self._project(values["id"], at["id"]), row)
        self._expect(project, {RDFS.label: at["name"], PROV.wasDerivedFrom: at["source"], DCTERMS.subject: at["themes"]})
        self.out.add(project, RDF.type, ILOP.Project, at["id"])
        self._derived(project, values, at)
        for header, predicate in (("name", RDFS.label), ("description", DCTERMS.description)):
            if values[header]:
                self.out.add(project, predicate, Literal(values[header], lang="en"), at[header])
        self._period(project, values, at)
        if values["status"] or values["status date"]:
            where = at["status"] if values["status"] else at["status date"]
            report = self.out.part(project, ILOP.hasStatusReport, ILOP.StatusReport, where)
            if values["status"]:
                self.out.add(report, ILOP.activityStatus, URIRef(f"{CODELIST}activity-status/{slug(values['status'])}"),
                             at["status"])
            if values["status date"]:
                self.out.add(report, DCTERMS.date, self._date(values["status date"]), at["status date"])
            self._derived(report, values, at)
        for theme in filter(None, (t.strip() for t in values["themes"].split(";"))):
            self.out.add(project, DCTERMS.subject, URIRef(f"{CODELIST}theme/{slug(theme)}"), at["themes"])
        if values["iati identifier"]:
            self.out.add(project, ILOP.iatiIdentifier, Literal(values["iati identifier"]), at["iati identifier"])

    def _partners(self, values: dict[str, str], at: dict[str, Origin], row: Origin) -> None:
        project = self._project(values["project"], at["project"])
        source = self._source(values["source"], at["source"])
        agent = self._organisation(values["organisation"], values["organisation name"], at["organisation"],
                                   at["organisation name"], source)
        association = self.out.part(project, PROV.qualifiedAssociation, PROV.Association, row)
        self._expect(association, {PROV.agent: at["organisation"], PROV.hadRole: at["role"]})
        if agent is not None:
            self.out.add(association, PROV.agent, agent, at["organisation"])
        if values["role"]:
            self.out.add(association, PROV.hadRole, URIRef(f"{CODELIST}organisation-role/{slug(values['role'])}"),
                         at["role"])

    def _countries(self, values: dict[str, str], at: dict[str, Origin], row: Origin) -> None:
        project = self._project(values["project"], at["project"])
        country = self.support.country(values["country"].upper(), at["country"])
        self.out.add(project, DCTERMS.spatial, country, at["country"])
        if values["percentage"]:
            allocation = self.out.part(project, ILOP.hasAllocation, ILOP.Allocation, row)
            self.out.add(allocation, ILOP.allocatedTo, country, at["country"])
            self.out.add(allocation, ILOP.percentage, decimal(values["percentage"]), at["percentage"])

    def _funding(self, values: dict[str, str], at: dict[str, Origin], row: Origin) -> None:
        project = self._project(values["project"], at["project"])
        source = self._source(values["source"], at["source"])
        funder = self._organisation(values["funder"], values["funder name"], at["funder"], at["funder name"], source)
        key = f"{values['project']}-{slug(values['funder']) or 'unnamed'}"
        self.funding_numbers[key] = self.funding_numbers.get(key, 0) + 1
        funding = self.out.node(URIRef(f"{ID}funding/{key}-{self.funding_numbers[key]}"), row)
        self._expect(funding, {RDFS.label: at["name"], PROV.wasDerivedFrom: at["source"], SCHEMA.funder: at["funder"],
                               SCHEMA.amount: at["amount"]})
        self.out.add(funding, RDF.type, ILOP.Funding, row)
        self.out.add(funding, SCHEMA.fundedItem, project, at["project"])
        self._derived(funding, values, at)
        if funder is not None:
            self.out.add(funding, SCHEMA.funder, funder, at["funder"])
        if values["name"]:
            self.out.add(funding, RDFS.label, Literal(values["name"], lang="en"), at["name"])
        if values["amount"] or values["currency"]:
            amount = self.out.part(funding, SCHEMA.amount, SCHEMA.MonetaryAmount, at["amount"])
            self._expect(amount, {SCHEMA.value: at["amount"], SCHEMA.currency: at["currency"]})
            if values["amount"]:
                self.out.add(amount, SCHEMA.value, decimal(values["amount"]), at["amount"])
            if values["currency"]:
                self.out.add(amount, SCHEMA.currency, Literal(values["currency"].upper()), at["currency"])
        self._period(funding, values, at)


def _rows(table: list[list[str]]) -> Iterator[tuple[int, list[str]]]:
    return _notes_skipped(enumerate(table[1:], start=2))


def _notes_skipped(rows: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    for number, cells in rows:
        if cells and (cells[0] or "").lstrip().startswith("#"):
            continue
        yield number, cells


def _workbook_rows(sheet: Any, name: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """A sheet's rows, numbered, one at a time and only as wide as the template's columns.

    A workbook of a few kilobytes may place a cell at the last column and row (XFD1048576), or claim a row
    number beyond any spreadsheet's: openpyxl gives every row as wide as the widest and every missing row as an
    empty one, so the rows are never gathered into a table, cells past the template's columns are not read, and
    a row past the 1,048,576 a worksheet holds (ECMA-376) ends the reading with RdfInputError."""
    width = len(SHEETS[name])
    for number, row in enumerate(sheet.iter_rows(max_col=width, values_only=True), start=1):
        if number > MAX_SHEET_ROWS:
            raise RdfInputError(
                f"the sheet {name!r} has rows past row {MAX_SHEET_ROWS}, the last a worksheet holds; the workbook is "
                "damaged or was not written by a spreadsheet program", source=source,
            )
        if any(v is not None for v in row):
            yield number, ["" if v is None else _cell_text(v) for v in row]


def convert_csv(text: str, source: str, known: Mapping[str, str]) -> tuple[OriginGraph, set[URIRef]]:
    """One sheet as a CSV file (its header row says which) in the vocabulary, with origins; RdfInputError if the
    header names no sheet of the template."""
    table = _csv_table(text, source)
    sheet = sheet_of_header(table[0]) if table else None
    if sheet is None:
        expected = "; ".join(f"{name}: {', '.join(c.header for c in columns)}" for name, columns in SHEETS.items())
        raise RdfInputError(
            f"the first row names no sheet of the template (`ilo-kg template`); its columns are, by sheet: {expected}",
            source=source, line=1,
        )
    converter = _Converter(source, known, text_lines=True)
    converter.sheet(sheet, _rows(table))
    return converter.out, converter.support.described


def _csv_table(text: str, source: str) -> list[list[str]]:
    """The rows of a CSV file; RdfInputError (with its line) for a cell the reader refuses, such as one longer than
    its limit of 131,072 characters, rather than the reader's own error."""
    reader = csv.reader(io.StringIO(text))
    try:
        return list(reader)
    except csv.Error as error:
        raise RdfInputError(
            f"the CSV file cannot be read at its line {reader.line_num}: {error} (a cell of the template holds "
            "a short text, a code or a number; check the row's quotes)", source=source, line=reader.line_num or None,
        ) from None


def convert_workbook(data: bytes, source: str, known: Mapping[str, str]) -> tuple[OriginGraph, set[URIRef]]:
    """The template's sheets of an XLSX workbook in the vocabulary, with origins (sheet and cell); RdfInputError
    for a file that is not a workbook, unpacks into too much, or holds none of the template's sheets."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise RdfInputError("the file is not an XLSX workbook (not a ZIP archive)", source=source) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise RdfInputError(
            f"the workbook unpacks into {unpacked} bytes, more than the {MAX_UNPACKED_BYTES} read; split it", source=source,
        )
    try:
        # Read-only and values only: formulas are not evaluated, their last computed values are read.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise RdfInputError(f"the workbook cannot be read: {error}", source=source) from None
    converter = _Converter(source, known, text_lines=False)
    found = [name for name in SHEETS if name in book.sheetnames]
    try:
        for name in found:
            table = _workbook_rows(book[name], name, source)
            header = next(table, None)
            if header is not None and (header[0] != 1 or sheet_of_header(header[1]) != name):
                raise RdfInputError(
                    f"the sheet {name!r} does not start with the template's header row: "
                    f"{', '.join(c.header for c in SHEETS[name])}", source=source,
                )
            converter.sheet(name, _notes_skipped(table))
    finally:
        book.close()
    if not found:
        raise RdfInputError(f"the workbook holds none of the template's sheets ({', '.join(SHEETS)})", source=source)
    return converter.out, converter.support.described


def _cell_text(value: object) -> str:
    """A cell's value as the text the sheet means: whole numbers without '.0', dates as ISO dates."""
    if isinstance(value, float) and math.isfinite(value):
        # Written out, never with an exponent (str gives 1e-05), which no xsd:decimal has.
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    if hasattr(value, "date") and hasattr(value, "isoformat"):
        return value.date().isoformat() if hasattr(value, "hour") else value.isoformat()  # type: ignore[attr-defined]
    return str(value)


def workbook_of_sheets(files: list[tuple[str, str]]) -> bytes:
    """CSV files of the template's sheets (name, text) as one workbook, so that they go in as one submission (the
    rows of a project's partners, countries and funding describe the project: they belong with it).
    Raises RdfInputError for a file whose header row names no sheet, or two files of the same sheet."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, text in files:
        table = _csv_table(text, name)
        sheet = sheet_of_header(table[0]) if table else None
        if sheet is None:
            raise RdfInputError("the first row names no sheet of the template (`ilo-kg template`)", source=name, line=1)
        if sheet in book.sheetnames:
            raise RdfInputError(f"a second {sheet} sheet: give each sheet once", source=name, line=1)
        page = book.create_sheet(sheet)
        for number, row in enumerate(table, start=1):
            for column, value in enumerate(row, start=1):
                cell = page.cell(number, column, value)
                # Text, as the CSV file holds it: openpyxl would write "=…" as a formula with no value, which the
                # server reads as an empty cell.
                cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
