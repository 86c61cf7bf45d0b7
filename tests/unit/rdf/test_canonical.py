"""The canonical form a submitted document is validated and stored in: the store's own forms of literals (so a value
written another way never counts as a second one), strings as plain literals (pyshacl compares them with the
shapes' plain ones), and the N-Triples sorted, whatever the document was read from."""

from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from server.exchange.inputs import read_input
from server.namespaces import XSD
from server.rdf.canonical import canonical
from server.rdf.syntaxes import BY_NAME, syntax_for_file

EX = "https://example.org/"
TURTLE = b"""@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://example.org/s> <https://example.org/a> "1200000.0"^^xsd:decimal, "1.00"^^xsd:decimal, "x"^^xsd:string,
    "Y"@EN-gb, "abc"^^xsd:integer, "01"^^xsd:integer, "P36M"^^xsd:duration, "1"^^xsd:boolean .
_:when <https://example.org/a> "2020-01-01T00:00:00.000Z"^^xsd:dateTime .
"""


def test_literals_take_the_stores_form_and_strings_are_plain() -> None:
    document = read_input(TURTLE, BY_NAME["turtle"], "t.ttl")
    document.graph.add((URIRef(EX + "s"), URIRef(EX + "b"), Literal("typed", datatype=URIRef(XSD + "string"))))
    result, ntriples = canonical(document)
    assert ntriples.decode().splitlines() == [
        f'<{EX}s> <{EX}a> "1"^^<{XSD}decimal> .',
        f'<{EX}s> <{EX}a> "1"^^<{XSD}integer> .',
        f'<{EX}s> <{EX}a> "1200000"^^<{XSD}decimal> .',
        f'<{EX}s> <{EX}a> "P3Y"^^<{XSD}duration> .',
        f'<{EX}s> <{EX}a> "Y"@en-gb .',
        f'<{EX}s> <{EX}a> "abc"^^<{XSD}integer> .',  # ill-typed: kept as written, as the store keeps it
        f'<{EX}s> <{EX}a> "true"^^<{XSD}boolean> .',
        f'<{EX}s> <{EX}a> "x" .',
        f'<{EX}s> <{EX}b> "typed" .',
        f'_:when <{EX}a> "2020-01-01T00:00:00Z"^^<{XSD}dateTime> .',
    ]
    # The graph validated is the one stored: what its N-Triples say, strings as plain literals.
    assert set(result.graph) == set(read_input(ntriples, BY_NAME["ntriples"], "canonical.nt").graph)
    assert (URIRef(EX + "s"), URIRef(EX + "b"), Literal("typed")) in result.graph


ROOT = Path(__file__).resolve().parents[3]
# Documents that read: the project's data and examples, and the fixtures meant to be valid input.
FILES = sorted(p for folder in ("data", "examples", "tests/fixtures") for p in (ROOT / folder).rglob("*")
               if p.is_file() and syntax_for_file(p) is not None
               and ("fixtures" not in p.parts or p.name.startswith("valid") or "valid" in p.parts))


def test_files_were_found() -> None:
    assert len(FILES) >= 50


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_graph_is_what_its_n_triples_say(path: Path) -> None:
    # What is validated (the graph) and what is stored (the N-Triples) are one and the same.
    document = read_input(path.read_bytes(), syntax_for_file(path), path.name)  # type: ignore[arg-type]
    result, ntriples = canonical(document)
    assert ntriples
    assert set(result.graph) == set(read_input(ntriples, BY_NAME["ntriples"], "canonical.nt").graph)
