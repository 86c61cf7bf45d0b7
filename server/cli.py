"""The ilo-kg command line: validate RDF files, regenerate generated files.

Exit codes of `validate`: 0 the input conforms (warnings allowed), 1 it has violations,
2 the input could not be read or the command was used wrongly.
"""

import logging
import os
import sys
import tempfile
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from server.codes import generate_iso_codes_turtle
from server.parsing import ParsedDocument, RdfInputError, parse_rdf
from server.rdf_formats import BY_NAME, RdfSyntax, syntax_for_path
from server.report_format import RENDERERS
from server.settings import Settings, get_settings
from server.validation import Validator

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


def collect_files(paths: list[Path], forced: RdfSyntax | None) -> list[tuple[Path, RdfSyntax]]:
    """The RDF files named by paths (folders searched recursively), with their syntax."""
    found: list[tuple[Path, RdfSyntax]] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and (forced or syntax_for_path(p)))
            if not inside:
                raise UnreadableInputError(f"{path}: the folder holds no RDF files (.ttl, .trig, .nt, .nq, .jsonld, .rdf, …)")
            found.extend((p, forced or syntax_for_path(p)) for p in inside)  # type: ignore[misc]
        elif path.is_file():
            syntax = forced or syntax_for_path(path)
            if syntax is None:
                raise UnreadableInputError(f"{path}: unknown RDF syntax for this extension; name it with --syntax")
            found.append((path, syntax))
        else:
            raise UnreadableInputError(f"{path}: no such file or folder")
    return found


def read_documents(files: list[tuple[Path, RdfSyntax]], settings: Settings) -> list[ParsedDocument]:
    """Parse every file safely; all unreadable files are reported together."""
    documents, problems = [], []
    for path, syntax in files:
        try:
            size = path.stat().st_size
            if size > settings.max_input_bytes:
                raise UnreadableInputError(
                    f"{path}: {size} bytes is more than the limit of {settings.max_input_bytes} (ILOKG_MAX_INPUT_BYTES)"
                )
            documents.append(parse_rdf(path.read_bytes(), syntax, str(path)))
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
            help="Validate together with the bundled data, so references to its partners, countries and projects resolve.",
        ),
    ] = False,
) -> None:
    """Validate RDF files against the project's SHACL shapes, with the ontology for the class hierarchy."""
    settings = get_settings()
    try:
        files = collect_files(paths, BY_NAME[syntax.value] if syntax else None)
        documents = read_documents(files, settings)
    except UnreadableInputError as error:
        for problem in error.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(EXIT_UNREADABLE) from None
    report = Validator.from_settings(settings, with_data=with_data).validate(documents)
    sys.stdout.write(RENDERERS[output.value](report))
    raise typer.Exit(EXIT_CONFORMS if report.conforms else EXIT_VIOLATIONS)


@app.command()
def codes(
    check: Annotated[bool, typer.Option("--check", help="Only check that the file is up to date; exit 1 if not.")] = False,
) -> None:
    """Write shapes/iso-codes.ttl, the ISO 3166 and ISO 4217 code shapes, from pycountry."""
    target = get_settings().shapes_dir / "iso-codes.ttl"
    text = generate_iso_codes_turtle()
    if check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            typer.echo(f"{target} is out of date: run `ilo-kg codes`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{target} is up to date")
        return
    # Written beside the target and renamed over it, so a crash never leaves half a file.
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent, delete=False, suffix=".tmp") as tmp:
        tmp.write(text)
    os.replace(tmp.name, target)
    typer.echo(f"wrote {target}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: ILOKG_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: ILOKG_PORT, 8000).")] = None,
) -> None:
    """Serve the graph: load ontology/, shapes/ and data/ into the on-disk store and answer SPARQL."""
    import uvicorn

    from server.http.app import create_app

    settings = get_settings()
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = settings.model_copy(update=overrides) if overrides else settings
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, access_log=False, log_level="info")


def main() -> None:
    """Entry point of the ilo-kg command."""
    app()
