"""The RDF syntaxes the project reads: one registry, used by the CLI and (later) the server."""

from dataclasses import dataclass
from pathlib import PurePath

import pyoxigraph as ox


@dataclass(frozen=True)
class RdfSyntax:
    """One RDF syntax: its short name, parser format, file extensions and media types."""

    name: str
    oxigraph_format: ox.RdfFormat
    extensions: tuple[str, ...]
    media_types: tuple[str, ...]


SYNTAXES: tuple[RdfSyntax, ...] = (
    RdfSyntax("turtle", ox.RdfFormat.TURTLE, (".ttl",), ("text/turtle", "application/x-turtle")),
    RdfSyntax("trig", ox.RdfFormat.TRIG, (".trig",), ("application/trig",)),
    RdfSyntax("ntriples", ox.RdfFormat.N_TRIPLES, (".nt",), ("application/n-triples",)),
    RdfSyntax("nquads", ox.RdfFormat.N_QUADS, (".nq",), ("application/n-quads",)),
    RdfSyntax("jsonld", ox.RdfFormat.JSON_LD, (".jsonld", ".json"), ("application/ld+json",)),
    RdfSyntax("rdfxml", ox.RdfFormat.RDF_XML, (".rdf", ".owl", ".xml"), ("application/rdf+xml",)),
)

BY_NAME: dict[str, RdfSyntax] = {syntax.name: syntax for syntax in SYNTAXES}
BY_EXTENSION: dict[str, RdfSyntax] = {ext: syntax for syntax in SYNTAXES for ext in syntax.extensions}


def syntax_for_path(path: PurePath) -> RdfSyntax | None:
    """The syntax a file's extension names, or None if the extension is not an RDF one."""
    return BY_EXTENSION.get(path.suffix.lower())
