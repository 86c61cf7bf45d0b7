"""The ilo-kg command line: validate and submit RDF files, manage tokens, serve, regenerate files.

Exit codes of `validate` and `submit`: 0 the input conforms (warnings allowed; for submit:
and was stored), 1 it has violations (nothing stored), 2 the input could not be read, the
server refused the request or could not be reached, or the command was used wrongly.
"""

import asyncio
import io
import logging
import re
import sys
from collections.abc import Callable
from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO, NoReturn
from urllib.parse import urlsplit

import httpx
import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rdflib import RDF, SKOS, Graph
from rich.console import Console

from server.exchange.inputs import read_input
from server.files import write_atomic
from server.formats.registry import IATI
from server.rdf.iso_codes import generate_iso_codes_turtle
from server.rdf.parsing import ParsedDocument, RdfInputError
from server.rdf.syntaxes import BY_NAME, Format, syntax_for_file
from server.settings import Settings, get_settings, settings_problems
from server.submissions.plan import DataValidator, UnknownSubmissionError, plan_validation
from server.submissions.tokens import Role, TokenError, TokenRegistry
from server.validation import pyshacl_speedups
from server.validation.engine import Validator
from server.validation.report import Finding, Report
from server.validation.report_format import RENDERERS

if TYPE_CHECKING:
    from server.store.embedded import StoreInfo

EXIT_CONFORMS, EXIT_VIOLATIONS, EXIT_UNREADABLE = 0, 1, 2

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="The ILO partnerships knowledge graph: check and serve its RDF.",
)

ReportFormat = Enum("ReportFormat", {name: name for name in RENDERERS}, type=str)  # type: ignore[misc]
InputSyntax = Enum("InputSyntax", {name: name for name in BY_NAME}, type=str)  # type: ignore[misc]


class UnreadableInputError(Exception):
    """Input the validator cannot read: one problem per file, each saying which file and why."""

    def __init__(self, *problems: str):
        super().__init__("\n".join(problems))
        self.problems = problems


def _fail(message: str) -> NoReturn:
    """Say what is wrong on standard error and end with EXIT_UNREADABLE (unreadable input, refused, unreachable)."""
    typer.echo(message, err=True)
    raise typer.Exit(EXIT_UNREADABLE)


def collect_files(paths: list[Path], forced: Format | None) -> list[tuple[Path, Format]]:
    """The RDF files named by paths (folders searched recursively), with their syntax."""
    found: list[tuple[Path, Format]] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and (forced or syntax_for_file(p)))
            if not inside:
                raise UnreadableInputError(
                    f"{path}: the folder holds no files this tool reads (.ttl, .trig, .nt, .nq, .jsonld, .rdf, IATI .xml, …)"
                )
            found.extend((p, forced or syntax_for_file(p)) for p in inside)  # type: ignore[misc]
        elif path.is_file():
            syntax = forced or syntax_for_file(path)
            if syntax is None:
                raise UnreadableInputError(f"{path}: unknown RDF syntax for this extension; name it with --syntax")
            found.append((path, syntax))
        else:
            raise UnreadableInputError(f"{path}: no such file or folder")
    return found


def _local_contexts(settings: Settings) -> tuple[str, ...]:
    """Where a server of this installation publishes its JSON-LD context (JSON-LD saved from it names it)."""
    return tuple(f"http://{host}:{settings.port}/context.jsonld" for host in ("127.0.0.1", "localhost", "[::1]"))


def read_documents(
    files: list[tuple[Path, Format]], settings: Settings, known: dict[str, str] | None = None
) -> list[ParsedDocument]:
    """Parse (or convert) every file safely; all unreadable files are reported together. known: the identifiers
    the graph records, for converted formats (see server.exchange.inputs)."""
    documents, problems = [], []
    for path, syntax in files:
        try:
            size = path.stat().st_size
            if size > settings.max_input_bytes:
                raise UnreadableInputError(
                    f"{path}: {size} bytes is more than the limit of {settings.max_input_bytes} (ILOKG_MAX_INPUT_BYTES)"
                )
            documents.append(
                read_input(path.read_bytes(), syntax, str(path), own_contexts=_local_contexts(settings), known=known)
            )
        except RdfInputError as error:
            problems.append(str(error))
        except UnreadableInputError as error:
            problems.extend(error.problems)
        except OSError as error:
            problems.append(f"{path}: cannot be read: {error.strerror}")
    if problems:
        raise UnreadableInputError(*problems)
    return documents


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="RDF files or folders to validate.", show_default=False)],
    output: Annotated[
        ReportFormat,  # type: ignore[valid-type]
        typer.Option("--format", "-f", help="How to write the report."),
    ] = "text",  # type: ignore[assignment]
    syntax: Annotated[
        InputSyntax | None,  # type: ignore[valid-type]
        typer.Option("--syntax", "-s", help="RDF syntax of every input; by default taken from each file's extension."),
    ] = None,
    with_data: Annotated[
        bool,
        typer.Option(
            "--with-data",
            help="Validate in the context of this installation's data (the bundled data and the store's accepted "
            "submissions), as the server's POST /validate does, so references to its partners, countries and "
            "projects resolve.",
        ),
    ] = False,
    replaces: Annotated[
        str | None,
        typer.Option("--replaces", help="Check the file as the replacement of this accepted submission (its id): "
                     "validated without it, as PUT /submissions/{id} would. Implies --with-data."),
    ] = None,
) -> None:
    """Validate RDF files against the project's SHACL shapes, with the ontology for the class hierarchy."""
    settings = get_settings()
    pyshacl_speedups.install()
    validator = Validator.from_settings(settings)
    data = _data_validator(settings, validator) if with_data or replaces else None
    try:
        files = collect_files(paths, BY_NAME[syntax.value] if syntax else None)
        documents = read_documents(files, settings, data.known_identifiers() if data else None)
    except UnreadableInputError as error:
        _fail("\n".join(f"error: {problem}" for problem in error.problems))
    if data is not None:
        report = _validate_with_data(data, files, documents, replaces)
    else:
        report = validator.validate(documents)
    sys.stdout.write(RENDERERS[output.value](report))
    raise typer.Exit(EXIT_CONFORMS if report.conforms else EXIT_VIOLATIONS)


def _data_validator(settings: Settings, validator: Validator) -> DataValidator:
    """The validator with this installation's data as context (--with-data), or a failure that says why not."""
    if settings.store_url is not None:
        _fail("error: --with-data reads the embedded store; this installation's data is in an external store "
              "(ILOKG_STORE_URL): send the file to the server's POST /validate, which validates it there.")
    try:
        return DataValidator(settings, validator)
    except OSError as error:  # the store's files, changing under a running server's write
        _fail(f"error: the store at {settings.store_dir} cannot be read now ({error}); try again.")


def _validate_with_data(
    with_data: DataValidator, files: list[tuple[Path, Format]], documents: list[ParsedDocument], replaces: str | None,
) -> Report:
    """Validate as the server would validate the file as a submission (see validation_context)."""
    single = len(documents) == 1
    if replaces and not single:
        _fail("error: --replaces checks one file, the replacement; give one file.")
    try:
        replaced = with_data.submission(replaces) if replaces else None
    except UnknownSubmissionError as error:
        _fail(f"error: {error}")
    # A file stored already is recognised by its bytes, as the server recognises it.
    plan = plan_validation(with_data.records, files[0][0].read_bytes(), replaced) if single else None
    return with_data.validate(documents, plan)


AllowHttp = Annotated[bool, typer.Option(
    "--allow-http", help="Send the token to a server on another machine over plain http:// (unencrypted: anyone on "
    "the way can read it and submit as you). Without it, plain http is taken for this machine only.")]
_SUBMISSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _token_server(server: str, allow_http: bool) -> str:
    """The server's address, checked before a token is sent to it; exits with the reason if it should not be."""
    from server.startup_checks import is_loopback

    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        _fail(f"error: --server {server!r} is not a server's address: give it as https://host[:port] (or "
              "http://127.0.0.1:8000 on this machine)")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_http:
        _fail(f"error: {server} would carry your token unencrypted, for anyone on the way to read and submit as you: "
              "give the server's https:// address (or, on a network you trust, add --allow-http)")
    return server


@app.command()
def submit(
    path: Annotated[Path, typer.Argument(help="The RDF file to submit.", show_default=False)],
    server: Annotated[str, typer.Option("--server", help="The server's address, e.g. http://127.0.0.1:8000.")],
    token: Annotated[
        str, typer.Option("--token", envvar="ILOKG_TOKEN", help="Your submission token (or set ILOKG_TOKEN).", show_default=False)
    ],
    replace: Annotated[
        str | None, typer.Option("--replace", help="Replace this submission of yours (its id) instead of adding one.")
    ] = None,
    syntax: Annotated[
        InputSyntax | None,  # type: ignore[valid-type]
        typer.Option("--syntax", "-s", help="RDF syntax of the file; by default taken from its extension."),
    ] = None,
    allow_http: AllowHttp = False,
) -> None:
    """Submit a file to a server: it is validated there, and stored if it conforms (exit 0), else reported (exit 1)."""
    server = _token_server(server, allow_http)
    if replace is not None and not _SUBMISSION_ID.fullmatch(replace):
        _fail(f"error: --replace {replace[:80]!r} is not a submission's id (such as 2026-11-22-0a1b2c3d)")
    try:
        (_, chosen), = collect_files([path], BY_NAME[syntax.value] if syntax else None)
        data = path.read_bytes()
    except UnreadableInputError as error:
        _fail(f"error: {error}")
    except OSError as error:
        _fail(f"error: {path}: cannot be read: {error.strerror}")
    outcome = send_submission(server, token, data, chosen, path.name, replace)
    raise typer.Exit(outcome)


def send_submission(server: str, token: str, data: bytes, syntax: Format, name: str, replace: str | None) -> int:
    """POST (or PUT, to replace) a file to a server's /submissions; print what happened; return the exit code."""
    url = server.rstrip("/") + "/submissions" + (f"/{replace}" if replace else "")
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": syntax.media_types[0],
        "Content-Disposition": f'attachment; filename="{name}"',
        "Accept": "application/json",
    }
    try:
        response = httpx.request("PUT" if replace else "POST", url, content=data, headers=headers, timeout=120)
    except httpx.HTTPError as error:
        typer.echo(f"error: cannot reach {url}: {error}", err=True)
        return EXIT_UNREADABLE
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text.strip()[:500]}
    if response.status_code in (200, 201):
        location = server.rstrip("/") + f"/submissions/{body['id']}"
        # A 200 to a POST: the same file was there already, or (an import) it replaced the submission holding its records.
        verb = "replaced" if replace or response.headers.get("submission-outcome") == "replaced" else (
            "accepted" if response.status_code == 201 else "submitted already")
        typer.echo(f"{verb}: submission {body['id']} ({body['triples']} triples, {body['warnings']} warnings) at {location}")
        return EXIT_CONFORMS
    if response.status_code == 422 and "results" in body:
        findings = [Finding.from_dict(f) for f in body["results"]]
        report = Report(body["conforms"], findings, body.get("files", [name]), body.get("triples", 0), "")
        sys.stdout.write(RENDERERS["text"](report))
        typer.echo(f"not stored: {body['detail']}", err=True)
        return EXIT_VIOLATIONS
    typer.echo(f"error: the server answered {response.status_code}: {body.get('detail', body)}", err=True)
    return EXIT_UNREADABLE


class TemplateFormat(StrEnum):
    """The forms of the spreadsheet template."""

    csv = "csv"
    xlsx = "xlsx"


@app.command()
def template(
    output: Annotated[Path, typer.Argument(help="Where to write it: a folder (CSV: one file per sheet) or an .xlsx file.")],
    form: Annotated[TemplateFormat, typer.Option("--format", "-f", help="CSV files or one XLSX workbook.")] = TemplateFormat.xlsx,
) -> None:
    """Write the spreadsheet template (projects, partners and roles, countries, funding): each column says whether the
    shapes require it and which codes it takes, with an example row. Filled in, it goes back through validate,
    /validate and /submissions."""
    from server.exchange.template import column_rules, write_csv, write_xlsx
    from server.rdf.project_graphs import load_folder

    settings = get_settings()
    rules = column_rules(load_folder(settings.shapes_dir), load_folder(settings.ontology_dir), load_folder(settings.data_dir))
    if form is TemplateFormat.csv:
        for path in write_csv(output, rules):
            typer.echo(f"wrote {path}")
    else:
        write_xlsx(output, rules)
        typer.echo(f"wrote {output}")


import_app = typer.Typer(no_args_is_help=True, help="Import data as partners hold it (IATI activity files) into a server.")
app.add_typer(import_app, name="import")


class _CountingReader(io.RawIOBase):
    """A file read through, counting its bytes for the progress bar."""

    def __init__(self, file: BinaryIO, advance: Callable[[int], None]):
        self._file, self._advance = file, advance

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        count = self._file.readinto(buffer)  # type: ignore[attr-defined]
        self._advance(count or 0)
        return count or 0


@import_app.command("iati")
def import_iati(
    paths: Annotated[list[Path], typer.Argument(help="IATI activity files (XML).", show_default=False)],
    server: Annotated[str, typer.Option("--server", help="The server's address, e.g. http://127.0.0.1:8000.")],
    token: Annotated[
        str, typer.Option("--token", envvar="ILOKG_TOKEN", help="Your submission token (or set ILOKG_TOKEN).", show_default=False)
    ],
    batch_bytes: Annotated[
        int, typer.Option("--batch-bytes", min=10_000, help="Largest part sent as one submission, in bytes (keep it "
                          "under the server's ILOKG_MAX_SUBMISSION_BYTES).")
    ] = 1_000_000,
    allow_http: AllowHttp = False,
) -> None:
    """Import IATI activity files into a server: read as a stream, sent in parts of at most --batch-bytes, each a
    submission of its own. Parts whose activities you imported before replace those submissions; the same file
    imported again changes nothing. Exit 0 if every part was stored, 1 if any had violations, 2 on errors."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    from server.exchange.iati_batches import batches

    server = _token_server(server, allow_http)
    worst = EXIT_CONFORMS
    for path in paths:
        if not path.is_file():
            _fail(f"error: {path}: no such file")
        with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), transient=True,
                      console=Console(stderr=True)) as progress, path.open("rb") as file:
            task = progress.add_task(path.name, total=path.stat().st_size)
            reader = io.BufferedReader(_CountingReader(file, lambda n, task=task: progress.advance(task, n)))
            try:
                for number, part in enumerate(batches(reader, str(path), batch_bytes), start=1):
                    name = path.name if number == 1 else f"{path.stem}-part-{number}{path.suffix}"
                    progress.console.print(f"{path.name}: part {number} ({len(part)} bytes)")
                    worst = max(worst, send_submission(server, token, part, IATI, name, None))
            except RdfInputError as error:
                _fail(f"error: {error}")
    raise typer.Exit(worst)


@import_app.command("sheets")
def import_sheets(
    paths: Annotated[list[Path], typer.Argument(help="A workbook (.xlsx), or the template's sheets as CSV files.",
                                                show_default=False)],
    server: Annotated[str, typer.Option("--server", help="The server's address, e.g. http://127.0.0.1:8000.")],
    token: Annotated[
        str, typer.Option("--token", envvar="ILOKG_TOKEN", help="Your submission token (or set ILOKG_TOKEN).", show_default=False)
    ],
    allow_http: AllowHttp = False,
) -> None:
    """Import a filled-in spreadsheet template into a server as one submission: a workbook as it is, CSV files of
    its sheets combined into one workbook (a project's rows belong together). Sent again after changes, it replaces
    the submission that holds its projects. Exit 0 if stored, 1 if it has violations, 2 on errors."""
    from server.exchange.spreadsheets import workbook_of_sheets
    from server.formats.registry import XLSX

    server = _token_server(server, allow_http)
    for path in paths:
        if not path.is_file():
            _fail(f"error: {path}: no such file")
    try:
        if len(paths) == 1 and path.suffix.lower() == ".xlsx":
            data, name = paths[0].read_bytes(), paths[0].name
        elif all(p.suffix.lower() == ".csv" for p in paths):
            data = workbook_of_sheets([(str(p), p.read_text(encoding="utf-8-sig")) for p in paths])
            name = f"{paths[0].stem}.xlsx" if len(paths) == 1 else "sheets.xlsx"
        else:
            _fail("error: give one .xlsx workbook, or CSV files of the template's sheets")
    except RdfInputError as error:
        _fail(f"error: {error}")
    except UnicodeDecodeError as error:
        _fail(f"error: a CSV file is not UTF-8 ({error.reason}); save it as UTF-8")
    except OSError as error:
        _fail(f"error: {error.filename}: {error.strerror}")
    raise typer.Exit(send_submission(server, token, data, XLSX, name, None))


token_app = typer.Typer(no_args_is_help=True, help="Issue, list and revoke submission tokens (kept hashed in ILOKG_TOKENS_FILE).")
app.add_typer(token_app, name="token")


@token_app.command("add")
def token_add(
    name: Annotated[str, typer.Argument(help="The submitter the token names (lower case, digits, hyphens).")],
    operator: Annotated[bool, typer.Option("--operator", help="The token may also withdraw others' submissions.")] = False,
) -> None:
    """Issue a token: it is printed once, and only its hash is kept."""
    registry = TokenRegistry(get_settings().tokens_file)
    try:
        token = registry.issue(name, Role.OPERATOR if operator else Role.SUBMITTER)
    except TokenError as error:
        _fail(f"error: {error}")
    typer.echo(token)
    typer.echo(f"Token for {name} issued; it is shown only now. Give it to {name} by a safe channel.", err=True)


@token_app.command("list")
def token_list() -> None:
    """The issued tokens: name, role, date (never the tokens)."""
    try:
        entries = TokenRegistry(get_settings().tokens_file).entries()
    except TokenError as error:
        _fail(f"error: {error}")
    for entry in entries:
        typer.echo(f"{entry.name}\t{entry.role}\t{entry.created}")


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="The submitter whose token to revoke.")]) -> None:
    """Revoke a token; a running server refuses it from its next request on."""
    try:
        TokenRegistry(get_settings().tokens_file).revoke(name)
    except TokenError as error:
        _fail(f"error: {error}")
    typer.echo(f"revoked the token of {name}")


@app.command()
def codes(
    check: Annotated[bool, typer.Option("--check", help="Only check that the file is up to date; exit 1 if not.")] = False,
    iati_codelists: Annotated[
        Path | None,
        typer.Option("--iati-codelists", help="Instead, write ontology/iati-codelists.ttl from this folder of IATI 2.03 "
                     "codelist files (iati/resources/standard/2-03/codelists/ of the pyIATI source package)."),
    ] = None,
) -> None:
    """Write shapes/iso-codes.ttl, the ISO 3166 and ISO 4217 code shapes, from pycountry (or, with --iati-codelists,
    the IATI codelists as SKOS)."""
    settings = get_settings()
    if iati_codelists is not None:
        from server.exchange.iati_codelists import generate_iati_codelists_turtle

        ontology = Graph()
        for path in sorted(settings.ontology_dir.glob("*.ttl")):
            if path.name != "iati-codelists.ttl":
                ontology.parse(path)
        target = settings.ontology_dir / "iati-codelists.ttl"
        text = generate_iati_codelists_turtle(iati_codelists, {str(s) for s in ontology.subjects(RDF.type, SKOS.Concept)})
    else:
        target = settings.shapes_dir / "iso-codes.ttl"
        text = generate_iso_codes_turtle()
    if check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            typer.echo(f"{target} is out of date: run `ilo-kg codes`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{target} is up to date")
        return
    write_atomic(target, text.encode("utf-8"))
    typer.echo(f"wrote {target}")


@app.command()
def export(
    folder: Annotated[Path, typer.Argument(
        help="Folder to write the dump files into: new, empty, or an earlier export's (it is replaced whole).")],
) -> None:
    """Write the dumps the server offers at /dumps: the dataset as N-Quads and TriG (gzip), each graph as Turtle."""
    import pyoxigraph as ox

    from server.store.dumps import DumpTargetError, dump_files, refuse_unless_dump_folder, write_dumps
    from server.store.embedded import NotAStoreError, StoreInUseError, held, load_project

    settings = get_settings()
    try:
        refuse_unless_dump_folder(folder)  # before any work (writing checks again)
    except DumpTargetError as error:
        _fail(f"error: {error}")
    if settings.store_url is not None:
        for file in dump_files(asyncio.run(_export_external(settings, folder))):
            typer.echo(f"wrote {folder / file.name}")
        return
    try:
        # Brings the store in line with the files first, as `serve` does.
        with held(settings.store_dir):
            load_project(settings)
    except NotAStoreError as error:
        _fail(f"error: {error}")
    except (StoreInUseError, OSError):
        # A running server holds the store (and keeps it in line), or it cannot be written here: read it as it stands.
        pass
    try:
        store = ox.Store.read_only(str(settings.store_dir))
        graphs = sorted(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode))
        files = write_dumps(store, folder, graphs)
    except DumpTargetError as error:
        _fail(f"error: {error}")
    except OSError as error:
        _fail(f"could not write the dumps into {folder}: {error}")
    for file in files:
        typer.echo(f"wrote {folder / file.name}")


@app.command()
def load(
    plan: Annotated[bool, typer.Option(
        "--plan", help="Print the named graph of each file (tab-separated) and the union graph, and load nothing: "
        "what an engine's own bulk loader is given.")] = False,
    engine_loaded: Annotated[bool, typer.Option(
        "--engine-loaded", help="External store: a file whose graph the store already holds was put there by the "
        "engine's bulk loader (into its graph and into the union graph): record it, do not send it.")] = False,
) -> None:
    """Load ontology/, shapes/ and data/ into the store now, with a progress bar (`serve` does the same at start): the
    embedded on-disk store, or the external one (ILOKG_STORE_URL); only the files changed since the last load are read
    again."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from server.store.embedded import (
        NotAStoreError,
        ProjectFileError,
        StoreInUseError,
        held,
        load_project,
        project_sources,
    )

    settings = get_settings()
    if plan:
        from server.store.remote import UNION

        typer.echo(f"# graph\tfile (with an external store, each file goes into its graph and into <{UNION}>)")
        for iri, path in project_sources(settings).items():
            typer.echo(f"{iri}\t{path}")
        return
    if engine_loaded and settings.store_url is None:
        _fail("error: --engine-loaded is for an external store (ILOKG_STORE_URL); the embedded store loads its files itself")
    columns = (TextColumn("loading"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    console = Console(stderr=True)
    where = settings.store_url or settings.store_dir
    try:
        # The bar is shown at a terminal only; a script sees the summary line alone.
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task("loading", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            if settings.store_url is not None:
                info = asyncio.run(_load_external(settings, project_sources(settings), progress, engine_loaded))
            else:
                with held(settings.store_dir):
                    info = load_project(settings, progress)
    except StoreInUseError as error:
        _fail(f"error: could not load: {error}; a running server loads the files itself when it starts")
    except NotAStoreError as error:
        _fail(f"error: could not load: {error}")
    except ProjectFileError as error:
        _fail(f"error: {_unreadable(error)}")
    except OSError as error:
        _fail(f"error: could not load the store at {where}: {error}")
    typer.echo(f"{info.triples:,} triples in {len(info.graphs)} named graphs at {where} (version {info.version})")


def _unreadable(error: Exception) -> str:
    return (f"{error}. Correct the file and load again: the store keeps its last complete load's record, and the next "
            "load reads every file changed since.")


async def _load_external(settings: Settings, sources: dict[str, Path], progress: Callable[[int, int], None] | None,
                         engine_loaded: bool) -> "StoreInfo":
    from server.store.remote import LoadRefusedError, RemoteStore, StoreUnavailableError

    store = RemoteStore(settings)
    try:
        return await store.sync_files(sources, progress, engine_loaded)
    except StoreUnavailableError as error:
        _fail(f"error: could not load into the store at {settings.store_url}: {error.reason}")
    except LoadRefusedError as error:
        _fail(f"error: nothing loaded: {error}")
    finally:
        await store.close()


async def _export_external(settings: Settings, folder: Path) -> list[str]:
    """Write the dumps of the external store (its graphs brought in line with the files first); its graphs."""
    from server.store.dumps import DumpTargetError
    from server.store.embedded import project_sources
    from server.store.query_worker import DumpJob
    from server.store.remote import RemoteStore, StoreUnavailableError

    store = RemoteStore(settings)
    try:
        # Brings the store in line with the files first, as `serve` does.
        info = await store.sync_files(project_sources(settings))
        graphs = [g.iri for g in info.graphs]
        await store.dump(DumpJob(str(folder.absolute()), tuple(graphs), info.version), settings.dump_timeout_seconds)
        return graphs
    except StoreUnavailableError as error:
        _fail(f"error: could not read the store at {settings.store_url}: {error.reason}")
    except DumpTargetError as error:
        _fail(f"error: {error}")
    except OSError as error:
        _fail(f"could not write the dumps into {folder}: {error}")
    finally:
        await store.close()


def _unreachable_store(settings: Settings) -> list[str]:
    """Why the external store cannot be used, if it cannot (asked once before serving)."""
    try:
        response = httpx.post(settings.store_url or "", data={"query": "ASK {}"},
                              headers={"Accept": "application/sparql-results+json"}, timeout=10)
    except httpx.HTTPError as error:
        return [f"the external store at {settings.store_url} cannot be reached: {error}"]
    if response.status_code != 200:
        return [f"the external store at {settings.store_url} answered {response.status_code} to a query; check "
                "ILOKG_STORE_URL (its SPARQL query endpoint)"]
    return []


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: ILOKG_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: ILOKG_PORT, 8000).")] = None,
) -> None:
    """Serve the graph: load ontology/, shapes/ and data/ into the on-disk store and answer SPARQL."""
    import uvicorn

    from server.http.app import create_app
    from server.http.middleware.connection_limits import protocol_with_limits
    from server.logs import configure as configure_logs
    from server.startup_checks import uncontained_workers, unsafe_configuration
    from server.store.embedded import (
        NotAStoreError,
        ProjectFileError,
        StoreInUseError,
        held,
        load_project,
        project_sources,
        worker_policy,
    )
    from server.workers import containment

    settings = get_settings()
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = settings.model_copy(update=overrides) if overrides else settings
    configure_logs(settings.log_format)
    log = logging.getLogger("ilokg")
    probed = containment.probe(worker_policy(settings))
    problems = unsafe_configuration(settings) + uncontained_workers(settings, probed)
    loading = "loading the project's files into the store (only those changed since the last load)"
    if settings.store_url is None:
        try:
            # The files loaded here, before the server takes the store for good at start (where it then finds nothing
            # changed), so that a store in use or a file that cannot be read is a plain refusal, not a traceback.
            with held(settings.store_dir):
                if not problems:
                    log.info(loading)
                    load_project(settings)
        except (StoreInUseError, NotAStoreError) as error:
            problems.append(str(error))
        except ProjectFileError as error:
            problems.append(_unreadable(error))
        except OSError as error:
            problems.append(f"the store at {settings.store_dir} cannot be loaded: {error}")
    else:
        problems += _unreachable_store(settings)
        if not problems:
            try:
                # As above: the files go into the store before the server starts, which then finds nothing changed.
                log.info(loading)
                asyncio.run(_load_external(settings, project_sources(settings), None, False))
            except ProjectFileError as error:
                problems.append(_unreadable(error))
    if problems:
        _fail("\n".join(f"refusing to start: {problem}" for problem in problems))
    log.log(
        logging.INFO if probed.contained else logging.WARNING,
        "workers contained by: %s" % (", ".join(probed.layers) or "nothing: queries could reach the network"),
        extra={"containment": list(probed.layers), "not_contained_by": probed.missing},
    )
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, access_log=False, log_level="info", log_config=None,
        server_header=False, proxy_headers=False, ws="none", http=protocol_with_limits(
            settings.header_timeout_seconds, settings.max_header_bytes, settings.max_header_fields,
            settings.body_timeout_seconds, settings.body_min_rate, settings.send_timeout_seconds,
        ),
    )


def main() -> None:
    """Entry point of the ilo-kg command."""
    try:
        app()
    except (ValidationError, SettingsError) as error:
        # A mistyped ILOKG_ variable: say which and why, not a traceback through pydantic.
        typer.echo("\n".join(f"ilo-kg: {problem}" for problem in settings_problems(error)), err=True)
        raise SystemExit(EXIT_UNREADABLE) from None
