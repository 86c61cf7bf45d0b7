"""The RDF syntaxes the project reads (files, submissions), looked up by name, extension or media type.

The syntaxes themselves are entries of the one format registry (server.formats.registry).
"""

from pathlib import PurePath

from server.formats.registry import READABLE_SYNTAXES, Format

SYNTAXES: tuple[Format, ...] = READABLE_SYNTAXES
BY_NAME: dict[str, Format] = {syntax.name: syntax for syntax in SYNTAXES}
BY_EXTENSION: dict[str, Format] = {ext: syntax for syntax in SYNTAXES for ext in syntax.extensions}


def syntax_for_path(path: PurePath) -> Format | None:
    """The syntax a file's extension names, or None if the extension is not an RDF one."""
    return BY_EXTENSION.get(path.suffix.lower())
