"""The project's own graphs (ontology, shapes, bundled data), read with the safe parser."""

from functools import lru_cache
from pathlib import Path

from rdflib import Graph

from server.rdf.parsing import ParsedDocument, parse_rdf
from server.rdf.syntaxes import BY_NAME


def turtle_files(folder: Path) -> list[Path]:
    """The Turtle files directly in a folder, sorted; an error if there are none."""
    files = sorted(folder.glob("*.ttl"))
    if not files:
        raise FileNotFoundError(f"no Turtle files in {folder}")
    return files


def read_turtle(path: Path) -> ParsedDocument:
    """One of the project's own Turtle files, parsed."""
    return parse_rdf(path.read_bytes(), BY_NAME["turtle"], str(path))


@lru_cache(maxsize=8)
def load_folder(folder: Path) -> Graph:
    """The union of the Turtle files of a folder, read once per process.

    Callers must not modify the returned graph: it is shared.
    """
    graph = Graph()
    for path in turtle_files(folder):
        graph += read_turtle(path).graph
    return graph
