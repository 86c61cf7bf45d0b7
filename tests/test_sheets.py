"""Spreadsheets: the template written from the shapes, filled-in sheets (CSV and XLSX) read into the vocabulary
with findings at their sheet, row and column, workbooks refused when they cannot be read safely, and the
import through a server."""

import csv
import datetime
import io
import zipfile
from pathlib import Path

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from server.exchange.inputs import read_input
from server.exchange.spreadsheets import MAX_UNPACKED_BYTES, SHEETS, workbook_of_sheets
from server.formats.registry import SHEET_CSV, XLSX
from server.rdf.display import display_node
from server.rdf.parsing import RdfInputError
from server.submissions.plan import DataValidator
from tests.support.servers import FIXTURES, SubmissionServer, run_cli, state

SHEET_FIXTURES = FIXTURES / "sheets"
VALID = sorted((SHEET_FIXTURES / "valid").glob("*.csv"))
MISTAKES = sorted((SHEET_FIXTURES / "mistakes").glob("*.csv"))
PROJECT = "https://w3id.org/ilo-partnerships/id/project/green-jobs-cambodia"
XLSX_TYPE = {"Content-Type": XLSX.media_type}


def test_fixtures_were_found() -> None:
    assert [p.name for p in VALID] == ["countries.csv", "funding.csv", "partners.csv", "projects.csv"]
    assert [p.name for p in MISTAKES] == ["countries.csv", "funding.csv", "partners.csv", "projects.csv"]


def csv_documents(paths: list[Path], validator: DataValidator):
    return [read_input(p.read_bytes(), SHEET_CSV, p.name, known=validator.known_identifiers()) for p in paths]


def test_the_template_lists_every_sheet_with_what_the_shapes_require(tmp_path: Path) -> None:
    result = run_cli("template", "--format", "csv", str(tmp_path / "template"))
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "template").iterdir())
    assert written == ["countries.csv", "funding.csv", "partners.csv", "projects.csv"]
    rows = list(csv.reader((tmp_path / "template" / "projects.csv").open(encoding="utf-8")))
    assert rows[0] == [c.header for c in SHEETS["projects"]]
    notes = dict(zip(rows[0], rows[1], strict=True))
    assert notes["name"] == "required · in English"  # ilosh:label's sh:minCount 1
    assert notes["description"] == "optional · in English"
    assert notes["status"] == (
        "required with a status date · A status report needs exactly one ilop:activityStatus from the IATI "
        "ActivityStatus codes. · one of: cancelled, closed, finalisation, implementation, pipeline, suspended"
    )
    assert notes["source"].startswith("required · the id of a source document the graph holds")
    assert "ilo-brief-korea-2020-07" in notes["source"] and "iso-3166" in notes["source"]
    assert rows[2][0] == "# e.g. green-jobs-cambodia"
    # The template itself reads back as nothing: its notes and examples are comments.
    document = read_input((tmp_path / "template" / "projects.csv").read_bytes(), SHEET_CSV, "projects.csv")
    assert len(document.graph) == 0


def test_the_workbook_template_has_the_sheets_codes_and_pick_lists(tmp_path: Path) -> None:
    result = run_cli("template", str(tmp_path / "template.xlsx"))
    assert result.returncode == 0, result.stderr
    book = load_workbook(tmp_path / "template.xlsx")
    assert book.sheetnames == ["projects", "partners", "countries", "funding", "codes"]
    assert [c.value for c in book["funding"][1]] == [c.header for c in SHEETS["funding"]]
    assert book["projects"]["A1"].font.color.rgb.endswith("B00020")  # required
    assert not book["projects"]["C1"].font.color.rgb.endswith("B00020")  # optional
    lists = [v.formula1 for v in book["funding"].data_validations.dataValidation]
    headers = [c.value for c in book["codes"][1]]
    assert "funding: currency" in headers and len(lists) == 2  # currency and source
    currency = headers.index("funding: currency") + 1
    assert "USD" in [row[currency - 1] for row in book["codes"].iter_rows(min_row=2, values_only=True)]


def test_the_filled_in_sheets_conform_and_say_what_they_should(validator_with_data: DataValidator) -> None:
    documents = csv_documents(VALID, validator_with_data)
    report = validator_with_data.validate(documents)
    assert [f.as_dict() for f in report.findings] == []
    graph = documents[3].graph + documents[0].graph + documents[1].graph + documents[2].graph
    rows = sorted(tuple(str(v) for v in row) for row in graph.query(f"""
        PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX schema: <https://schema.org/>
        SELECT ?agent ?role WHERE {{ <{PROJECT}> prov:qualifiedAssociation [ prov:agent ?agent ; prov:hadRole ?role ] }}"""))
    assert rows == [
        ("https://w3id.org/ilo-partnerships/id/organisation/iati-KH-MOLVT-1",
         "https://w3id.org/ilo-partnerships/codelist/organisation-role/partner"),
        ("https://w3id.org/ilo-partnerships/id/organisation/ilo",
         "https://w3id.org/ilo-partnerships/codelist/organisation-role/implementing"),
        ("https://w3id.org/ilo-partnerships/id/organisation/koica",
         "https://w3id.org/ilo-partnerships/codelist/organisation-role/funding"),
    ]
    amounts = [tuple(str(v) for v in row) for row in graph.query("""
        PREFIX schema: <https://schema.org/>
        SELECT ?funding ?value ?currency WHERE { ?funding schema:amount [ schema:value ?value ; schema:currency ?currency ] }""")]
    assert amounts == [("https://w3id.org/ilo-partnerships/id/funding/green-jobs-cambodia-koica-1", "1500000", "USD")]


PLANTED = [
    ("countries.csv", 2, "countries!C2", "ilop:percentage", "An allocation takes at most one ilop:percentage"),
    ("countries.csv", 3, "countries!B3", "dcterms:spatial", "dcterms:spatial must point to a country"),
    ("funding.csv", 2, "funding!E2", "schema:value", "An amount needs exactly one schema:value"),
    ("funding.csv", 2, "funding!I2", "prov:wasDerivedFrom", "Every fact must name the document it comes from"),
    ("funding.csv", 3, "funding!F3", "schema:currency", "Not an ISO 4217 currency code"),
    ("funding.csv", 3, "funding!E3", "schema:value", "An amount cannot be negative."),
    ("partners.csv", 2, "partners!D2", "prov:hadRole", "A role assignment needs exactly one prov:hadRole"),
    ("partners.csv", 3, "partners!B3", "prov:agent", "A role assignment needs exactly one prov:agent"),
    ("projects.csv", 2, "projects!E2", "dcat:endDate", "The period ends (2023-12) before it starts (2024-03)."),
    ("projects.csv", 2, "projects!F2", "ilop:activityStatus", "A status report needs exactly one ilop:activityStatus"),
    ("projects.csv", 2, "projects!H2", "dcterms:subject", "A subject (dcterms:subject) must be a theme"),
    ("projects.csv", 2, "projects!B2", "rdfs:label", "Needs exactly one English name"),
]


def test_each_planted_mistake_is_reported_at_its_sheet_row_and_column(validator_with_data: DataValidator) -> None:
    report = validator_with_data.validate(csv_documents(MISTAKES, validator_with_data))
    found = [(f.file, f.line, f.where, f.path, f.message) for f in report.findings]
    assert [f[:4] for f in found] == [p[:4] for p in PLANTED]
    assert all(message.startswith(p[4]) for (*_, message), p in zip(found, PLANTED, strict=True))


def test_a_workbook_gives_the_same_findings_by_sheet_and_cell(validator_with_data: DataValidator) -> None:
    book = workbook_of_sheets([(p.name, p.read_text(encoding="utf-8")) for p in MISTAKES])
    document = read_input(book, XLSX, "mistakes.xlsx", known=validator_with_data.known_identifiers())
    report = validator_with_data.validate([document])
    # A workbook has no lines: the cell says where.
    assert sorted((f.file, f.line, f.where, f.path) for f in report.findings) == sorted(
        ("mistakes.xlsx", None, where, path) for _, _, where, path, _ in PLANTED
    )


def test_typed_cells_of_a_workbook_read_as_the_sheet_means_them(validator_with_data: DataValidator) -> None:
    book = Workbook()
    book.active.title = "funding"
    book["funding"].append([c.header for c in SHEETS["funding"]])
    book["funding"].append(["sted-maghreb", "koica", None, "A second KOICA grant", 250000.0, "USD",
                            datetime.datetime(2021, 3, 1), 2022, "ilo-brief-korea-2020-07"])
    buffer = io.BytesIO()
    book.save(buffer)
    document = read_input(buffer.getvalue(), XLSX, "typed.xlsx", known=validator_with_data.known_identifiers())
    values = sorted(str(o) for _, p, o in document.graph if str(p).endswith(("value", "startDate", "endDate")))
    assert values == ["2021-03-01", "2022", "250000"]
    assert validator_with_data.validate([document]).conforms


def test_a_workbook_number_is_read_in_full_and_text_that_is_no_decimal_is_reported_at_its_cell(
    validator_with_data: DataValidator,
) -> None:
    book = Workbook()
    book.active.title = "funding"
    book["funding"].append([c.header for c in SHEETS["funding"]])
    # A number cell of 0.00001 (Python writes it 1e-05), and a text cell a person typed with an exponent.
    for amount in (0.00001, "1e99999999"):
        book["funding"].append(["sted-maghreb", "koica", None, "A KOICA grant", amount, "USD", None, None,
                                "ilo-brief-korea-2020-07"])
    buffer = io.BytesIO()
    book.save(buffer)
    document = read_input(buffer.getvalue(), XLSX, "amounts.xlsx", known=validator_with_data.known_identifiers())
    values = sorted(display_node(o) for _, p, o in document.graph if str(p) == "https://schema.org/value")
    assert values == ['"0.00001"^^xsd:decimal', '"1e99999999"']
    report = validator_with_data.validate([document])
    assert [(f.where, f.path, f.message) for f in report.findings if f.severity == "Violation"] == [
        ("funding!E3", "schema:value", "An amount needs exactly one schema:value, an xsd:decimal such as 1000000.0."),
    ]


def _other_sheet() -> bytes:
    book = Workbook()
    book.active.title = "notes"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (MAX_UNPACKED_BYTES + 1))
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "message"), [
    (b"not a zip", "the file is not an XLSX workbook (not a ZIP archive)"),
    (None, f"the workbook unpacks into {MAX_UNPACKED_BYTES + 1} bytes, more than the {MAX_UNPACKED_BYTES} read; split it"),
    (b"other sheet", "the workbook holds none of the template's sheets (projects, partners, countries, funding)"),
], ids=["not-a-zip", "zip-bomb", "no-sheet"])
def test_a_workbook_that_cannot_be_read_safely_is_refused(data: bytes | None, message: str) -> None:
    with pytest.raises(RdfInputError) as refused:
        read_input(_zip_bomb() if data is None else _other_sheet() if data == b"other sheet" else data, XLSX, "bad.xlsx")
    assert refused.value.message == message


def _with_rows_appended(book: bytes, rows_xml: str, dimension: str | None) -> bytes:
    """The workbook with rows written into its first worksheet's XML, and its declared dimension replaced (None:
    removed), as a file not written by a spreadsheet program may have them."""
    source = zipfile.ZipFile(io.BytesIO(book))
    names = [n for n in source.namelist() if n.startswith("xl/worksheets/sheet")]
    assert names, "the workbook has no worksheet"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == sorted(names)[0]:
                text = data.decode("utf-8")
                start = text.index("<dimension ")
                end = text.index("/>", start) + 2
                text = text[:start] + (f'<dimension ref="{dimension}"/>' if dimension else "") + text[end:]
                assert "</sheetData>" in text
                data = text.replace("</sheetData>", rows_xml + "</sheetData>").encode("utf-8")
            archive.writestr(info.filename, data)
    return out.getvalue()


def _projects_of_mistakes() -> bytes:
    return workbook_of_sheets([(MISTAKES[3].name, MISTAKES[3].read_text(encoding="utf-8"))])


def _inline(cell: str, text: str) -> str:
    return f'<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>'


# Workbooks of a few kilobytes whose rows, as openpyxl gives them, would be billions of cells: the last cell of a
# worksheet, declared as its dimension or not, a row with thousands of columns, and rows far apart.
FAR_CELLS = {
    "last cell, declared": (_inline("XFD1048576", "x"), "A1:XFD1048576"),
    "last cell, undeclared": (_inline("XFD1048576", "x"), None),
    "wide row": (f'<row r="1000">{_inline("XFD1000", "x")}</row>', "A1:XFD1000"),
    "rows far apart": ("".join(f'<row r="{r}">{_inline(f"XFD{r}", "x")}</row>' for r in (1000, 500000, 1048576)), None),
}


@pytest.mark.parametrize("case", FAR_CELLS, ids=list(FAR_CELLS))
def test_a_workbook_claiming_the_far_cells_of_a_sheet_is_read_as_the_rows_it_holds(
    server: SubmissionServer, case: str,
) -> None:
    cells, dimension = FAR_CELLS[case]
    rows = cells if cells.startswith("<row") else f'<row r="1048576">{cells}</row>'
    book = _with_rows_appended(_projects_of_mistakes(), rows, dimension)
    assert len(book) < 20_000
    response = httpx.post(server.url + "/validate", content=book, headers=XLSX_TYPE, timeout=120)
    assert response.status_code == 200, response.text
    # The same findings as the four rows of the sheet give without the far cells, nothing more.
    assert sorted(r["where"] for r in response.json()["results"]) == sorted(p[2] for p in PLANTED if p[0] == "projects.csv")


@pytest.mark.parametrize("row", [1_048_577, 99_999_999_999], ids=["one-past", "far-past"])
def test_a_workbook_with_a_row_past_the_last_a_sheet_holds_is_a_400(server: SubmissionServer, row: int) -> None:
    before = state(server)
    book = _with_rows_appended(_projects_of_mistakes(), f'<row r="{row}">{_inline(f"A{row}", "x")}</row>', None)
    headers = {**XLSX_TYPE, **server.auth("alice"), "Content-Disposition": 'attachment; filename="sheets.xlsx"'}
    response = httpx.post(server.url + "/submissions", content=book, headers=headers, timeout=120)
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == (
        "sheets.xlsx: the sheet 'projects' has rows past row 1048576, the last a worksheet holds; the workbook is "
        "damaged or was not written by a spreadsheet program"
    )
    assert state(server) == before


def test_a_csv_cell_longer_than_the_reader_takes_is_a_400_at_its_line(server: SubmissionServer) -> None:
    header = ",".join(c.header for c in SHEETS["projects"])
    text = f"{header}\n# a note\nlong-one,\"{'x' * 200_000}\"\n"
    before = state(server)
    headers = {"Content-Type": SHEET_CSV.media_type, **server.auth("alice"),
               "Content-Disposition": 'attachment; filename="sheets.csv"'}
    response = httpx.post(server.url + "/submissions", content=text.encode(), headers=headers, timeout=120)
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == (
        "sheets.csv:3: the CSV file cannot be read at its line 3: field larger than field limit (131072) (a cell of "
        "the template holds a short text, a code or a number; check the row's quotes)"
    )
    assert state(server) == before


def test_a_csv_file_of_no_sheet_is_refused_at_its_first_line() -> None:
    with pytest.raises(RdfInputError) as refused:
        read_input(b"name,amount\nx,1\n", SHEET_CSV, "other.csv")
    assert refused.value.line == 1
    assert refused.value.message.startswith("the first row names no sheet of the template (`ilo-kg template`)")


@pytest.fixture
def server(clean: SubmissionServer) -> SubmissionServer:
    """The shared submission server (embedded store), without submissions."""
    return clean


def test_sheets_are_imported_as_one_submission_and_updated_in_place(server: SubmissionServer, tmp_path: Path) -> None:
    command = ("import", "sheets", *map(str, VALID), "--server", server.url, "--token", server.tokens["alice"])
    first = run_cli(*command, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.startswith("accepted: submission ")
    query = f"SELECT ?l WHERE {{ <{PROJECT}> <http://www.w3.org/2000/01/rdf-schema#label> ?l }}"
    answer = httpx.post(server.url + "/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert answer.text.splitlines() == ["l", "Green jobs for young people in Cambodia"]
    (record,) = httpx.get(server.url + "/submissions").json()["submissions"]
    assert (record["fileName"], record["mediaType"]) == ("sheets.xlsx", XLSX.media_type)
    # The sheets changed and sent again: they replace the submission that holds the project.
    changed = tmp_path / "projects.csv"
    changed.write_text(VALID[3].read_text(encoding="utf-8").replace("Green jobs for young people", "Green jobs for youth"))
    files = [*map(str, VALID[:3]), str(changed)]
    second = run_cli("import", "sheets", *files, "--server", server.url, "--token", server.tokens["alice"], timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout.startswith(f"replaced: submission {record['id']} ")
    answer = httpx.post(server.url + "/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert answer.text.splitlines() == ["l", "Green jobs for youth in Cambodia"]
    # A workbook of mistakes is refused with the cells, and nothing changes.
    before = state(server)
    book = workbook_of_sheets([(p.name, p.read_text(encoding="utf-8")) for p in MISTAKES])
    refused = httpx.post(server.url + "/submissions", content=book, headers={**XLSX_TYPE, **server.auth("alice")}, timeout=120)
    assert refused.status_code == 422
    assert sorted(r["where"] for r in refused.json()["results"]) == sorted(p[2] for p in PLANTED)
    assert state(server) == before
    assert httpx.delete(server.url + f"/submissions/{record['id']}", headers=server.auth("alice")).status_code == 204


def test_csv_cells_are_sent_as_the_text_they_hold_even_when_they_start_with_an_equals_sign(
    server: SubmissionServer, tmp_path: Path,
) -> None:
    # A CSV file is text: a spreadsheet program would take "=…" for a formula, and the workbook the command builds
    # used to carry it as one, with no value, so the server read an empty name.
    projects = tmp_path / "projects.csv"
    projects.write_text(VALID[3].read_text(encoding="utf-8").replace(
        ",Green jobs for young people in Cambodia,", ",=Green jobs (phase 2),"), encoding="utf-8")
    files = [*map(str, VALID[:3]), str(projects)]
    imported = run_cli("import", "sheets", *files, "--server", server.url, "--token", server.tokens["alice"], timeout=300)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    query = f"SELECT ?l WHERE {{ <{PROJECT}> <http://www.w3.org/2000/01/rdf-schema#label> ?l }}"
    answer = httpx.post(server.url + "/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert answer.text.splitlines() == ["l", "=Green jobs (phase 2)"]


def test_a_csv_file_the_reader_refuses_ends_the_import_with_its_line(server: SubmissionServer, tmp_path: Path) -> None:
    before = state(server)
    projects = tmp_path / "projects.csv"
    header = ",".join(c.header for c in SHEETS["projects"])
    projects.write_text(f"{header}\nlong-one,\"{'x' * 200_000}\"\n", encoding="utf-8")
    imported = run_cli("import", "sheets", str(projects), "--server", server.url, "--token", server.tokens["alice"])
    assert (imported.returncode, imported.stdout) == (2, "")
    assert imported.stderr == (
        f"error: {projects}:2: the CSV file cannot be read at its line 2: field larger than field limit (131072) (a "
        "cell of the template holds a short text, a code or a number; check the row's quotes)\n"
    )
    assert state(server) == before
