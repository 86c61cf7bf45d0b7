"""The RDF syntaxes the project reads (files, submissions), looked up by name, extension or media type.

The syntaxes themselves are entries of the one format registry (server.formats.registry).
"""

import re
from pathlib import Path, PurePath

from server.formats.registry import IATI, RDFXML, READABLE_SYNTAXES, Format

SYNTAXES: tuple[Format, ...] = READABLE_SYNTAXES
BY_NAME: dict[str, Format] = {syntax.name: syntax for syntax in SYNTAXES}
BY_EXTENSION: dict[str, Format] = {ext: syntax for syntax in SYNTAXES for ext in syntax.extensions}


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
