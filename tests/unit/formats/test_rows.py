"""The `rows` form of a term: what a script reading JSON rows gets for each kind of value."""

import pyoxigraph as ox
import pytest

from server.formats.rows import plain_value

XSD = "http://www.w3.org/2001/XMLSchema#"


def _typed(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


@pytest.mark.parametrize(("term", "expected"), [
    (ox.NamedNode("https://example.org/a"), "https://example.org/a"),
    (ox.BlankNode("b0"), "_:b0"),
    (ox.Literal("plain"), "plain"),
    (ox.Literal("한국", language="ko"), "한국"),
    (_typed("42", "integer"), 42),
    (_typed("-7", "int"), -7),
    (_typed("1.0", "decimal"), 1),
    (_typed("-.5", "decimal"), -0.5),
    (_typed("2.5", "double"), 2.5),
    (_typed("1E3", "float"), 1000.0),
    (_typed("true", "boolean"), True),
    (_typed("0", "boolean"), False),
    (_typed("2019", "gYear"), "2019"),
    # Values with no JSON number keep their text: ill-typed, infinite, not a number, past a double's range.
    (_typed("forty", "integer"), "forty"),
    (_typed("INF", "double"), "INF"),
    (_typed("NaN", "float"), "NaN"),
    (_typed("1e400", "double"), "1e400"),
    # Not xsd:decimal's lexical form: an exponent here would otherwise build an integer of a billion digits.
    (_typed("1e999999999", "decimal"), "1e999999999"),
    (_typed("9" * 5000, "integer"), "9" * 5000),
])
def test_plain_values(term: object, expected: object) -> None:
    value = plain_value(term)  # type: ignore[arg-type]
    assert value == expected and type(value) is type(expected)
