"""The spreadsheet template: the sheets of spreadsheets.SHEETS, with what the shapes require of each column.

For each column the template says whether it is required (the column's own structure, or a sh:minCount of
the shape of its class and property), which values it takes (the concepts of its codelist, the ISO codes the
shapes list, the source documents the graph holds) and what the shape's message says; an example row is filled
in. Explanations and examples are rows whose first cell starts with '#', which imports skip. A workbook also
gets a sheet of the allowed values, and lists to pick them from.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH, SKOS

from server.exchange.spreadsheets import SHEETS, Column
from server.namespaces import CODELIST, ID, ILOP, ILOSH

_NOTE_ROW, _EXAMPLE_ROW = 2, 3


@dataclass(frozen=True)
class ColumnRule:
    """What the template says of one column."""

    required: bool
    allowed: tuple[str, ...]
    explanation: str
    condition: str = ""

    def note(self) -> str:
        """The column's explanation row cell."""
        needed = f"required {self.condition}" if self.required and self.condition else "required" if self.required else "optional"
        parts = [needed, self.explanation]
        if self.allowed:
            more = f", … ({len(self.allowed)} in the codes sheet)" if len(self.allowed) > 12 else ""
            shown = ", ".join(self.allowed[:12]) + more
            parts.append(f"one of: {shown}")
        return " · ".join(p for p in parts if p)


def _property_shapes(shapes: Graph, node_class: URIRef) -> list:
    found = []
    for shape in shapes.subjects(SH.targetClass, node_class):
        found += list(shapes.objects(shape, SH.property))
    return found


def _sh_in(shapes: Graph, shape: URIRef) -> tuple[str, ...]:
    values = shapes.value(shape, SH["in"])
    return tuple(str(v) for v in Collection(shapes, values)) if values is not None else ()


def column_rules(shapes: Graph, ontology: Graph, data: Graph) -> dict[tuple[str, str], ColumnRule]:
    """Each (sheet, header)'s rule, read from the shapes, the codelists and the sources the data holds."""
    sources = tuple(sorted(str(s)[len(f"{ID}source/"):] for s in data.subjects(RDF.type, ILOP.SourceDocument)
                           if str(s).startswith(f"{ID}source/")))
    rules = {}
    for sheet, columns in SHEETS.items():
        for column in columns:
            required, message = column.required, ""
            if column.node_class is not None and column.path is not None:
                for shape in _property_shapes(shapes, column.node_class):
                    if shapes.value(shape, SH.path) != column.path:
                        continue
                    minimum = shapes.value(shape, SH.minCount)
                    if minimum is not None and int(minimum) >= 1 and shapes.value(shape, SH.severity) != SH.Warning:
                        required = True
                    message = message or str(shapes.value(shape, SH.message) or "")
            rules[(sheet, column.header)] = ColumnRule(required, _allowed(column, shapes, ontology, sources),
                                                       column.note or message, column.condition)
    return rules


def _allowed(column: Column, shapes: Graph, ontology: Graph, sources: tuple[str, ...]) -> tuple[str, ...]:
    if column.scheme is not None:
        scheme = URIRef(f"{CODELIST}{column.scheme}")
        prefix = f"{scheme}/"
        return tuple(sorted(str(c)[len(prefix):] for c in ontology.subjects(SKOS.inScheme, scheme) if str(c).startswith(prefix)))
    if column.kind == "currency":
        return _sh_in(shapes, ILOSH.currencyCode)
    if column.kind == "country":
        return _sh_in(shapes, ILOSH.iso3166Alpha2Code)
    if column.kind == "source":
        return sources
    return ()


def _rows(sheet: str, rules: dict[tuple[str, str], ColumnRule]) -> list[list[str]]:
    columns = SHEETS[sheet]
    notes = [rules[(sheet, c.header)].note() for c in columns]
    example = [c.example for c in columns]
    return [[c.header for c in columns], ["# " + notes[0], *notes[1:]], ["# e.g. " + example[0], *example[1:]]]


def write_csv(folder: Path, rules: dict[tuple[str, str], ColumnRule]) -> list[Path]:
    """One CSV file per sheet in folder (made if need be); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for sheet in SHEETS:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(_rows(sheet, rules))
        path = folder / f"{sheet}.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        written.append(path)
    return written


def write_xlsx(path: Path, rules: dict[tuple[str, str], ColumnRule]) -> None:
    """A workbook of the sheets, required headers in bold red, with a 'codes' sheet and lists to pick codes from."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    book.remove(book.active)
    codes = book.create_sheet("codes")
    code_column = 0
    for sheet in SHEETS:
        page = book.create_sheet(sheet)
        for row in _rows(sheet, rules):
            page.append(row)
        for index, column in enumerate(SHEETS[sheet], start=1):
            rule = rules[(sheet, column.header)]
            header = page.cell(row=1, column=index)
            header.font = Font(bold=True, color="B00020" if rule.required and not rule.condition else "000000")
            page.cell(row=_NOTE_ROW, column=index).font = Font(italic=True, color="555555")
            page.cell(row=_EXAMPLE_ROW, column=index).font = Font(italic=True, color="555555")
            page.column_dimensions[get_column_letter(index)].width = max(14, len(column.header) + 4)
            if rule.allowed and column.kind != "codes":
                code_column += 1
                letter = get_column_letter(code_column)
                codes.cell(row=1, column=code_column, value=f"{sheet}: {column.header}").font = Font(bold=True)
                for offset, value in enumerate(rule.allowed, start=2):
                    codes.cell(row=offset, column=code_column, value=value)
                listed = DataValidation(type="list", formula1=f"codes!${letter}$2:${letter}${len(rule.allowed) + 1}",
                                        allow_blank=True, showErrorMessage=False)
                page.add_data_validation(listed)
                listed.add(f"{get_column_letter(index)}{_EXAMPLE_ROW + 1}:{get_column_letter(index)}1000")
        page.freeze_panes = "A2"
    book.move_sheet("codes", offset=len(SHEETS))
    book.save(path)
