"""The RDF syntaxes the project reads (files, submissions), looked up by name, extension or media type.

The syntaxes themselves are entries of the one format registry (server.formats.registry).
"""

import re
from pathlib import Path, PurePath

from server.formats.registry import IATI, RDFXML, READABLE_SYNTAXES, Format, Kind

SYNTAXES: tuple[Format, ...] = READABLE_SYNTAXES
BY_NAME: dict[str, Format] = {syntax.name: syntax for syntax in SYNTAXES}
BY_EXTENSION: dict[str, Format] = {ext: syntax for syntax in SYNTAXES for ext in syntax.extensions}
BY_MEDIA_TYPE: dict[str, Format] = {media_type: syntax for syntax in SYNTAXES for media_type in syntax.media_types}


def shown_text(data: bytes, media_type: str) -> str:
    """A submitted file as the text a report shows beside its findings ('' for a binary format: a workbook)."""
    syntax = BY_MEDIA_TYPE.get(media_type)
    return "" if syntax is not None and syntax.binary else data.decode("utf-8-sig", errors="replace")


def is_converted(syntax: Format) -> bool:
    """Whether files of this format are converted into the vocabulary (IATI, spreadsheets) rather than parsed as RDF."""
    return syntax.kind is Kind.RECORDS


def syntax_for_path(path: PurePath) -> Format | None:
    """The syntax a file's extension names, or None if the extension is not an RDF one."""
    return BY_EXTENSION.get(path.suffix.lower())


def syntax_for_file(path: Path) -> Format | None:
    """The syntax of a file on disk: by its extension, and for .xml by its root element (IATI or RDF/XML)."""
    syntax = syntax_for_path(path)
    if syntax is RDFXML and path.suffix.lower() == ".xml":
        with path.open("rb") as file:
            return IATI if is_iati(file.read(4096)) else RDFXML
    return syntax


_FIRST_ELEMENT = re.compile(r"<(?!\?|!)([A-Za-z_][\w.:-]*)")


def is_iati(head: bytes) -> bool:
    """Whether the start of an XML document shows an <iati-activities> root (to tell IATI files from RDF/XML)."""
    match = _FIRST_ELEMENT.search(head[:4096].decode("utf-8", "replace"))
    return match is not None and match.group(1) == "iati-activities"
